"""Soft bounces like Mailman's, said plainly: a window for counting, soft that flags or deactivates, stale soft back to clean."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from maillist.extensions import db
from maillist.models import BounceLog, Member
from maillist.models.types import utcnow
from tests import helpers

WEBHOOK = {"ENABLE_SNS_WEBHOOKS": True, "ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}


@pytest.fixture
def app_overrides():
    return WEBHOOK


def transient(client, email, days_ago):
    payload = helpers.ses_identity("Bounce", [email], bounce_type="Transient", subtype="MailboxFull",
                                   when=utcnow() - timedelta(days=days_ago), status="4.2.2")
    assert helpers.post_sns(client, helpers.sns_notification(payload)).get_json()["outcome"] == "applied"


def member_state(email="ann@example.org"):
    db.session.rollback()
    return db.session.execute(select(Member.bounce_status, Member.active, Member.bounce_count).where(Member.email == email)).one()


def history(email="ann@example.org"):
    return [details for details in db.session.scalars(select(BounceLog.details).where(BounceLog.email == email).order_by(BounceLog.id))]


def test_one_mailbox_full_a_season_never_makes_a_member_soft(client, aws):
    helpers.make_member("ann@example.org")
    for days_ago in (200, 140, 80, 20):
        transient(client, "ann@example.org", days_ago)
    assert member_state() == ("clean", True, 1)
    assert history()[1:] == ["the last bounce was more than 30 days earlier, so counting starts again"] * 3


def test_three_bounces_within_the_window_make_a_member_soft_and_the_history_says_why(client, aws):
    helpers.make_member("ann@example.org")
    for days_ago in (20, 10, 1):
        transient(client, "ann@example.org", days_ago)
    assert member_state() == ("soft", True, 3)
    assert history() == [None, None, "3 bounces within 30 days: marked soft"]


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, SOFT_BOUNCE_WINDOW_DAYS=0)])
def test_without_a_window_bounces_count_forever(client, aws, app_overrides):
    helpers.make_member("ann@example.org")
    for days_ago in (300, 200, 100):
        transient(client, "ann@example.org", days_ago)
    assert member_state() == ("soft", True, 3)
    assert history()[-1] == "3 bounces: marked soft"


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, SOFT_BOUNCE_ACTION="deactivate")])
def test_soft_can_deactivate_as_mailman_does(client, aws, app_overrides):
    helpers.make_member("ann@example.org")
    transient(client, "ann@example.org", 3)
    transient(client, "ann@example.org", 2)
    assert member_state() == ("clean", True, 2)
    transient(client, "ann@example.org", 1)
    assert member_state() == ("soft", False, 3)
    assert history()[-1] == "3 bounces within 30 days: marked soft and deactivated (SOFT_BOUNCE_ACTION=deactivate)"


def test_a_soft_member_with_no_bounce_for_the_window_returns_to_clean(app, client, aws, runner, login):
    helpers.make_member("ann@example.org")
    helpers.make_member("bob@example.org")
    for days_ago in (60, 50, 40):
        transient(client, "ann@example.org", days_ago)
    for days_ago in (12, 11, 10):
        transient(client, "bob@example.org", days_ago)
    assert member_state()[0] == "soft" and member_state("bob@example.org")[0] == "soft"
    dry = runner.invoke(args=["bounces", "cleanup", "--dry-run"])
    assert "would return 1 soft member(s) with no bounce for 30 days to clean" in dry.output
    assert member_state()[0] == "soft"
    result = runner.invoke(args=["bounces", "cleanup"])
    assert "returned 1 soft member(s)" in result.output
    assert member_state() == ("clean", True, 0)
    assert member_state("bob@example.org")[0] == "soft", "a recent bounce keeps bob soft"
    assert history()[-1] == "back to clean on its own: no bounce for 30 days (SOFT_BOUNCE_WINDOW_DAYS; 3 counted before)"
    member_id = db.session.scalar(select(Member.id).where(Member.email == "ann@example.org"))
    page = login("viewer").get(f"/members/{member_id}/bounces").get_data(as_text=True)
    assert "back to clean on its own" in page
    assert "returned 0 soft" in runner.invoke(args=["bounces", "cleanup"]).output


def test_a_hard_member_is_never_made_soft_or_clean_by_the_window(client, aws, runner):
    helpers.make_member("ann@example.org")
    payload = helpers.ses_identity("Bounce", ["ann@example.org"], when=utcnow() - timedelta(days=90))
    helpers.post_sns(client, helpers.sns_notification(payload))
    transient(client, "ann@example.org", 1)
    assert member_state() == ("hard", False, 1)
    runner.invoke(args=["bounces", "cleanup"])
    assert member_state()[0] == "hard"
