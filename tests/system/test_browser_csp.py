"""The Content-Security-Policy holds in a real Chromium: every page and dialog works with no violation."""

import pytest
from playwright.sync_api import expect

from tests import helpers

pytestmark = pytest.mark.browser


@pytest.fixture
def backend():
    """Browser tests run on SQLite; the views under them run on both databases elsewhere."""
    return "sqlite"


def test_the_violation_detector_sees_an_inline_script(chromium, live_url, app):
    """The check the other browser tests rely on: an inline script is refused and reported."""
    from tests.system.conftest import watch_csp

    violations = []
    context = chromium.new_context(base_url=live_url)
    watch_csp(context, violations)
    page = context.new_page()
    page.goto("/login")
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1"; document.head.append(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran === undefined")
    assert violations and "script-src" in violations[0]
    context.close()


def test_every_page_and_dialog_without_a_violation(browse, csp_violations):
    club = helpers.make_list("club@example.org")
    helpers.hard_member("hard@example.org")
    helpers.make_member("ann@example.org", "Ann", lists=[club])
    page = browse("admin")
    for path, heading in [("/members/", "Members"), ("/lists/", "Mailing lists"), (f"/lists/{club.id}", "Club"),
                          ("/bounces/", "Bounces and complaints"), ("/users/", "Staff users"), ("/members/import", "Import"),
                          ("/account/password", "password")]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1).first).to_contain_text(heading)
    page.goto("/members/")
    for button in ("Add member", ):
        page.get_by_role("link", name=button).click()
        expect(page.locator("dialog[open]")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("dialog[open]")).to_have_count(0)
    row = page.locator("#members-table tr", has_text="hard@example.org")
    row.get_by_role("link", name="Bounces").click()
    expect(page.locator("dialog[open]")).to_contain_text("Permanent bounce")
    page.get_by_role("button", name="Reset Bounce Status").click()
    page.locator("dialog.confirm-dialog").get_by_role("button", name="Confirm").click()  # the page's own confirmation
    expect(page.locator("dialog[open]")).to_contain_text("Bounce status reset")
    page.keyboard.press("Escape")
    page.get_by_label("Search").fill("ann")
    expect(page.locator("#members-table tbody tr")).to_have_count(1)
    page.goto(f"/lists/{club.id}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete list").click()
    expect(page.get_by_role("heading", level=1).first).to_contain_text("Club")
    assert csp_violations == []
