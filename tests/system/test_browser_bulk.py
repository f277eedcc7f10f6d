"""Bulk work in a real Chromium: tick rows (or the whole page, or all matching), apply, confirm in
the page's own dialog, read the answer with its Undo, and see the table and its count follow."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import Member, Subscription
from tests import helpers
from tests.system.browser import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def people():
    club = helpers.make_list("club@example.org", "Club")
    helpers.make_people()
    return club


def active_emails():
    db.session.expire_all()
    return sorted(db.session.scalars(select(Member.email).where(Member.active.is_(True))))


def test_tick_the_page_deactivate_confirm_and_undo(browse, people):
    page = browse("operator")
    page.get_by_label("Search").fill("walsh")
    expect(page.locator("#members-table tbody tr")).to_have_count(2)
    page.get_by_label("Select every member on this page").check()
    expect(page.get_by_label("Select Ann Walsh")).to_be_checked()
    page.get_by_label("Bulk action").select_option("deactivate")
    page.get_by_role("button", name="Apply").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Deactivate 2 members?")
    expect(dialog.get_by_role("link", name="Cancel")).to_be_focused()
    screenshot(page, "bulk-confirmation")
    dialog.get_by_role("button", name="Deactivate").click()
    status = page.locator("#flashes")
    expect(status).to_contain_text("Deactivated 2 members.")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#members-table tbody tr", has_text="inactive")).to_have_count(2)
    expect(page.get_by_label("Select Ann Walsh")).not_to_be_checked()  # the table came back fresh
    assert active_emails() == ["cy@example.org"]
    screenshot(page, "bulk-done-with-undo")
    status.get_by_role("button", name="Undo").click()
    expect(status).to_contain_text("Activated 2 members.")
    expect(page.locator("#members-table tbody tr", has_text="inactive")).to_have_count(0)
    assert active_emails() == ["ann@example.org", "bob@example.org", "cy@example.org"]


def test_all_matching_subscribes_beyond_the_page_and_cancel_changes_nothing(browse, people):
    page = browse("operator")
    page.get_by_label("Per page").select_option("25")
    # The table comes back for the new page size: tick "all matching" in the table that stays.
    expect(page).to_have_url(re.compile(r"per_page=25"))
    page.get_by_label("All 3 matching").check()
    page.get_by_label("Bulk action").select_option("subscribe")
    page.get_by_label("List (to subscribe or unsubscribe)").select_option(label="club@example.org")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("dialog")).to_contain_text("Subscribe 3 members to club@example.org?")
    page.get_by_role("dialog").get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("dialog").get_by_role("button", name="Subscribe to list").click()
    expect(page.locator("#flashes")).to_contain_text("Subscribed 3 members to club@example.org.")
    expect(page.locator("#members-table tbody tr", has_text="club@example.org")).to_have_count(3)


def test_ticks_a_new_search_clears_are_said_to_be_cleared(browse, people):
    page = browse("operator")
    page.get_by_label("Select Ann Walsh").check()
    page.get_by_label("Select Bob Walsh").check()
    page.get_by_label("Search").fill("walsh")
    expect(page.locator("#flashes")).to_contain_text("2 ticks were cleared: the table changed.")
    expect(page.get_by_label("Select Ann Walsh")).not_to_be_checked()


def test_nothing_ticked_is_said_in_the_status_region(browse, people):
    page = browse("operator")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#flashes")).to_contain_text("Tick the members to act on")
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_a_viewer_exports_the_ticked_rows(browse, people):
    page = browse("viewer")
    expect(page.get_by_role("button", name="Apply")).to_have_count(0)
    page.get_by_label("Select Cy Young").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export selection").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert "cy@example.org" in text and "ann@example.org" not in text
