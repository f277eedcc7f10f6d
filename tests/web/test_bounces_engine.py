"""What SES events do to members, end to end through the webhook."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.intake.reports import Bounce, Complaint, Deliveries, OtherEvent
from maillist.models import BounceLog, DeliveryStat, ProcessedReport
from maillist.transports.sns.ses_events import MalformedEvent, parse_ses_message
from tests import helpers
from tests.helpers import need

SAMPLES = helpers.SHARED / "aws-samples"


@pytest.fixture
def app_overrides(webhook_settings):
    return webhook_settings


def deliver(client, payload, **options):
    """Sign and post one SES payload; returns the JSON answer."""
    response = helpers.post_sns(client, helpers.sns_notification(payload, **options))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def reload(member):
    db.session.refresh(member)
    return member


@pytest.mark.parametrize("shape", [helpers.ses_identity, helpers.ses_event])
def test_permanent_bounce_hard_and_deactivates(client, aws, shape):
    member = helpers.make_member("ann@example.org")
    deliver(client, shape("Bounce", ["ann@example.org"], when=helpers.utc_at(2026, 11, 1)))
    member = reload(member)
    assert (member.bounce_status, member.active, member.bounce_count) == ("hard", False, 1)
    assert member.last_bounce_at.isoformat() == "2026-11-01T12:00:00"


def test_transient_bounces_turn_soft_at_threshold(client, aws):
    member = helpers.make_member("ann@example.org")
    statuses = []
    for _ in range(4):
        deliver(client, helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient", subtype="MailboxFull"))
        statuses.append(reload(member).bounce_status)
    assert statuses == ["clean", "clean", "soft", "soft"]
    assert member.bounce_count == 4 and member.active is True


def test_threshold_is_configurable(app, client, aws):
    app.config["SOFT_BOUNCE_THRESHOLD"] = 1
    member = helpers.make_member("ann@example.org")
    deliver(client, helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient"))
    assert reload(member).bounce_status == "soft"


def test_hard_is_never_downgraded(client, aws):
    member = helpers.make_member("ann@example.org")
    deliver(client, helpers.ses_identity("Bounce", ["ann@example.org"]))
    for _ in range(3):
        deliver(client, helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient"))
    member = reload(member)
    assert (member.bounce_status, member.active, member.bounce_count) == ("hard", False, 4)


def test_undetermined_is_counted_status_unchanged(client, aws):
    member = helpers.make_member("ann@example.org")
    for _ in range(3):
        deliver(client, helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Undetermined", subtype="Undetermined"))
    member = reload(member)
    assert (member.bounce_status, member.active, member.bounce_count) == ("clean", True, 3)
    assert db.session.scalar(select(func.count()).select_from(BounceLog).where(BounceLog.bounce_type == "Undetermined")) == 3


def test_multi_recipient_bounce_and_unknown_addresses(client, aws):
    ann = helpers.make_member("ann@example.org")
    bob = helpers.make_member("bob@example.org")
    answer = deliver(client, helpers.ses_identity("Bounce", ["ANN@example.org", "bob@example.org", "stranger@example.net"]))
    assert answer["detail"] == "bounce:Permanent:member bounce:Permanent:member bounce:Permanent:unknown"
    assert reload(ann).bounce_status == reload(bob).bounce_status == "hard"
    stranger = db.session.scalar(select(BounceLog).where(BounceLog.email == "stranger@example.net"))
    assert stranger.member_id is None and stranger.bounce_type == "Permanent"


def test_last_bounce_at_only_moves_forward(client, aws):
    member = helpers.make_member("ann@example.org")
    deliver(client, helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient", when=helpers.utc_at(2026, 11, 5)))
    deliver(client, helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient", when=helpers.utc_at(2026, 11, 2)))
    assert reload(member).last_bounce_at.isoformat() == "2026-11-05T12:00:00"
    history = db.session.scalars(select(BounceLog.occurred_at).order_by(BounceLog.occurred_at)).all()
    assert [h.day for h in history] == [2, 5]


@pytest.mark.parametrize("shape", [helpers.ses_identity, helpers.ses_event])
def test_complaint_deactivates_by_default(client, aws, shape):
    member = helpers.make_member("ann@example.org")
    deliver(client, shape("Complaint", ["ann@example.org"]))
    member = reload(member)
    assert (member.active, member.bounce_status) == (False, "clean")
    log = db.session.scalar(select(BounceLog))
    assert (log.event, log.feedback_type, log.user_agent, log.member_id) == ("complaint", "abuse", "ExampleCorp Feedback Loop (V0.01)", member.id)


def test_complaint_action_log_keeps_member_active(app, client, aws):
    app.config["COMPLAINT_ACTION"] = "log"
    member = helpers.make_member("ann@example.org")
    deliver(client, helpers.ses_identity("Complaint", ["ann@example.org"]))
    assert reload(member).active is True
    assert db.session.scalar(select(BounceLog.event)) == "complaint"


def test_deliveries_are_counted_per_day(client, aws):
    deliver(client, helpers.ses_identity("Delivery", ["a@example.org", "b@example.org"], when=helpers.utc_at(2026, 11, 3)))
    deliver(client, helpers.ses_event("Delivery", ["c@example.org"], when=helpers.utc_at(2026, 11, 3, 23)))
    deliver(client, helpers.ses_event("Delivery", ["d@example.org"], when=helpers.utc_at(2026, 11, 4, 0)))
    rows = db.session.execute(select(DeliveryStat.day, DeliveryStat.deliveries).order_by(DeliveryStat.day)).all()
    assert [(d.day, n) for d, n in rows] == [(3, 3), (4, 1)]


@pytest.mark.parametrize("kind", ["Send", "Open", "Click", "DeliveryDelay", "Reject", "Rendering Failure", "Subscription"])
def test_other_event_types_are_ignored(client, aws, kind):
    member = helpers.make_member("ann@example.org")
    answer = deliver(client, {"eventType": kind, "mail": helpers.ses_mail(["ann@example.org"])})
    assert answer == {"outcome": "ignored", "detail": f"ignored:{kind}"}
    assert reload(member).bounce_count == 0


@pytest.mark.parametrize(
    "payload",
    [
        "Hello world!",
        json.dumps([1, 2]),
        json.dumps({"notificationType": "Bounce"}),
        json.dumps({"notificationType": "Bounce", "bounce": {"bounceType": "Sideways", "bouncedRecipients": [{"emailAddress": "a@b.c"}], "timestamp": "2026-01-01T00:00:00Z"}}),
        json.dumps({"notificationType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [], "timestamp": "2026-01-01T00:00:00Z"}}),
        json.dumps({"notificationType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "a@b.c"}], "timestamp": "yesterday"}}),
        json.dumps({"eventType": "Complaint", "complaint": {"complainedRecipients": [{"nope": 1}], "timestamp": "2026-01-01T00:00:00Z"}}),
    ],
)
def test_malformed_ses_content_is_kept_and_answered_200(client, aws, payload):
    member = helpers.make_member("a@b.c")
    message = helpers.sns_notification(payload)
    answer = helpers.post_sns(client, message).get_json()
    assert answer["outcome"] == "malformed"
    kept = db.session.scalar(select(ProcessedReport).where(ProcessedReport.report_key == message["MessageId"]))
    assert kept.raw_body == payload
    assert reload(member).bounce_count == 0 and db.session.scalar(select(func.count()).select_from(BounceLog)) == 0


def test_all_aws_documented_ses_samples_parse():
    need(SAMPLES.is_dir(), "../shared/aws-samples is absent")
    expected = {
        "ses-notification-bounce-permanent-with-dsn.json": [Bounce],
        "ses-notification-bounce-permanent-multi-recipient-no-dsn.json": [Bounce],
        "ses-notification-complaint-with-feedback-report.json": [Complaint],
        "ses-notification-complaint-without-feedback-report.json": [Complaint],
        "ses-notification-delivery.json": [Deliveries],
        "ses-eventpublishing-bounce.json": [Bounce],
        "ses-eventpublishing-complaint.json": [Complaint],
        "ses-eventpublishing-delivery.json": [Deliveries],
        "ses-eventpublishing-send.json": [OtherEvent],
        "ses-eventpublishing-open.json": [OtherEvent],
        "ses-eventpublishing-click.json": [OtherEvent],
        "ses-eventpublishing-reject.json": [OtherEvent],
        "ses-eventpublishing-delivery-delay.json": [OtherEvent],
        "ses-eventpublishing-rendering-failure.json": [OtherEvent],
        "ses-eventpublishing-subscription.json": [OtherEvent],
    }
    for name, kinds in expected.items():
        events = parse_ses_message((SAMPLES / name).read_text())
        assert {type(e) for e in events} == set(kinds), name
    multi = parse_ses_message((SAMPLES / "ses-notification-bounce-permanent-multi-recipient-no-dsn.json").read_text())
    assert len(multi) > 1
    with pytest.raises(MalformedEvent):
        parse_ses_message((SAMPLES / "ses-fragment-bounced-recipient.json").read_text())


def test_a_delayed_recipient_in_a_permanent_notification_is_not_hard_bounced(client, aws):
    """AWS's documented mixed bounce object: recipient1 failed (5.0.0), recipient2 delayed (4.0.0)."""
    need(SAMPLES.is_dir(), "../shared/aws-samples is absent")
    bounce = json.loads((SAMPLES / "ses-fragment-bounce-object-mixed-failed-and-delayed-recipients.json").read_text())
    bounce["timestamp"] = helpers.sns_timestamp()
    payload = {"notificationType": "Bounce", "bounce": bounce, "mail": helpers.ses_mail(["recipient1@example.com", "recipient2@example.com"])}
    failed, delayed = helpers.make_member("recipient1@example.com"), helpers.make_member("recipient2@example.com")
    response = helpers.post_sns(client, helpers.sns_notification(payload))
    assert response.get_json()["outcome"] == "applied"
    db.session.refresh(failed)
    db.session.refresh(delayed)
    assert (failed.bounce_status, failed.active) == ("hard", False)
    assert (delayed.bounce_status, delayed.active, delayed.bounce_count) == ("clean", True, 1)
    types = dict(db.session.execute(select(BounceLog.email, BounceLog.bounce_type)).all())
    assert types == {"recipient1@example.com": "Permanent", "recipient2@example.com": "Transient"}
