"""POST /webhooks/sns over HTTP: switches, body checks, verification, confirmation, idempotency."""

import json

import pytest
from sqlalchemy import func, select, text

from maillist import create_app
from maillist.extensions import db
from maillist.models import BounceLog, ProcessedReport
from tests import helpers
from tests.helpers import LOOKALIKE_CERT_URLS, SNS_VECTORS, app_settings, need


@pytest.fixture
def app_overrides(webhook_settings):
    return webhook_settings


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def stored(message_id):
    return db.session.scalar(select(ProcessedReport).where(ProcessedReport.report_key == message_id))


def test_switched_off_webhook_answers_404(app, client, aws):
    app.config["ENABLE_SNS_WEBHOOKS"] = False
    response = helpers.post_sns(client, helpers.sns_notification("x"))
    assert response.status_code == 404
    assert count(ProcessedReport) == 0


def test_bounce_handling_off_verifies_and_keeps_but_applies_nothing(app, client, aws):
    app.config["ENABLE_BOUNCE_HANDLING"] = False
    member = helpers.make_member("ann@example.org")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"]))
    response = helpers.post_sns(client, message)
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    db.session.refresh(member)
    assert (member.bounce_status, member.active, count(BounceLog)) == ("clean", True, 0)
    assert stored(message["MessageId"]).outcome == "ignored" and stored(message["MessageId"]).raw_body, "kept with its body"


def test_what_was_kept_while_handling_was_off_is_applied_once_it_is_on(app, client, aws, runner):
    app.config["ENABLE_BOUNCE_HANDLING"] = False
    ann, bob = helpers.make_member("ann@example.org"), helpers.make_member("bob@example.org")
    kept = [helpers.sns_notification(helpers.ses_identity("Bounce", [email], bounce_type="Transient"))
            for email in ("ann@example.org", "ann@example.org", "bob@example.org")]
    kept.append(helpers.sns_notification(helpers.ses_identity("Delivery", ["ann@example.org"])))
    for message in kept:
        assert helpers.post_sns(client, message).get_json()["outcome"] == "ignored"
    refused = runner.invoke(args=["bounces", "apply-ignored"])
    assert refused.exit_code != 0 and "ENABLE_BOUNCE_HANDLING is off" in refused.output
    app.config["ENABLE_BOUNCE_HANDLING"] = True
    # SNS (or a replay) sending one of them again now applies the kept copy, once.
    again = helpers.post_sns(client, kept[2]).get_json()
    assert again["outcome"] == "applied" and "bounce:Transient:member" in again["detail"]
    assert helpers.post_sns(client, kept[2]).get_json()["outcome"] == "duplicate"
    applied = runner.invoke(args=["bounces", "apply-ignored"])
    assert applied.exit_code == 0 and applied.output == "Applied the kept notifications: applied 3.\n", applied.output
    assert runner.invoke(args=["bounces", "apply-ignored"]).output.startswith("Nothing was waiting")
    db.session.refresh(ann)
    db.session.refresh(bob)
    assert (ann.bounce_count, bob.bounce_count, count(BounceLog)) == (2, 1, 3)
    assert {stored(m["MessageId"]).outcome for m in kept} == {"applied"}
    assert all(stored(m["MessageId"]).raw_body is None for m in kept)


@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_bounce_is_applied_from_text_plain_body(client, aws, version):
    member = helpers.make_member("ann@example.org")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["Ann@Example.org"]), version=version)
    response = helpers.post_sns(client, message)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcome"] == "applied"
    db.session.refresh(member)
    assert (member.bounce_status, member.active, member.bounce_count) == ("hard", False, 1)
    log = db.session.scalar(select(BounceLog))
    assert (log.member_id, log.bounce_type, log.bounce_subtype, log.status, log.report_key) == (
        member.id, "Permanent", "General", "5.1.1", message["MessageId"])
    assert "User unknown" in log.diagnostic_code


def test_repeat_delivery_changes_nothing(client, aws):
    member = helpers.make_member("ann@example.org")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient"))
    first = helpers.post_sns(client, message)
    again = helpers.post_sns(client, message)
    assert first.get_json()["outcome"] == "applied"
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    db.session.refresh(member)
    assert member.bounce_count == 1 and count(BounceLog) == 1 and count(ProcessedReport) == 1


def test_certificate_is_fetched_once_and_cached(client, aws):
    for _ in range(3):
        assert helpers.post_sns(client, helpers.sns_notification("not ses")).status_code == 200
    assert [call.request.url for call in aws.calls] == [helpers.CERT_URL]


@pytest.mark.parametrize("field", ["Message", "Timestamp", "TopicArn", "MessageId"])
def test_tampered_message_is_refused_and_not_applied(client, aws, field):
    member = helpers.make_member("ann@example.org")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"]))
    if field == "Message":
        message["Message"] = json.dumps(helpers.ses_identity("Bounce", ["ann@example.org", "bob@example.org"]))
    elif field == "Timestamp":
        millis = "000" if not message["Timestamp"].endswith(".000Z") else "001"
        message["Timestamp"] = message["Timestamp"][:-4] + millis + "Z"
    else:
        message[field] = message[field] + "0"
    response = helpers.post_sns(client, message)
    assert response.status_code == 403
    assert response.get_json()["outcome"] == "refused"
    db.session.refresh(member)
    assert member.bounce_status == "clean" and count(BounceLog) == 0 and count(ProcessedReport) == 0


@pytest.mark.parametrize("url", [u for u in LOOKALIKE_CERT_URLS if u])
def test_bad_certificate_url_is_refused_without_fetching(client, aws, url):
    message = helpers.sns_notification("x", cert_url=url)
    response = helpers.post_sns(client, message)
    assert response.status_code in (400, 403)
    assert len(aws.calls) == 0


def test_stale_message_is_refused(app, client, aws):
    from datetime import datetime, timedelta, timezone

    app.config["SNS_MAX_MESSAGE_AGE"] = 600
    old = helpers.sns_notification("x", when=datetime.now(timezone.utc) - timedelta(minutes=20))
    assert helpers.post_sns(client, old).status_code == 403
    app.config["SNS_MAX_MESSAGE_AGE"] = 0
    assert helpers.post_sns(client, old).status_code == 200


def test_topic_allow_list(app, client, aws):
    app.config["SNS_TOPIC_ARNS"] = ["arn:aws:sns:eu-west-1:123456789012:other"]
    response = helpers.post_sns(client, helpers.sns_notification("x"))
    assert response.status_code == 403 and "SNS_TOPIC_ARNS" in response.get_json()["detail"]
    app.config["SNS_TOPIC_ARNS"] = [helpers.TOPIC_ARN]
    assert helpers.post_sns(client, helpers.sns_notification("x")).status_code == 200


@pytest.mark.parametrize(
    "raw, status, reason",
    [
        (b"not json at all", 400, "not JSON"),
        (b"[1, 2]", 400, "not a JSON object"),
        (b'{"Type": "Bogus"}', 400, "not an SNS message type"),
        (b'{"Type": "Notification", "MessageId": "m"}', 400, "missing"),
        (b"\xff\xfe\x00", 400, "not JSON"),
    ],
)
def test_malformed_bodies_get_400_with_a_reason(client, raw, status, reason):
    response = client.post("/webhooks/sns", data=raw, headers=helpers.SNS_HEADERS)
    assert response.status_code == status
    assert reason in response.get_json()["detail"]


def test_type_header_must_match_body(client, aws):
    message = helpers.sns_notification("x")
    response = helpers.post_sns(client, message, **{"x-amz-sns-message-type": "SubscriptionConfirmation"})
    assert response.status_code == 400 and "does not match" in response.get_json()["detail"]


def test_oversize_body_gets_413(client):
    response = client.post("/webhooks/sns", data=b"{" + b" " * (600 * 1024) + b"}", headers=helpers.SNS_HEADERS)
    assert response.status_code == 413


def test_webhook_needs_no_csrf_token_or_login(client, aws):
    response = client.post("/webhooks/sns", data=helpers.sns_body(helpers.sns_notification("x")), content_type="application/json")
    assert response.status_code == 200


@pytest.mark.parametrize("version", ["1", "2"])
def test_subscription_is_confirmed_once(client, aws, version):
    message = helpers.sns_confirmation(version=version)
    response = helpers.post_sns(client, message)
    assert response.status_code == 200 and response.get_json()["outcome"] == "confirmed"
    assert [c.request.url for c in aws.calls if "ConfirmSubscription" in c.request.url] == [helpers.SUBSCRIBE_URL]
    again = helpers.post_sns(client, message)
    assert again.get_json()["outcome"] == "duplicate"
    assert len([c for c in aws.calls if "ConfirmSubscription" in c.request.url]) == 1


def test_failed_confirmation_answers_5xx_and_is_retried(client, aws):
    aws.replace("GET", helpers.SUBSCRIBE_URL, status=500)
    message = helpers.sns_confirmation()
    assert helpers.post_sns(client, message).status_code == 502
    assert stored(message["MessageId"]) is None
    aws.replace("GET", helpers.SUBSCRIBE_URL, status=200, body="ok")
    assert helpers.post_sns(client, message).get_json()["outcome"] == "confirmed"


@pytest.mark.parametrize(
    "subscribe_url",
    ["https://evil.example/confirm", "http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription",
     "https://sns.eu-west-1.amazonaws.com.evil.example/?Action=ConfirmSubscription", "https://127.0.0.1/admin"],
)
def test_subscribe_url_outside_sns_is_never_fetched(client, aws, subscribe_url):
    message = helpers.sns_confirmation(subscribe_url=subscribe_url)
    response = helpers.post_sns(client, message)
    assert response.status_code == 403
    assert [c.request.url for c in aws.calls] in ([], [helpers.CERT_URL])


def test_unsubscribe_confirmation_is_logged_not_resubscribed(client, aws):
    message = helpers.sns_confirmation("UnsubscribeConfirmation")
    response = helpers.post_sns(client, message)
    assert response.status_code == 200 and response.get_json()["outcome"] == "unsubscribe-logged"
    assert not [c for c in aws.calls if "ConfirmSubscription" in c.request.url]
    assert stored(message["MessageId"]).kind == "UnsubscribeConfirmation"


def test_store_failure_answers_503_and_the_retry_succeeds(client, aws, backend):
    member = helpers.make_member("ann@example.org")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"]))
    db.session.execute(text("ALTER TABLE bounce_log RENAME TO bounce_log_away"))
    db.session.commit()
    try:
        failed = helpers.post_sns(client, message)
    finally:
        db.session.execute(text("ALTER TABLE bounce_log_away RENAME TO bounce_log"))
        db.session.commit()
    assert failed.status_code == 503 and failed.get_json()["outcome"] == "storage-failed"
    assert stored(message["MessageId"]) is None
    db.session.refresh(member)
    assert member.bounce_status == "clean"
    retried = helpers.post_sns(client, message)
    assert retried.get_json()["outcome"] == "applied"
    db.session.refresh(member)
    assert member.bounce_status == "hard"


def test_unreachable_database_answers_503(tmp_path, aws):
    url = "mysql+pymysql://maillist:pw@127.0.0.1:1/maillist"
    app = create_app(overrides=app_settings(url, ENABLE_SNS_WEBHOOKS=True, ENABLE_BOUNCE_HANDLING=True, SNS_TOPIC_ARNS=[helpers.TOPIC_ARN]), instance_path=str(tmp_path))
    response = helpers.post_sns(app.test_client(), helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"])))
    assert response.status_code == 503


def test_genuine_vectors_over_http(app, client, aws):
    """The 19 AWS-signed messages, certificates served at their URLs, age check off."""
    need(SNS_VECTORS.is_dir(), "../shared/sns-vectors is absent")
    app.config["SNS_MAX_MESSAGE_AGE"] = 0
    app.config["SNS_TOPIC_ARNS"] = ["*"]
    for cert in (SNS_VECTORS / "certs").glob("*.pem"):
        for region in ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"):
            aws.get(f"https://sns.{region}.amazonaws.com/{cert.name}", body=cert.read_bytes())
    bounced = helpers.make_member("bounce@simulator.amazonses.com")
    complainer = helpers.make_member("complaint@simulator.amazonses.com")
    outcomes = {}
    for path in sorted((SNS_VECTORS / "messages").glob("*.json")):
        message = json.loads(path.read_text())
        if message["Type"] == "SubscriptionConfirmation":
            aws.get(message["SubscribeURL"], body="ok")
        response = helpers.post_sns(client, message)
        assert response.status_code == 200, (path.name, response.get_json())
        outcomes[path.name] = response.get_json()["outcome"]
    assert outcomes["django-ses_2022-04-01_ses-bounce_notification_nosubject_sha1.json"] == "applied"
    assert outcomes["unknown-h3-repo_2024-08-01_subscriptionconfirmation_sha256.json"] == "confirmed"
    assert count(ProcessedReport) == 19
    db.session.refresh(bounced)
    db.session.refresh(complainer)
    assert (bounced.bounce_status, bounced.active) == ("hard", False)
    assert (complainer.bounce_status, complainer.active) == ("clean", False)
    complaint = db.session.scalar(select(BounceLog).where(BounceLog.event == "complaint"))
    assert (complaint.feedback_type, complaint.user_agent) == ("abuse", "Amazon SES Mailbox Simulator")


@pytest.mark.parametrize(
    "answer, status, reason",
    [
        ({"status": 404, "body": "no"}, 502, "HTTP 404"),
        ({"status": 200, "body": b"-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n"}, 403, "not a PEM certificate"),
        ({"status": 200, "body": b"A" * (70 * 1024)}, 403, "too large"),
        ({"status": 301, "headers": {"Location": "https://evil.example/x.pem"}}, 502, "HTTP 301"),
    ],
)
def test_certificate_fetch_failures(client, aws, answer, status, reason):
    aws.replace("GET", helpers.CERT_URL, **answer)
    response = helpers.post_sns(client, helpers.sns_notification("x"))
    assert response.status_code == status
    assert reason in response.get_json()["detail"]
    assert [c.request.url for c in aws.calls] == [helpers.CERT_URL]


@pytest.mark.parametrize("record", [
    helpers.ses_identity("Bounce", ["ann@example.org"]),
    helpers.ses_event("Complaint", ["ann@example.org"]),
])
def test_a_bare_ses_event_says_raw_delivery_is_on_and_changes_nothing(client, record):
    member = helpers.make_member("ann@example.org")
    response = client.post("/webhooks/sns", data=json.dumps(record), headers=helpers.SNS_HEADERS)
    assert response.status_code == 400
    assert "raw message delivery is on" in response.get_json()["detail"]
    db.session.refresh(member)
    assert member.active and member.bounce_count == 0
