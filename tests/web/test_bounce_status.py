"""The status page: each set-up mistake produced for real and found diagnosed, counts that hold, reprocessing."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from maillist.extensions import db
from maillist.intake import door_counts
from maillist.models import AuditLog, IntakeCount, ProcessedReport
from maillist.models.types import utcnow
from maillist.transports.sns.envelope import parse_envelope
from maillist.transports.sns.errors import MessageTooLarge, SnsError, UpstreamError, VerificationFailed
from maillist.transports.sns.messages import check_topic
from maillist.transports.sns.urls import check_sns_url
from maillist.transports.sns.verify import check_age, check_certificate, verify_signature
from tests import helpers

WEBHOOK = {"ENABLE_SNS_WEBHOOKS": True, "ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}
FOREIGN = "arn:aws:sns:eu-west-1:999999999999:not-ours"


@pytest.fixture
def app_overrides():
    return WEBHOOK


def page(login, role="viewer"):
    response = login(role).get("/bounces/status")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_raw_delivery_body_is_diagnosed(client, login):
    client.post("/webhooks/sns", data=json.dumps(helpers.ses_identity("Bounce", ["ann@example.org"])), headers=helpers.SNS_HEADERS)
    text = page(login)
    assert "Raw message delivery is on: 1 bare SES events refused this week" in text
    assert "Turn raw message delivery off" in text


def test_a_message_two_days_old_is_diagnosed_as_clock_skew(client, aws, login):
    old = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"]), when=utcnow() - timedelta(days=2))
    assert helpers.post_sns(client, old).status_code == 403
    assert "Clock skew or replays: 1 messages refused" in page(login)


def test_a_foreign_topics_confirmation_is_diagnosed(client, aws, login):
    message = helpers.sns_confirmation(topic=FOREIGN)
    assert helpers.post_sns(client, message).status_code == 403
    text = page(login)
    assert "A topic not in SNS_TOPIC_ARNS sent 1 messages this week" in text


def test_bounces_without_delivery_events_are_diagnosed_and_counted(client, aws, login):
    helpers.make_member("ann@example.org")
    for _ in range(2):
        helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient")))
    text = page(login)
    assert "No Delivery events: bounce and complaint rates are unknown" in text
    assert '<td data-label="Outcome">applied</td><td data-label="24 hours">2</td><td data-label="7 days">2</td>' in text
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Delivery", ["ann@example.org"])))
    assert "No Delivery events" not in page(login)


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, ENABLE_BOUNCE_HANDLING=False)])
def test_bounce_handling_off_while_bounces_arrive_is_diagnosed(client, aws, login, app_overrides):
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"])))
    text = page(login)
    assert "Bounce handling is off: 1 notifications are kept, not applied" in text
    assert "docker-compose.yml" in text and "flask bounces apply-ignored" in text
    assert "1 notification kept while bounce handling was off waits to be applied." in text
    assert "<code>ENABLE_BOUNCE_HANDLING</code></td><td data-label=\"Value\">false</td>" in text


def test_an_administrator_applies_what_was_kept_from_the_status_page(app, client, aws, login, runner):
    app.config["ENABLE_BOUNCE_HANDLING"] = False
    member = helpers.make_member("ann@example.org")
    old = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient"))
    helpers.post_sns(client, old)
    db.session.execute(update(ProcessedReport).values(received_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient")))
    admin = login("admin")
    assert "Apply them now" not in page(login, "admin"), "no button while handling is still off"
    app.config["ENABLE_BOUNCE_HANDLING"] = True
    assert "Apply them now" not in page(login, "operator"), "administrators only"
    since = (utcnow() - timedelta(days=1)).date().isoformat()
    assert runner.invoke(args=["bounces", "apply-ignored", "--since", since]).output == "Applied the kept notifications: applied 1.\n"
    text = page(login, "admin")
    assert "1 notification kept while bounce handling was off waits to be applied." in text and "Apply them now" in text
    done = admin.post_form("/bounces/status/apply-ignored", {}, follow_redirects=True).get_data(as_text=True)
    assert "Applied the kept notifications: applied 1." in done and "waits to be applied" not in done
    db.session.refresh(member)
    assert member.bounce_count == 2
    assert db.session.scalars(select(AuditLog.details).where(AuditLog.action == "report.apply_ignored")).all() == [
        "Applied the kept notifications: applied 1.", "Applied the kept notifications: applied 1."]


def test_a_quiet_webhook_is_diagnosed(login):
    assert "The webhook is on but no SNS message arrived in 7 days" in page(login)


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, ENABLE_EMAIL_BOUNCE_PROCESSING=True)])
def test_email_bounce_processing_with_no_report_is_diagnosed(login, app_overrides):
    assert "Email bounce processing is on but no bounce email was ever received" in page(login)


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, SNS_TOPIC_ARNS=["*"], COMPLAINT_ACTION="log")])
def test_settings_production_should_not_run_with_are_flagged(login, app_overrides):
    text = page(login)
    assert "accepts any AWS account" in text and "keeps mailing people who complained" in text


@pytest.mark.parametrize("app_overrides", [{}, dict(WEBHOOK, SNS_TOPIC_ARNS=["*"])])
def test_the_verdict_never_says_nothing_while_a_setting_says_check(login, app_overrides):
    """Out of the box (handling and the webhook off) the verdict names each setting and where to set it."""
    text = page(login)
    verdict = text[text.index("What needs attention"):text.index("</section>", text.index("What needs attention"))]
    assert "Nothing" not in verdict
    flagged = [name for name in ("ENABLE_SNS_WEBHOOKS", "ENABLE_BOUNCE_HANDLING", "SNS_TOPIC_ARNS") if f"{name} is " in verdict]
    assert flagged == (["ENABLE_SNS_WEBHOOKS", "ENABLE_BOUNCE_HANDLING", "SNS_TOPIC_ARNS"] if not app_overrides else ["SNS_TOPIC_ARNS"])
    assert verdict.count("Set ") >= len(flagged) and ".env" in verdict and "--check" in verdict


def test_a_confirmed_subscription_and_last_messages_per_topic(client, aws, login):
    confirmation = helpers.sns_confirmation()
    assert helpers.post_sns(client, confirmation).get_json()["outcome"] == "confirmed"
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Delivery", ["ann@example.org"])))
    text = page(login)
    assert f"by message <code>{confirmation['MessageId']}</code>" in text
    assert "last Notification:" in text and ", applied (via sns)" in text


def test_refusals_by_reason_for_a_forged_signature(client, aws, login):
    forged = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"]))
    forged["Message"] = forged["Message"].replace("Permanent", "Transient")
    assert helpers.post_sns(client, forged).status_code == 403
    text = page(login)
    assert '<td data-label="Reason">signature</td><td data-label="24 hours">1</td>' in text
    assert "1 messages failed signature or certificate checks" in text


def stored_malformed(body, key="m-1"):
    report = ProcessedReport(report_key=key, source="sns", kind="Notification", topic_arn=helpers.TOPIC_ARN,
                             outcome="malformed", raw_body=body)
    db.session.add(report)
    db.session.commit()
    return report.id


def test_a_malformed_message_is_shown_and_reprocessed_once_readable(client, login):
    member = helpers.make_member("ann@example.org")
    readable = json.dumps(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient"))
    report_id = stored_malformed(readable)
    stored_malformed("{not json <script>", key="m-2")
    viewer = page(login)
    assert "Reprocess" not in viewer and "&lt;script&gt;" in viewer, "viewers see bodies, escaped, and no button"
    assert "Reprocess" not in page(login, "operator"), "operators read the page only"
    operator = login("admin")
    answer = operator.post_form(f"/bounces/status/reports/{report_id}/reprocess", {}, follow_redirects=True)
    assert "Reprocessed: applied: bounce:Transient:member" in answer.get_data(as_text=True)
    db.session.refresh(member)
    assert member.bounce_count == 1
    assert db.session.scalar(select(ProcessedReport.outcome).where(ProcessedReport.id == report_id)) == "applied"
    again = operator.post_form(f"/bounces/status/reports/{report_id}/reprocess", {}, follow_redirects=True)
    assert "no longer waiting" in again.get_data(as_text=True)
    db.session.refresh(member)
    assert member.bounce_count == 1
    assert db.session.scalars(select(AuditLog.action).where(AuditLog.action == "report.reprocess")).all() == ["report.reprocess"]


def test_an_unreadable_message_stays_malformed_and_the_attempt_is_audited(login):
    report_id = stored_malformed("{not json")
    answer = login("admin").post_form(f"/bounces/status/reports/{report_id}/reprocess", {}, follow_redirects=True)
    assert "still cannot be read" in answer.get_data(as_text=True)
    assert db.session.scalar(select(ProcessedReport.outcome)) == "malformed"
    assert db.session.scalar(select(AuditLog.details).where(AuditLog.action == "report.reprocess")).startswith("still cannot be read")


def test_counts_from_several_processes_add_up(app):
    first, second = door_counts.Counts(), door_counts.Counts()
    for counter, n in ((first, 3), (second, 4)):
        for _ in range(n):
            counter.pending[(door_counts.this_hour(), "sns", "refused", "signature")] += 1
        assert counter.flush()
    first.pending[(door_counts.this_hour(), "sns", "refused", "signature")] += 1
    first.flush()
    assert db.session.execute(select(IntakeCount.count)).scalar_one() == 8


NOW = datetime.now(timezone.utc)


def refusal(refuse):
    """The SnsError the real check raises."""
    with pytest.raises(SnsError) as raised:
        refuse()
    return raised.value


@pytest.mark.parametrize("refuse, reason", [
    (lambda: parse_envelope(json.dumps({"notificationType": "Bounce", "bounce": {}, "mail": {}}).encode()), "raw-delivery"),
    (lambda: check_topic("arn:aws:sns:eu-west-1:1:other", ["arn:aws:sns:eu-west-1:1:mine"]), "topic"),
    (lambda: check_age(NOW - timedelta(hours=2), 3600, NOW), "stale"),
    (lambda: check_age(NOW + timedelta(hours=2), 3600, NOW), "future"),
    (lambda: check_sns_url("https://evil.example/cert.pem", "SigningCertURL", ".pem"), "certificate-url"),
    (lambda: check_certificate(None, NOW), "certificate"),
    (lambda: verify_signature({"SignatureVersion": "1", "Signature": "not base64!"}, None), "signature"),
    (lambda: parse_envelope(b"not json"), "malformed"),
])
def test_each_refusal_is_counted_by_its_class_code(refuse, reason):
    error = refusal(refuse)
    assert error.code == reason and door_counts.refusal_reason(error.status, "refused", error.code) == reason


def test_the_count_never_reads_the_message_text():
    """Rewording a refusal moves no count: the same text under another code counts as that code."""
    assert door_counts.refusal_reason(403, "refused", "topic") == "topic"
    reworded = VerificationFailed("the certificate at SigningCertURL is older than SNS_MAX_MESSAGE_AGE")
    assert door_counts.refusal_reason(reworded.status, "refused", reworded.code) == "signature"
    assert door_counts.refusal_reason(413, "refused", MessageTooLarge("x").code) == "malformed"
    assert door_counts.refusal_reason(502, "refused", UpstreamError("x").code) == "upstream"
    assert door_counts.refusal_reason(503, "storage-failed") == "storage"
    assert door_counts.refusal_reason(200, "applied") == ""


def test_cleanup_prunes_old_counts(app, runner):
    db.session.add(IntakeCount(hour=door_counts.this_hour(utcnow() - timedelta(days=100)), source="sns", outcome="applied", reason="", count=5))
    db.session.add(IntakeCount(hour=door_counts.this_hour(), source="sns", outcome="applied", reason="", count=1))
    db.session.commit()
    runner.invoke(args=["bounces", "cleanup", "--days", "90"])
    assert db.session.scalars(select(IntakeCount.count)).all() == [1]


def test_the_page_needs_a_sign_in(client):
    assert client.get("/bounces/status").status_code == 302
