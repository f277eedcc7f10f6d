"""The bounce UI in a real Chromium: badges, the history modal, reset in place, the viewer's view."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from maillist.models.types import utcnow
from tests import helpers
from tests.system.browser import screenshot
from tests.helpers import hard_member

pytestmark = pytest.mark.browser


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def bounced():
    """A clean, a soft-bounced and a hard-bounced member."""
    helpers.make_member("clean@example.org", "Clara Clean")
    soft = helpers.make_member("soft@example.org", "Sam Soft", bounce_status="soft", bounce_count=3,
                                 last_bounce_at=utcnow() - timedelta(hours=5))
    for hours in (30, 20, 5):
        helpers.make_bounce(soft, "Transient", bounce_subtype="MailboxFull", status="4.2.2",
                              diagnostic_code="smtp; 452 4.2.2 mailbox full", occurred_at=utcnow() - timedelta(hours=hours))
    return hard_member("hard@example.org"), soft


def test_operator_resets_a_hard_bounced_member_in_place(browse, bounced):
    hard, _ = bounced
    page = browse("operator")
    page.evaluate("window.__noReload = true")
    row = page.locator(f"#member-{hard.id}")
    expect(row.locator(".badge-hard")).to_have_text("⚠ hard · 2")
    expect(page.locator(".badge-soft")).to_contain_text("soft · 3")
    screenshot(page, "members-with-bounce-badges")
    row.get_by_role("link", name="Bounces").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Permanent bounce")
    expect(dialog).to_contain_text("550 5.1.1 user unknown")
    expect(dialog).to_contain_text("Complaint")
    screenshot(page, "bounce-history-modal")
    dialog.get_by_role("button", name="Reset Bounce Status").click()
    question = page.locator("dialog.confirm-dialog")  # the page's own confirmation, saying the consequence
    expect(question).to_contain_text("The count goes to 0")
    expect(question.get_by_role("button", name="Cancel")).to_be_focused()
    question.get_by_role("button", name="Confirm").click()
    expect(dialog).to_contain_text("is active again")
    expect(dialog.locator(".flash")).to_be_focused()  # not the page: the form that had focus is gone
    expect(dialog.locator(".kind-reset")).to_have_count(1)
    expect(row.locator(".badge-hard")).to_have_count(0)
    expect(row.locator('td[data-label="State"]')).to_have_text("active")
    assert page.evaluate("window.__noReload === true")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(row.get_by_role("link", name="Bounces")).to_be_focused()


def test_viewer_sees_history_without_reset(browse, bounced):
    hard, soft = bounced
    page = browse("viewer")
    page.locator(f"#member-{soft.id}").get_by_role("link", name="Bounces").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("mailbox full")
    expect(dialog.locator("tbody tr")).to_have_count(3)
    expect(dialog.get_by_role("button", name="Reset Bounce Status")).to_have_count(0)
    dialog.get_by_role("button", name="Close").click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_dashboard_renders_chart_and_filters(browse, bounced):
    page = browse("viewer")
    page.get_by_role("link", name="Bounces", exact=True).first.click()
    expect(page.get_by_role("heading", name="Bounces and complaints")).to_be_visible()
    expect(page.locator("svg.chart rect.bar-bounce")).not_to_have_count(0)
    expect(page.locator(".figure").first).to_contain_text("unknown: no deliveries recorded")
    page.get_by_label("Type").select_option("complaint")
    expect(page.locator("#bounce-events tbody tr")).to_have_count(1)
    expect(page.locator("#bounce-events")).to_contain_text("Yahoo!-Mail-Feedback/2.0")
    screenshot(page, "bounce-dashboard")


@pytest.mark.parametrize("app_overrides", [{"ENABLE_SNS_WEBHOOKS": True, "ENABLE_BOUNCE_HANDLING": True,
                                            "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}])
def test_the_status_page_diagnoses_raw_delivery(browse, live_url, app_overrides):
    import json

    import requests

    bare_event = json.dumps(helpers.ses_identity("Bounce", ["ann@example.org"]))
    assert requests.post(f"{live_url}/webhooks/sns", data=bare_event, headers=helpers.SNS_HEADERS, timeout=10).status_code == 400
    page = browse("viewer")
    page.goto("/bounces/")
    page.get_by_role("link", name="Status").click()
    page.wait_for_url("**/bounces/status")
    attention = page.get_by_role("region", name="What needs attention")
    expect(attention).to_contain_text("Raw message delivery is on: 1 bare SES events refused this week")
    expect(attention).to_contain_text("Turn raw message delivery off")
    expect(page.locator('td[data-label="Reason"]', has_text="raw-delivery").locator("xpath=..")).to_contain_text("1")
    screenshot(page, "bounce-status-page")
