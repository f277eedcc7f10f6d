"""The staff UI in a real Chromium: sign in, search, add, subscribe, import, and the viewer's view."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from maillist.extensions import db
from maillist.models import Member, Subscription
from maillist.models.types import utcnow
from tests import helpers
from tests.system.browser import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def backend():
    """Browser tests run on SQLite; the views under them run on both databases elsewhere."""
    return "sqlite"


def keep_marker(page):
    """Set a value that a full page load would wipe, to prove htmx swapped in place."""
    page.evaluate("window.__noReload = true")


def not_reloaded(page):
    return page.evaluate("window.__noReload === true")


def test_sign_in_and_out(chromium, live_url, app):
    helpers.make_user("boss@example.org", "admin", "a long enough password")
    page = chromium.new_page(base_url=live_url)
    page.goto("/members/")
    expect(page).to_have_url(f"{live_url}/login?next=/members/?")
    page.get_by_label("Email").fill("boss@example.org")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid email or password.")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.close()


def test_search_as_you_type_without_reload(browse):
    helpers.make_member("ann@example.org", "Ann Archer")
    helpers.make_member("bob@example.org", "Bob Baker")
    page = browse("viewer")
    keep_marker(page)
    page.get_by_label("Search").fill("bak")
    expect(page.locator("#members-table tbody tr")).to_have_count(1)
    expect(page.locator("#members-table")).to_contain_text("bob@example.org")
    expect(page).to_have_url(re.compile(r"q=bak"))
    page.get_by_label("Bounce status").select_option("hard")
    expect(page.locator("#members-table")).to_contain_text("No members found.")
    assert not_reloaded(page)


def test_add_member_in_modal_and_duplicate_error(browse):
    helpers.make_member("ann@example.org", "Ann")
    page = browse("operator")
    keep_marker(page)
    page.get_by_role("link", name="Add member").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Email").fill("ANN@example.org")
    dialog.get_by_label("Name").fill("Second Ann")
    dialog.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text("already exists")
    expect(page.get_by_role("dialog").get_by_label("Name")).to_have_value("Second Ann")
    page.get_by_role("dialog").get_by_label("Email").fill("cat@example.org")
    page.get_by_role("dialog").get_by_role("button", name="Add member").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text("Added cat@example.org.")
    expect(page.locator("#members-table")).to_contain_text("cat@example.org")
    assert not_reloaded(page)
    assert db.session.scalar(select(Member.name).where(Member.email == "ann@example.org")) == "Ann"


def test_escape_closes_modal_and_returns_focus(browse):
    helpers.make_member("ann@example.org")
    page = browse("operator")
    opener = page.get_by_role("link", name="Add member")
    opener.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(opener).to_be_focused()


def test_a_row_menu_closes_on_escape_outside_clicks_and_another_menu(browse):
    ann, bob = helpers.make_member("ann@example.org", "Ann"), helpers.make_member("bob@example.org", "Bob")
    page = browse("operator")
    ann_menu, bob_menu = page.locator(f"#member-{ann.id} details.row-menu"), page.locator(f"#member-{bob.id} details.row-menu")
    ann_menu.get_by_text("Actions").click()
    expect(ann_menu).to_have_attribute("open", "")
    page.keyboard.press("Tab")  # into the menu
    page.keyboard.press("Escape")
    expect(ann_menu).not_to_have_attribute("open", "")
    expect(ann_menu.locator("summary")).to_be_focused()
    ann_menu.get_by_text("Actions").click()
    page.get_by_role("heading", name="Members").click()  # anywhere outside
    expect(ann_menu).not_to_have_attribute("open", "")
    ann_menu.get_by_text("Actions").click()
    bob_menu.get_by_text("Actions").click()
    expect(ann_menu).not_to_have_attribute("open", "")
    expect(bob_menu).to_have_attribute("open", "")


def test_subscribe_member_to_list_from_row(browse):
    club = helpers.make_list("club@example.org", "Club")
    ann = helpers.make_member("ann@example.org", "Ann")
    page = browse("operator")
    keep_marker(page)
    row = page.locator(f"#member-{ann.id}")
    row.get_by_text("Actions").click()
    row.get_by_role("link", name="Lists").click()
    page.get_by_role("dialog").get_by_label("Club").check()
    page.get_by_role("dialog").get_by_role("button", name="Save lists").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(f"#member-{ann.id}")).to_contain_text("club@example.org")
    assert not_reloaded(page)
    assert db.session.scalars(select(Subscription.list_id)).all() == [club.id]


def test_subscribe_on_list_page_and_deactivate_member(browse):
    club = helpers.make_list("club@example.org", "Club")
    ann = helpers.make_member("ann@example.org", "Ann")
    page = browse("operator")
    page.get_by_role("link", name="Lists").first.click()
    page.get_by_role("link", name="Club").click()
    page.get_by_label("Subscribe members").fill("ann@example.org")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.locator("#subscribers")).to_contain_text("Subscribed 1: ann@example.org.")
    expect(page.locator(f"#subscriber-{ann.id}")).to_be_visible()
    page.goto("/members/")
    page.locator(f"#member-{ann.id}").get_by_text("Actions").click()
    page.locator(f"#member-{ann.id}").get_by_role("button", name="Deactivate").click()
    expect(page.locator(f"#member-{ann.id}")).to_contain_text("inactive")
    assert club.id


def test_import_csv_with_preview(browse, tmp_path):
    helpers.make_list("club@example.org", "Club")
    csv_file = tmp_path / "members.csv"
    csv_file.write_text("name,email,lists\nAnn,ann@example.org,club@example.org\nBad,not-an-address,\n")
    page = browse("operator")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#import-result")).to_contain_text("1 to add")
    expect(page.locator("#import-result")).to_contain_text("bad address 'not-an-address'")
    assert db.session.scalar(select(Member).where(Member.email == "ann@example.org")) is None
    page.get_by_role("button", name="Import 1 row").click()
    expect(page.locator("#import-result")).to_contain_text("1 added")
    screenshot(page, "csv-import-report")
    assert db.session.scalar(select(Member.name).where(Member.email == "ann@example.org")) == "Ann"


def test_viewer_sees_no_write_controls(browse):
    club = helpers.make_list("club@example.org", "Club")
    helpers.make_member("ann@example.org", "Ann", lists=[club])
    page = browse("viewer")
    expect(page.locator("#members-table")).to_contain_text("ann@example.org")
    for name in ("Add member", "Import CSV", "Edit", "Lists"):
        expect(page.locator("main").get_by_role("link", name=name, exact=True)).to_have_count(0)
    for name in ("Deactivate", "Delete"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    page.goto(f"/lists/{club.id}")
    expect(page.get_by_role("button", name="Subscribe")).to_have_count(0)
    expect(page.get_by_role("button", name="Unsubscribe")).to_have_count(0)
    screenshot(page, "viewer-list-page")


def test_phone_width_is_usable(browse):
    helpers.make_member("ann@example.org", "Ann")
    page = browse("operator")
    page.set_viewport_size({"width": 390, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"page is {width}px wide on a 390px screen"
    expect(page.get_by_role("link", name="Add member")).to_be_visible()
    screenshot(page, "members-phone")


def test_on_a_phone_a_folded_filter_panel_says_how_many_filters_are_on(browse):
    helpers.make_member("ann@example.org", "Ann")
    helpers.make_member("bob@example.org", "Bob", bounce_status="soft", bounce_count=3)
    page = browse("operator")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/members/?status=soft")
    summary = page.locator("#member-filters details.more-filters > summary")
    expect(summary).to_have_text("Filters and sorting (1 on)")
    expect(page.locator("#member-filters details.more-filters")).not_to_have_attribute("open", "")  # folded
    summary.click()
    page.get_by_label("State").select_option("active")
    expect(summary).to_have_text("Filters and sorting (2 on)")


def test_on_a_phone_the_chart_fits_with_its_newest_days_axis_and_readable_labels(browse):
    member = helpers.make_member("ann@example.org", "Ann")
    helpers.make_bounce(member, "Permanent", occurred_at=utcnow() - timedelta(hours=1))
    page = browse("viewer")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/bounces/")
    wrap = page.locator(".chart-wrap")
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth + 1"), "the chart scrolls sideways"
    sizes = page.locator(".chart .axis").evaluate_all("labels => labels.map(l => l.getBoundingClientRect().height)")
    assert sizes and min(sizes) >= 10, f"axis labels {sizes} px high"
    assert wrap.evaluate("w => w.getBoundingClientRect().right <= window.innerWidth")
