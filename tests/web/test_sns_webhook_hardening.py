"""The webhook as an attacker meets it: foreign topics, replays under new ids, odd hosts, odd bytes, forged logs."""

import json
import logging

import pytest
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import BounceLog, Member, ProcessedReport
from tests import helpers
from tests.helpers import SNS_VECTORS, need

COMPLAINT_VECTOR = "django-ses_2022-03-28_ses-complaint_notification_sha1.json"


@pytest.fixture
def app_overrides(webhook_settings):
    return webhook_settings


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def serve_vector_certificates(aws):
    for cert in (SNS_VECTORS / "certs").glob("*.pem"):
        aws.get(f"https://sns.us-east-1.amazonaws.com/{cert.name}", body=cert.read_bytes())


def test_genuine_message_from_a_topic_not_listed_is_refused(app, client, aws):
    """Secure by default: another AWS account's genuine message changes nothing."""
    need(SNS_VECTORS.is_dir(), "../shared/sns-vectors is absent")
    serve_vector_certificates(aws)
    app.config["SNS_MAX_MESSAGE_AGE"] = 0
    complainer = helpers.make_member("complaint@simulator.amazonses.com")
    message = json.loads((SNS_VECTORS / "messages" / COMPLAINT_VECTOR).read_text())
    response = helpers.post_sns(client, message)
    assert response.status_code == 403 and "SNS_TOPIC_ARNS" in response.get_json()["detail"]
    db.session.refresh(complainer)
    assert complainer.active and count(ProcessedReport) == 0 and count(BounceLog) == 0


def test_replay_under_a_new_message_id_is_refused(app, client, aws):
    """A genuine complaint re-sent with Subject moved into MessageId: same signature, 403, applied once."""
    need(SNS_VECTORS.is_dir(), "../shared/sns-vectors is absent")
    serve_vector_certificates(aws)
    message = json.loads((SNS_VECTORS / "messages" / COMPLAINT_VECTOR).read_text())
    app.config.update(SNS_MAX_MESSAGE_AGE=0, SNS_TOPIC_ARNS=[message["TopicArn"]])
    helpers.make_member("complaint@simulator.amazonses.com")
    assert helpers.post_sns(client, message).get_json()["outcome"] == "applied"
    forged = dict(message, MessageId=f"{message['MessageId']}\nSubject\n{message['Subject']}")
    del forged["Subject"]
    response = helpers.post_sns(client, forged)
    assert response.status_code == 403 and "line break" in response.get_json()["detail"]
    assert count(ProcessedReport) == 1 and count(BounceLog) == 1


@pytest.mark.parametrize("host", ["sns.s3.amazonaws.com", "sns.localhost.amazonaws.com", "sns.attacker.amazonaws.com"])
def test_lookalike_hosts_are_never_fetched(client, aws, host):
    message = helpers.sns_notification("x", cert_url=f"https://{host}/SimpleNotificationService-abc.pem")
    assert helpers.post_sns(client, message).status_code == 403
    assert len(aws.calls) == 0


def test_certificate_from_another_region_is_refused_before_fetching(client, aws):
    message = helpers.sns_notification("x", cert_url="https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem")
    response = helpers.post_sns(client, message)
    assert response.status_code == 403 and "region" in response.get_json()["detail"]
    assert len(aws.calls) == 0


@pytest.mark.parametrize("body, reason", [
    (b'{"Type": "Notification", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}", "nested"),
    (b'{"Type": "Notification", "x": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}", "nested"),
])
def test_deeply_nested_bodies_answer_400(client, body, reason):
    response = client.post("/webhooks/sns", data=body, headers=helpers.SNS_HEADERS)
    assert response.status_code == 400 and reason in response.get_json()["detail"]


@pytest.mark.parametrize("field", ["MessageId", "Message", "TopicArn", "Subject"])
def test_lone_surrogates_answer_400(client, aws, field):
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"]), subject="s")
    body = json.dumps(dict(message, **{field: "PLACEHOLDER"})).replace("PLACEHOLDER", "\\ud800")
    response = client.post("/webhooks/sns", data=body, headers=helpers.SNS_HEADERS)
    assert response.status_code == 400 and "Unicode" in response.get_json()["detail"]
    assert count(ProcessedReport) == 0


def test_message_id_that_is_not_an_sns_id_is_refused(client, aws):
    member = helpers.make_member("a@example.org")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"]), message_id="my-own-id")
    response = helpers.post_sns(client, message)
    assert response.status_code == 403 and "MessageId" in response.get_json()["detail"]
    db.session.refresh(member)
    assert member.bounce_count == 0


def test_a_newline_in_topic_arn_cannot_forge_a_log_line(client, aws, caplog):
    message = helpers.sns_notification("x", topic=helpers.TOPIC_ARN + "\n2026-12-01 INFO maillist.transports.sns forged outcome=applied")
    with caplog.at_level(logging.INFO):
        response = helpers.post_sns(client, message)
    assert response.status_code == 403
    from maillist.logs import OneLineFormatter

    lines = [OneLineFormatter("%(message)s").format(record) for record in caplog.records if record.name == "maillist.transports.sns"]
    assert lines and all("\n" not in line for line in lines)
    assert any("\\n2026-12-01 INFO" in line for line in lines)


def test_members_stay_untouched_by_every_refusal(client, aws):
    helpers.make_member("a@example.org")
    for message in [
        helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"]), topic="arn:aws:sns:eu-west-1:999999999999:other"),
        helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"]), message_id="x\ny"),
    ]:
        assert helpers.post_sns(client, message).status_code == 403
    assert db.session.scalar(select(Member.bounce_count)) == 0


def sns_lines(caplog):
    return [record.getMessage() for record in caplog.records if record.name == "maillist.transports.sns"]


@pytest.mark.parametrize("body, headers, line", [
    (b"not json", {}, "sns type=- topic=- message_id=- outcome=refused status=400 body is not JSON"),
    (b"x" * (600 * 1024), {}, "sns type=- topic=- message_id=- outcome=refused status=413 body is larger than"),
])
def test_early_refusals_log_the_same_line_with_dashes(client, caplog, body, headers, line):
    with caplog.at_level(logging.INFO):
        client.post("/webhooks/sns", data=body, headers=dict(helpers.SNS_HEADERS, **headers))
    assert any(message.startswith(line) for message in sns_lines(caplog)), sns_lines(caplog)


def test_a_switched_off_webhook_logs_its_404(app, client, caplog):
    app.config["ENABLE_SNS_WEBHOOKS"] = False
    with caplog.at_level(logging.INFO):
        assert client.post("/webhooks/sns", data=b"{}").status_code == 404
    assert sns_lines(caplog) == ["sns type=- topic=- message_id=- outcome=disabled status=404 ENABLE_SNS_WEBHOOKS is off"]
