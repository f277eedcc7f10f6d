"""axe-core on every page and dialog, at desktop and phone sizes, light and dark, in a real Chromium: no violation.

axe-core comes from npm (`.ci/run` installs it into .ci/node_modules; MAILLIST_AXE names another
copy) and is read from disk: nothing is fetched while the tests run. It is run through
Playwright's evaluate, which the pages' Content-Security-Policy does not apply to.
"""

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from maillist.lists import unsubscribe as one_click
from tests import helpers
from tests.helpers import hard_member, need

pytestmark = pytest.mark.browser

AXE = Path(os.environ.get("MAILLIST_AXE", helpers.ROOT / ".ci" / "node_modules" / "axe-core" / "axe.min.js"))
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def axe():
    need(AXE.exists(), f"no axe-core at {AXE} (npm install --prefix .ci axe-core)")
    return AXE.read_text()


@pytest.fixture
def data():
    club = helpers.make_list("club@example.org", "Club")
    ann = helpers.make_member("ann@example.org", "Ann Archer", lists=[club])
    gone = hard_member("gone@example.org")
    return club, gone, f"/unsubscribe/{one_click.token(club.id, ann.id, ann.email)}"


def violations(page, axe):
    """axe's violations on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe)
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})" for v in found]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", sorted(SIZES))
def test_pages_and_dialogs_have_no_violations(browse, data, axe, size, scheme):
    club, gone, unsubscribe_path = data
    page = browse("admin")
    page.set_viewport_size(SIZES[size])
    page.emulate_media(color_scheme=scheme)
    found = {}
    for path in ("/members/", "/lists/", f"/lists/{club.id}", "/bounces/", "/bounces/status", "/users/",
                 "/members/import", "/account/password"):
        page.goto(path)
        found[path] = violations(page, axe)
    page.goto("/members/")
    for row_link, dialog_name in ((f"#member-{gone.id} >> text=Bounces", "history"), ("text=Add member", "add member")):
        page.locator(row_link).first.click()
        expect(page.get_by_role("dialog")).to_be_visible()
        found[f"dialog: {dialog_name}"] = violations(page, axe)
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)
    page.locator(f"#member-{gone.id}").get_by_role("checkbox").check()
    if size == "phone":  # the bulk actions are folded there, like the filters
        page.get_by_text("Act on selected members").click()
    page.get_by_label("Bulk action").select_option("reset")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("dialog")).to_contain_text("Reset the bounce status of 1 member?")
    found["dialog: bulk confirmation"] = violations(page, axe)
    page.keyboard.press("Escape")
    page.goto(unsubscribe_path)  # the public one-click unsubscribe page, and what its button leads to
    found["unsubscribe"] = violations(page, axe)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="Unsubscribed")).to_be_visible()
    found["unsubscribed"] = violations(page, axe)
    found = {where: lines for where, lines in found.items() if lines}
    assert not found, json.dumps(found, indent=1)


def test_row_controls_name_their_member(browse, data):
    page = browse("operator")
    row = page.locator("#members-table tbody tr", has_text="ann@example.org")
    row.locator("summary").click()  # open the row's menu
    expect(row.locator("summary")).to_have_accessible_name("Actions for Ann Archer")
    expect(row.get_by_role("checkbox")).to_have_accessible_name("Select Ann Archer")
    for role, name in (("link", "Bounces of Ann Archer"), ("link", "Edit Ann Archer"), ("link", "Lists of Ann Archer"),
                       ("button", "Deactivate Ann Archer"), ("button", "Delete Ann Archer")):
        expect(row.get_by_role(role, name=name, exact=True)).to_be_visible()


def test_dark_means_dark(browse, data):
    page = browse("viewer")
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(18, 22, 26)"
    page.emulate_media(color_scheme="light")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 248, 250)"
