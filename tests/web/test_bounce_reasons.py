"""Only addresses that are really dead deactivate: a reason for every bounce, on both paths."""

import pytest
from sqlalchemy import select

from maillist.bounce_reasons import DEAD_REASONS, REASONS, classify
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
    # A refusal of our envelope sender says nothing of the member's address, whatever its words.
    ("General", "5.1.7", "smtp; 550 5.1.7 No such domain neko.example.com", "policy"),
    ("General", "5.0.0", "SMTP error after MAIL FROM:<list-bounces@x.example>: 550 5.1.1 user unknown", "policy"),
    ("General", "5.1.1", "host x said: 553 5.1.8 sender domain does not exist (in reply to MAIL FROM command)", "policy"),
    ("General", "5.4.4", "smtp; 550 5.4.4 Invalid domain", "no-such-domain"),
    ("General", "4.0.0", "DNS type 'mx' lookup of x.example returned Null MX", "no-such-domain"),
    ("General", "5.0.0", "Recipient Not Found", "no-such-user"),
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


@pytest.mark.parametrize("text, reason", [
    ("This user doesn't have a example.net account", "no-such-user"),
    ("This account has been disabled or discontinued.", "no-such-user"),
    ("Invalid final delivery userid: ann@example.org", "no-such-user"),
    ("ann@example.edu Does not have a final email delivery point", "no-such-user"),
    ("User carl (ann@example.org) not listed in Domino Directory", "no-such-user"),
    ("553 5.3.0 <ann@example.org>... Addressee unknown", "no-such-user"),
    ("L'adresse de messagerie référencée ci-dessus n'existe pas.", "no-such-user"),
    ("550 Empfaenger unbekannt", "no-such-user"),
    ("this email address is wrong or no longer valid", "no-such-user"),
    ("no valid recipients were found: ann@example.org ... unknown host", "no-such-domain"),
    ("The e-mail message could not be delivered because the user's mailfolder is full.", "mailbox-full"),
    ("they are not accepting mail from lists@example.org", "blocked"),
    ("5.7.1 Unable to relay for ann@example.org", "policy"),
    ("This mail message has exceeded the maximum incoming message size.", "content-rejected"),
    ("Content-Type: message/rfc822 (the original message follows)", "unknown"),
    ("554 Message looping (received 6 times)", "unknown"),
])
def test_reasons_from_the_words_servers_use(text, reason):
    assert classify("DSN", None, text) == reason


def test_a_temporary_status_never_names_a_dead_address():
    assert classify("DSN", "4.4.4", "Temporary server error. Please try again later") == "unknown"
    assert classify("DSN", "4.2.2", None) == "mailbox-full"


PROSE = (b"From: MAILER-DAEMON@mail.example.com\nSubject: failure notice\nTo: lists@example.org\n\n"
         b"Hi. This is the qmail-send program at mail.example.com.\n"
         b"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
         b"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
         b"<ann@example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
         b"<bob@example.com>:\nThe user's mailfolder is full.\n\n"
         b"--- Below this line is a copy of the message.\n\n"
         b"Subject: Spam filter settings, blocklists and quota\n\nblocked blocked spam\n")


def test_each_recipient_of_a_prose_report_gets_its_own_reason():
    from maillist.transports.email.dsn_parser import read_report

    reading = read_report(PROSE)
    reasons = {r.email: (r.reason, r.deactivates) for r in reading.recipients}
    assert reasons == {"ann@example.com": ("no-such-user", True), "bob@example.com": ("mailbox-full", False)}
    bob = next(r for r in reading.recipients if r.email == "bob@example.com")
    assert "ann@example.com" not in bob.diagnostic and "blocked" not in bob.diagnostic


@pytest.mark.parametrize("subtype, status, diagnostic, reason, deactivated", [
    ("Undetermined", None, None, "unknown", False),
    ("General", "5.1.1", "smtp; 550 5.1.1 user unknown", "no-such-user", True),
    ("General", "5.7.1", BLOCKLIST, "blocked", False),
    ("NoEmail", "5.1.1", None, "no-such-user", True),
    ("Suppressed", "5.1.1", "Amazon SES has suppressed sending to this address", "suppressed", True),
    ("OnAccountSuppressionList", "5.1.1", None, "suppressed", True),
    ("MailboxFull", "5.2.2", "smtp; 552 5.2.2 mailbox full", "mailbox-full", False),
    ("MessageTooLarge", "5.3.4", "smtp; 552 5.3.4 message too big", "content-rejected", False),
    ("ContentRejected", "5.7.1", "smtp; 554 5.7.1 message content rejected", "content-rejected", False),
    ("AttachmentRejected", "5.7.1", "smtp; 554 5.7.1 attachment rejected", "content-rejected", False),
])
def test_every_ses_bounce_subtype_through_the_webhook(client, aws, subtype, status, diagnostic, reason, deactivated):
    member = helpers.make_member("ann@example.org")
    bounce_type = "Undetermined" if subtype == "Undetermined" else "Permanent"
    payload = helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type=bounce_type, subtype=subtype, status=status)
    recipient = payload["bounce"]["bouncedRecipients"][0]
    if diagnostic:
        recipient["diagnosticCode"] = diagnostic
    else:
        recipient.pop("diagnosticCode")
    if status is None:
        recipient.pop("status")
    assert helpers.post_sns(client, helpers.sns_notification(payload)).get_json()["outcome"] == "applied"
    db.session.refresh(member)
    assert db.session.scalar(select(BounceLog.reason)) == reason
    assert member.active is not deactivated
