"""What the screen shows and what the URL and the data say agree, in a real Chromium: export after a
filter, sorting kept while typing, Back/Forward, history restores, typing replaces the entry."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests import helpers

pytestmark = pytest.mark.browser


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def people():
    helpers.make_people()


def query_of(page):
    return {key: values[0] for key, values in parse_qs(urlparse(page.url).query).items()}


def test_export_follows_the_filter(browse, people):
    page = browse("viewer")
    page.get_by_label("Search").fill("walsh")
    expect(page.locator("#members-table tbody tr")).to_have_count(2)
    expect(page.locator("#export-link")).to_have_attribute("href", re.compile(r"q=walsh"))
    with page.expect_download() as download:
        page.locator("#export-link").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert "ann@example.org" in text and "bob@example.org" in text and "cy@example.org" not in text


def test_sorting_is_kept_while_typing(browse, people):
    page = browse("viewer")
    header = page.locator("#members-table th", has_text="Email")
    expect(header).to_have_attribute("aria-sort", "ascending")  # the default order
    header.get_by_role("link").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#members-table tbody tr").first).to_contain_text("cy@example.org")
    page.get_by_label("Search").fill("walsh")
    expect(page.locator("#members-table tbody tr")).to_have_count(2)
    expect(page.locator("#members-table tbody tr").first).to_contain_text("bob@example.org")
    assert query_of(page)["sort"] == "email" and query_of(page)["dir"] == "desc"


def test_typing_replaces_the_entry_and_drops_empty_parameters(browse, people):
    page = browse("viewer")
    length = page.evaluate("history.length")
    page.get_by_label("Search").press_sequentially("walsh", delay=350)  # a pause after every key
    expect(page.locator("#members-table tbody tr")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"q=walsh"))
    assert page.evaluate("history.length") == length, "no history entry per pause"
    assert "active" not in query_of(page) and "status" not in query_of(page) and "list" not in query_of(page)


def test_back_and_forward_show_form_and_table_in_agreement(browse, people):
    page = browse("viewer")
    page.get_by_label("Search").fill("walsh")
    expect(page.locator("#members-table tbody tr")).to_have_count(2)
    page.get_by_label("Bounce status").select_option("clean")
    expect(page).to_have_url(re.compile(r"status=clean"))
    page.get_by_role("link", name="Lists", exact=True).click()
    page.wait_for_url("**/lists/")
    page.go_back()
    expect(page.locator("#members-table tbody tr")).to_have_count(2)
    expect(page.get_by_label("Search")).to_have_value("walsh")
    expect(page.get_by_label("Bounce status")).to_have_value("clean")
    expect(page.locator("#member-count")).to_contain_text("matching “walsh”")
    page.go_forward()
    page.wait_for_url("**/lists/")


def test_a_history_restore_gets_the_whole_page(browse, people, live_url):
    page = browse("viewer")
    answer = page.request.get(f"{live_url}/members/?q=walsh", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    body = answer.text()
    assert "<nav" in body and "<h1>Members</h1>" in body and 'id="member-filters"' in body
    fragment = page.request.get(f"{live_url}/members/?q=walsh", headers={"HX-Request": "true"}).text()
    assert "<h1>Members</h1>" not in fragment and 'hx-swap-oob="true"' in fragment


def test_dashboard_paging_is_in_the_url(browse):
    member = helpers.make_member("ann@example.org")
    for _ in range(60):
        helpers.make_bounce(member, "Transient")
    page = browse("viewer")
    page.goto("/bounces/")
    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"page=2"))


def test_on_a_phone_members_come_first_and_sorting_has_its_own_control(browse, people):
    page = browse("viewer")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/members/")
    expect(page.get_by_label("Bounce status")).to_be_hidden()  # folded away
    first_row = page.locator("#members-table tbody tr").first.bounding_box()
    assert first_row["y"] < 400, first_row
    page.get_by_text("Filters and sorting").click()
    page.get_by_label("Sort").select_option("-email")
    expect(page.locator("#members-table tbody tr").first).to_contain_text("cy@example.org")
    assert query_of(page)["sort"] == "email" and query_of(page)["dir"] == "desc"
    for target in (page.get_by_role("button", name="Sign out"), page.get_by_role("link", name="Lists", exact=True)):
        box = target.bounding_box()
        assert box["height"] >= 24 and box["width"] >= 24, box


def test_the_sort_control_is_not_shown_on_a_desktop(browse, people):
    page = browse("viewer")
    expect(page.get_by_label("Sort")).to_be_hidden()
    expect(page.get_by_label("Bounce status")).to_be_visible()


def test_every_row_action_answers_in_one_place_with_undo_and_focus(browse, people):
    page = browse("operator")
    row = page.locator("#members-table tbody tr", has_text="ann@example.org")
    row.get_by_text("Actions").click()  # the row's folded menu
    row.get_by_role("button", name="Deactivate").click()
    status = page.locator("#flashes")
    expect(status).to_contain_text("ann@example.org is now inactive.")
    expect(status).to_be_focused()
    status.get_by_role("button", name="Undo").click()
    expect(status).to_contain_text("ann@example.org is now active.")
    expect(status).not_to_contain_text("inactive.")  # the new message replaces the old one
    expect(row.locator('td[data-label="State"]')).to_have_text("active")


def test_a_dialog_opens_on_its_first_field(browse, people):
    page = browse("operator")
    page.get_by_role("link", name="Add member").click()
    expect(page.get_by_role("dialog").get_by_label("Email")).to_be_focused()


def test_a_confirmation_asks_in_the_page_and_cancel_changes_nothing(browse, people):
    page = browse("operator")
    row = page.locator("#members-table tbody tr", has_text="ann@example.org")
    row.get_by_text("Actions").click()
    row.get_by_role("button", name="Delete").click()
    question = page.locator("dialog.confirm-dialog")
    expect(question).to_contain_text("Delete ann@example.org?")
    expect(question.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(question).to_have_count(0)
    expect(row).to_be_visible()
    row.get_by_role("button", name="Delete").click()  # the menu is still open
    page.locator("dialog.confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.locator("#flashes")).to_contain_text("Deleted ann@example.org.")
    expect(page.locator("#members-table tbody tr", has_text="ann@example.org")).to_have_count(0)


def test_a_dialog_reopens_on_the_field_to_fix(browse, people):
    page = browse("operator")
    page.goto("/lists/")
    page.get_by_role("link", name="Create list").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Address", exact=True).fill("club@example.org")
    dialog.get_by_label("Name", exact=True).fill("Club")
    dialog.get_by_label("Owners, one address per line").fill("not an address")
    dialog.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("dialog")).to_contain_text("not an address")
    expect(page.get_by_role("dialog").get_by_label("Owners, one address per line")).to_be_focused()


def test_a_row_action_under_a_filter_updates_rows_and_count(browse, people):
    page = browse("operator")
    page.get_by_label("State").select_option("active")
    expect(page.locator("#member-count")).to_have_text("3 members")
    # Every swap the filter started has landed (on a busy machine the table may follow the count).
    page.wait_for_load_state("networkidle")
    row = page.locator("#members-table tbody tr", has_text="ann@example.org")
    row.get_by_text("Actions").click()
    expect(row.get_by_role("button", name="Deactivate")).to_be_visible()
    row.get_by_role("button", name="Deactivate").click()
    expect(page.locator("#flashes")).to_contain_text("ann@example.org is now inactive.")
    expect(page.locator("#member-count")).to_have_text("2 members")  # she left the "active" filter
    expect(page.locator("#members-table tbody tr", has_text="ann@example.org")).to_have_count(0)
    expect(page.locator("#flashes")).to_be_focused()
