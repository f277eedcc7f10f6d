"""Why a member is inactive, at a glance: the row says what stopped their mail, complaints have their own
badge and filter, and activating a hard-bounced member points to Reset instead of contradicting Postfix."""

import pytest
from sqlalchemy import select

from maillist.extensions import db
from maillist.models import Member
from tests import helpers

WEBHOOK = {"ENABLE_SNS_WEBHOOKS": True, "ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}


@pytest.fixture
def app_overrides():
    return WEBHOOK


def why(email):
    db.session.rollback()
    return db.session.execute(select(Member.active, Member.deactivated_by).where(Member.email == email)).one()


def test_each_cause_is_recorded_and_shown(client, aws, login):
    for email in ("gone@example.org", "angry@example.org", "paused@example.org", "fine@example.org"):
        helpers.make_member(email)
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["gone@example.org"])))
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Complaint", ["angry@example.org"])))
    staff = login("operator")
    paused = db.session.scalar(select(Member.id).where(Member.email == "paused@example.org"))
    staff.post_form(f"/members/{paused}/active", {})
    assert why("gone@example.org") == (False, "hard-bounce")
    assert why("angry@example.org") == (False, "complaint")
    assert why("paused@example.org") == (False, "staff")
    page = staff.get("/members/").get_data(as_text=True)
    assert "(hard bounce)" in page and "(complaint)" in page and "(staff)" in page
    assert page.count('class="badge badge-complaint"') == 1
    complained = staff.get("/members/", query_string={"status": "complaint"}).get_data(as_text=True)
    assert "angry@example.org" in complained and "gone@example.org" not in complained and "1 member" in complained
    history = staff.get(f"/members/{paused}/bounces").get_data(as_text=True)
    assert "Staff change" in history and f"deactivated by {staff.user_email}" in history
    staff.post_form(f"/members/{paused}/active", {})
    assert why("paused@example.org") == (True, None)
    assert f"reactivated by {staff.user_email}" in staff.get(f"/members/{paused}/bounces").get_data(as_text=True)


def test_a_later_bounce_does_not_rewrite_why_a_member_stopped(client, aws):
    helpers.make_member("ann@example.org")
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Complaint", ["ann@example.org"])))
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"])))
    assert why("ann@example.org") == (False, "complaint")


def test_activating_a_hard_bounced_member_points_to_reset(client, aws, login):
    helpers.make_member("gone@example.org")
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["gone@example.org"])))
    member_id = db.session.scalar(select(Member.id))
    staff = login("operator")
    answer = staff.post_form(f"/members/{member_id}/active", {}, follow_redirects=True).get_data(as_text=True)
    assert "is hard-bounced, so activating alone would send nothing" in answer and "Reset Bounce Status" in answer
    assert why("gone@example.org") == (False, "hard-bounce")
    htmx = staff.post_form(f"/members/{member_id}/active", {}, headers=helpers.HX)
    assert "activating alone would send nothing" in htmx.get_data(as_text=True)
    staff.post_form(f"/members/{member_id}/bounces/reset", {"confirmed": "yes"})
    assert why("gone@example.org") == (True, None)


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, SOFT_BOUNCE_ACTION="deactivate")])
def test_soft_bounces_are_a_cause_too(client, aws, app_overrides):
    helpers.make_member("ann@example.org")
    for _ in range(3):
        helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient")))
    assert why("ann@example.org") == (False, "soft-bounce")
