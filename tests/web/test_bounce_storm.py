"""The bounce-storm guard: a burst of permanent bounces from one domain deactivates nobody until an administrator decides."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from maillist.bounces.services import reset_bounce_status
from maillist.extensions import db
from maillist.models import AuditLog, BounceLog, StormHold
from maillist.models.types import utcnow
from tests import helpers

BLOCKLIST = "smtp; 550 5.7.1 Service unavailable, client host [54.240.1.1] blocked using a blocklist"
USER_UNKNOWN = "smtp; 550 5.1.1 user unknown"
WEBHOOK = {"ENABLE_SNS_WEBHOOKS": True, "ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}


@pytest.fixture
def app_overrides():
    return WEBHOOK


def bounce(client, email, status="5.7.1", diagnostic=BLOCKLIST, when=None):
    payload = helpers.ses_identity("Bounce", [email], bounce_type="Permanent", status=status, when=when)
    payload["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = diagnostic
    response = helpers.post_sns(client, helpers.sns_notification(payload))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def members_at(domain, count, of=40):
    """`count` members at `domain` to bounce, among `of` there (so the share rule stays quiet unless asked)."""
    members = [helpers.make_member(f"m{i:02d}@{domain}", f"Member {i}") for i in range(max(count, of))]
    return members[:count]


def states(members):
    for member in members:
        db.session.refresh(member)
    return [(m.active, m.bounce_status, m.bounce_count) for m in members]


def storm(client, members, status="5.7.1", diagnostic=BLOCKLIST):
    now = utcnow()
    for i, member in enumerate(members):
        bounce(client, member.email, status, diagnostic, when=now - timedelta(minutes=len(members) - i))


def the_hold():
    return db.session.scalar(select(StormHold))


def audit_actions():
    return db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()


def test_twelve_blocklist_bounces_open_a_hold_and_leave_everyone_active(client, aws, login):
    members = members_at("bigmail.example", 12)
    storm(client, members)
    hold = the_hold()
    assert (hold.domain, hold.reason, hold.state) == ("bigmail.example", "blocked", "open")
    # The first nine were counted as they came (a blocklist is no dead address); the tenth opened the hold.
    assert states(members) == [(True, "clean", 1)] * 9 + [(True, "clean", 0)] * 3
    held = db.session.scalars(select(BounceLog.email).where(BounceLog.held == "held").order_by(BounceLog.email)).all()
    assert held == [m.email for m in members[9:]]
    page = login("viewer").get("/bounces/").get_data(as_text=True)
    assert "Bounce storm at bigmail.example" in page and "blocked by the receiver" in page
    assert "3 members held" in page and all(m.email in page for m in members[9:])
    assert "Release: apply" not in page  # viewers see the banner, not the buttons

    admin = login("admin")
    assert "Release: apply" in admin.get("/bounces/").get_data(as_text=True)
    response = admin.post_form(f"/bounces/storms/{hold.id}/release", {})
    assert response.status_code == 303
    assert states(members) == [(True, "clean", 1)] * 12
    db.session.refresh(hold)
    assert (hold.state, hold.open_domain, hold.closed_by) == ("released", None, admin.user_email)
    assert audit_actions()[-1] == "bounce_storm.release"
    page = admin.get("/bounces/", follow_redirects=True).get_data(as_text=True)
    assert "Bounce storm at" not in page
    history = admin.get(f"/members/{members[11].id}/bounces").get_data(as_text=True)
    assert "held in a bounce storm, then released" in history


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, HARD_BOUNCE_POLICY="type")])
def test_under_the_type_policy_the_hold_undoes_earlier_deactivations_and_release_applies_them(client, aws, login, app_overrides):
    members = members_at("bigmail.example", 12)
    storm(client, members)
    assert states(members) == [(True, "clean", 1)] * 9 + [(True, "clean", 0)] * 3
    undone = db.session.scalar(select(func.count()).select_from(BounceLog).where(BounceLog.held == "undone"))
    assert undone == 9
    login("admin").post_form(f"/bounces/storms/{the_hold().id}/release", {})
    assert states(members) == [(False, "hard", 1)] * 12


def test_a_storm_of_dead_addresses_is_held_too_and_release_deactivates(client, aws, login):
    members = members_at("school.example", 10)
    storm(client, members, "5.1.1", USER_UNKNOWN)
    assert the_hold().reason == "no-such-user"
    assert states(members) == [(True, "clean", 1)] * 9 + [(True, "clean", 0)]
    login("admin").post_form(f"/bounces/storms/{the_hold().id}/release", {})
    assert states(members) == [(False, "hard", 1)] * 10


def test_dismiss_changes_no_member_and_keeps_the_history(client, aws, login):
    members = members_at("school.example", 11)
    storm(client, members, "5.1.1", USER_UNKNOWN)
    before = states(members)
    admin = login("admin")
    assert admin.post_form(f"/bounces/storms/{the_hold().id}/dismiss", {}).status_code == 303
    assert states(members) == before == [(True, "clean", 1)] * 9 + [(True, "clean", 0)] * 2
    assert the_hold().state == "dismissed" and audit_actions()[-1] == "bounce_storm.dismiss"
    assert db.session.scalar(select(func.count()).select_from(BounceLog)) == 11
    assert set(db.session.scalars(select(BounceLog.held).where(BounceLog.held.is_not(None)))) == {"dismissed"}
    # Closed twice (another tab): a clear message, nothing changes.
    again = admin.post_form(f"/bounces/storms/{the_hold().id}/release", {}, follow_redirects=True)
    assert "already released or dismissed" in again.get_data(as_text=True)
    assert states(members) == before


def test_a_new_storm_after_a_closed_hold_opens_a_new_hold(client, aws, login):
    members = members_at("bigmail.example", 10)
    storm(client, members)
    login("admin").post_form(f"/bounces/storms/{the_hold().id}/dismiss", {})
    storm(client, members)
    holds = db.session.scalars(select(StormHold).order_by(StormHold.id)).all()
    assert [h.state for h in holds] == ["dismissed", "open"]


def test_below_the_count_dead_addresses_deactivate_at_once(client, aws):
    members = members_at("school.example", 9)
    storm(client, members, "5.1.1", USER_UNKNOWN)
    assert the_hold() is None
    assert states(members) == [(False, "hard", 1)] * 9


def test_bounces_far_apart_in_time_are_no_storm(client, aws):
    members = members_at("school.example", 12)
    now = utcnow()
    for i, member in enumerate(members):
        bounce(client, member.email, "5.1.1", USER_UNKNOWN, when=now - timedelta(hours=2 * i + 1))
    assert the_hold() is None
    assert states(members) == [(False, "hard", 1)] * 12


def test_half_of_a_small_domain_is_a_storm_too(client, aws):
    members = members_at("smallco.example", 5, of=10)
    storm(client, members, "5.1.1", USER_UNKNOWN)
    assert the_hold().domain == "smallco.example"
    assert states(members) == [(True, "clean", 1)] * 4 + [(True, "clean", 0)]


def test_under_half_of_a_small_domain_is_not(client, aws):
    members = members_at("smallco.example", 5, of=11)
    storm(client, members, "5.1.1", USER_UNKNOWN)
    assert the_hold() is None and states(members) == [(False, "hard", 1)] * 5


def test_four_of_a_small_domain_are_not(client, aws):
    members = members_at("smallco.example", 4, of=4)
    storm(client, members, "5.1.1", USER_UNKNOWN)
    assert the_hold() is None and states(members) == [(False, "hard", 1)] * 4


def test_other_domains_are_not_held(client, aws):
    storm(client, members_at("bigmail.example", 10))
    elsewhere = helpers.make_member("gone@school.example")
    bounce(client, "gone@school.example", "5.1.1", USER_UNKNOWN)
    assert states([elsewhere]) == [(False, "hard", 1)]


def test_transient_bounces_and_complaints_still_apply_during_a_hold(client, aws):
    members = members_at("bigmail.example", 11)
    storm(client, members[:10])
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Complaint", [members[10].email])))
    assert states([members[10]])[0][0] is False


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, BOUNCE_STORM_COUNT=0, BOUNCE_STORM_SHARE=0)])
def test_the_guard_can_be_turned_off(client, aws, app_overrides):
    members = members_at("school.example", 12)
    storm(client, members, "5.1.1", USER_UNKNOWN)
    assert the_hold() is None and states(members) == [(False, "hard", 1)] * 12


def test_staff_changes_since_are_not_undone(client, aws):
    members = members_at("school.example", 10)
    storm(client, members[:3], "5.1.1", USER_UNKNOWN)
    db.session.refresh(members[0])
    reset_bounce_status(members[0], "staff@example.org")  # staff reset and reactivated this one
    storm(client, members[3:], "5.1.1", USER_UNKNOWN)
    rows = {row.email: row.held for row in db.session.scalars(select(BounceLog).where(BounceLog.event == "bounce"))}
    assert rows[members[0].email] is None and rows[members[1].email] == "undone"


def test_only_one_open_hold_per_domain(app):
    db.session.add(StormHold(domain="bigmail.example", open_domain="bigmail.example"))
    db.session.commit()
    db.session.add(StormHold(domain="bigmail.example", open_domain="bigmail.example"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("path", ["/bounces/storms/999999/release", "/bounces/storms/999999/dismiss"])
def test_closing_a_hold_that_is_not_there_says_so(login, path):
    response = login("admin").post_form(path, {}, follow_redirects=True)
    assert response.status_code == 200 and "already released or dismissed" in response.get_data(as_text=True)


def test_the_export_says_what_the_guard_did(client, aws, login):
    storm(client, members_at("bigmail.example", 10))
    lines = login("viewer").get("/bounces/export.csv").get_data(as_text=True).splitlines()
    assert lines[0].split(",")[5] == "held"
    assert sum(",held," in line for line in lines[1:]) == 1


def deactivated_figure(staff):
    page = staff.get("/bounces/").get_data(as_text=True)
    return int(page.split("<dt>Members deactivated</dt><dd>")[1].split("<")[0])


def test_the_dashboard_counts_no_deactivation_a_hold_undid_until_released(client, aws, login):
    storm(client, members_at("school.example", 10), "5.1.1", USER_UNKNOWN)
    admin = login("admin")
    assert deactivated_figure(admin) == 0
    admin.post_form(f"/bounces/storms/{the_hold().id}/release", {})
    assert deactivated_figure(admin) == 10


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, HARD_BOUNCE_POLICY="type")])
def test_the_dashboard_counts_what_the_type_policy_deactivated(client, aws, login, app_overrides):
    helpers.make_member("ann@bigmail.example")
    bounce(client, "ann@bigmail.example")
    assert deactivated_figure(login("viewer")) == 1
