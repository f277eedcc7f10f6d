"""Only addresses that are really dead deactivate: a reason for every bounce, on both paths."""

import pytest
from sqlalchemy import select

from maillist.bounces.reasons import DEAD_REASONS, REASONS, classify
from maillist.extensions import db
from maillist.models import BounceLog
from tests import helpers

BLOCKLIST = "smtp; 550 5.7.1 Service unavailable, client host [54.240.1.1] blocked using a blocklist"


@pytest.mark.parametrize("subtype, status, diagnostic, reason", [
    ("General", "5.1.1", "smtp; 550 5.1.1 user unknown", "no-such-user"),
    ("NoEmail", "5.1.1", None, "no-such-user"),
    ("Suppressed", "5.1.1", "Amazon SES has suppressed sending to this address", "suppressed"),
    ("OnAccountSuppressionList", None, None, "suppressed"),
    ("General", "5.1.2", "smtp; 550 5.1.2 host not found", "no-such-domain"),
    ("General", "5.1.6", "smtp; 551 5.1.6 user has moved", "moved"),
    ("MailboxFull", "5.2.2", "smtp; 552 5.2.2 mailbox full", "mailbox-full"),
    ("MessageTooLarge", "5.3.4", None, "content-rejected"),
    ("ContentRejected", "5.7.1", "smtp; 554 5.7.1 message content rejected", "content-rejected"),
    ("AttachmentRejected", None, None, "content-rejected"),
    ("General", "5.0.0", BLOCKLIST, "blocked"),
    ("General", "5.7.1", BLOCKLIST, "blocked"),
    ("General", "5.7.1", "smtp; 550 5.7.1 listed at zen.spamhaus.org", "blocked"),
    ("General", "5.7.26", "smtp; 550 5.7.26 unauthenticated email is not accepted: DMARC", "authentication"),
    ("General", "5.7.25", "smtp; 550 5.7.25 the sending IP has no PTR record", "policy"),
    ("General", "5.7.1", "smtp; 550 5.7.1 <a@b>: Recipient address rejected: Access denied", "policy"),
    ("General", "5.0.0", "smtp; 550 Requested action not taken: mailbox unavailable", "no-such-user"),
    ("General", "5.5.0", "smtp; 550 5.5.0 <a@b>... User unknown", "no-such-user"),
    ("General", "4.4.7", "smtp; 421 4.4.7 delivery time expired", "expired"),
    ("Undetermined", None, None, "unknown"),
])
def test_reasons_from_subtype_code_and_text(subtype, status, diagnostic, reason):
    assert classify(subtype, status, diagnostic) == reason
    assert reason in REASONS


@pytest.fixture
def app_overrides(webhook_settings):
    return webhook_settings


def bounce(client, email, status="5.1.1", diagnostic=None, subtype="General"):
    payload = helpers.ses_identity("Bounce", [email], bounce_type="Permanent", subtype=subtype, status=status)
    if diagnostic:
        payload["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = diagnostic
    return helpers.post_sns(client, helpers.sns_notification(payload))


def test_a_dead_address_deactivates(client, aws):
    member = helpers.make_member("gone@example.org")
    bounce(client, "gone@example.org", "5.1.1", "smtp; 550 5.1.1 user unknown")
    db.session.refresh(member)
    assert (member.bounce_status, member.active) == ("hard", False)
    assert db.session.scalar(select(BounceLog.reason)) == "no-such-user"


def test_a_blocklisted_sender_does_not_deactivate_and_says_why(client, aws, login):
    member = helpers.make_member("ann@bigmail.example")
    assert bounce(client, "ann@bigmail.example", "5.0.0", BLOCKLIST).get_json()["outcome"] == "applied"
    db.session.refresh(member)
    assert (member.bounce_status, member.active, member.bounce_count) == ("clean", True, 1)
    log = db.session.scalar(select(BounceLog))
    assert (log.bounce_type, log.reason) == ("Permanent", "blocked")
    assert "not a dead address" in log.details
    staff = login("viewer")
    history = staff.get(f"/members/{member.id}/bounces").get_data(as_text=True)
    assert "blocked by the receiver" in history and "not a dead address" in history
    filtered = staff.get("/bounces/", query_string={"reason": "blocked"}).get_data(as_text=True)
    assert "ann@bigmail.example" in filtered
    assert "ann@bigmail.example" not in staff.get("/bounces/", query_string={"reason": "no-such-user"}).get_data(as_text=True)
    exported = staff.get("/bounces/export.csv").get_data(as_text=True).splitlines()
    assert exported[0].split(",")[4] == "reason" and ",blocked," in exported[1]


def test_non_dead_permanent_bounces_count_towards_soft(client, aws):
    member = helpers.make_member("ann@bigmail.example")
    for _ in range(3):
        bounce(client, "ann@bigmail.example", "5.7.1", BLOCKLIST)
    db.session.refresh(member)
    assert (member.bounce_status, member.active, member.bounce_count) == ("soft", True, 3)


@pytest.mark.parametrize("app_overrides", [{"ENABLE_SNS_WEBHOOKS": True, "ENABLE_BOUNCE_HANDLING": True,
                                            "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN], "HARD_BOUNCE_POLICY": "type"}])
def test_hard_bounce_policy_type_keeps_the_literal_rule(client, aws, app_overrides):
    member = helpers.make_member("ann@bigmail.example")
    bounce(client, "ann@bigmail.example", "5.7.1", BLOCKLIST)
    db.session.refresh(member)
    assert (member.bounce_status, member.active) == ("hard", False)


def test_an_unknown_reason_filter_is_refused(login):
    response = login("viewer").get("/bounces/", query_string={"reason": "nonsense"})
    assert response.status_code == 400


def test_dead_reasons_are_the_documented_four():
    assert DEAD_REASONS == {"no-such-user", "no-such-domain", "moved", "suppressed"}
