"""`flask sns replay`: saved messages through the webhook's own pipeline."""

import json

import pytest
from sqlalchemy import select

from maillist.extensions import db
from maillist.models import BounceLog
from tests import helpers
from tests.helpers import SNS_VECTORS, need


@pytest.fixture
def app_overrides(webhook_settings):
    return dict(webhook_settings, SNS_MAX_MESSAGE_AGE=0)


def save(tmp_path, name, message):
    path = tmp_path / name
    path.write_text(json.dumps(message))
    return str(path)


def test_replay_genuine_vectors_with_local_certificates(runner, app):
    need(SNS_VECTORS.is_dir(), "../shared/sns-vectors is absent")
    app.config["SNS_TOPIC_ARNS"] = ["*"]  # the vectors come from many accounts' topics
    member = helpers.make_member("bounce@simulator.amazonses.com")
    files = [str(p) for p in sorted((SNS_VECTORS / "messages").glob("*notification*.json"))]
    result = runner.invoke(args=["sns", "replay", "--cert-dir", str(SNS_VECTORS / "certs"), *files])
    assert result.exit_code == 0, result.output
    assert "django-ses_2022-04-01_ses-bounce_notification_nosubject_sha1.json: applied 200 bounce:Permanent:member" in result.output
    db.session.refresh(member)
    assert member.bounce_status == "hard"
    again = runner.invoke(args=["sns", "replay", "--cert-dir", str(SNS_VECTORS / "certs"), files[-1]])
    assert ": duplicate 200" in again.output


def test_replay_skip_verify_and_tampered(runner, tmp_path, aws):
    member = helpers.make_member("ann@example.org")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient"))
    tampered = dict(message, Message=message["Message"].replace("Transient", "Permanent").replace("4.4.7", "5.1.1"))
    refused = runner.invoke(args=["sns", "replay", save(tmp_path, "t.json", tampered)])
    assert refused.exit_code != 0
    assert "refused 403 signature does not match the message" in refused.output
    unsigned = dict(tampered, Signature="bm90IGEgc2lnbmF0dXJl")
    local = runner.invoke(args=["sns", "replay", "--skip-verify", save(tmp_path, "u.json", unsigned)])
    assert local.exit_code == 0 and "applied 200 bounce:Permanent:member" in local.output
    db.session.refresh(member)
    assert member.bounce_status == "hard"
    assert db.session.scalar(select(BounceLog.report_key)) == message["MessageId"]


def test_replay_reports_unreadable_files(runner, tmp_path):
    path = tmp_path / "junk.json"
    path.write_text("not json")
    result = runner.invoke(args=["sns", "replay", str(path)])
    assert result.exit_code != 0 and "refused (body is not JSON)" in result.output


def test_every_message_gets_a_structured_log_line(client, aws, caplog):
    caplog.set_level("INFO", logger="maillist.transports.sns")
    message = helpers.sns_notification(helpers.ses_identity("Delivery", ["a@example.org"]))
    helpers.post_sns(client, message)
    lines = [r.getMessage() for r in caplog.records if r.name == "maillist.transports.sns"]
    assert lines == [f"sns type=Notification topic={helpers.TOPIC_ARN} message_id={message['MessageId']} outcome=applied status=200 delivery:1"]
