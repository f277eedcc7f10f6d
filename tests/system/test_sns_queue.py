"""`flask sns poll`: the SNS intake through SQS (moto over HTTP), applying every message once, deleting only what is stored."""

import json
import time

import pytest
from sqlalchemy import select

from maillist import availability
from maillist.aws import client as sqs_client
from maillist.extensions import db
from maillist.models import Member, ProcessedReport
from maillist.transports.sns import queue as sqs_queue
from tests import helpers

WEBHOOK = {"ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}


@pytest.fixture
def app_overrides():
    return WEBHOOK


def make_queue(sqs, name="maillist-intake", visibility=30, dead_letters=None):
    attributes = {"VisibilityTimeout": str(visibility)}
    if dead_letters:
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dead_letters, "maxReceiveCount": 2})
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def enqueue(sqs, url, bodies):
    bodies = list(bodies)
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start:start + 10])]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def waiting(sqs, url):
    """(visible, in flight) messages in the queue."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def transient_bounce(email):
    return helpers.sns_body(helpers.sns_notification(helpers.ses_identity("Bounce", [email], bounce_type="Transient")))


def test_one_poller_applies_each_message_once(app, aws, aws_account):
    sqs = aws_account("sqs")
    url = make_queue(sqs)
    emails = [helpers.make_member(f"m{i:02d}@example.org").email for i in range(20)]
    bodies = [transient_bounce(email) for email in emails for _ in range(3)]
    enqueue(sqs, url, bodies + bodies[:10])  # SQS delivers at least once: 10 arrive twice
    tally = sqs_queue.poll(sqs_client("sqs"), url, wait=0, drain=True)
    assert (tally.stored, tally.left) == (60, 0) and tally.duplicates >= 10  # SQS delivers at least once
    assert tally.received == tally.stored + tally.duplicates
    assert set(db.session.scalars(select(Member.bounce_count))) == {3}
    assert set(db.session.scalars(select(ProcessedReport.source))) == {"sqs"}
    assert waiting(sqs, url) == (0, 0)


def test_a_body_that_can_never_be_processed_is_left_for_the_redrive_policy(app, aws, aws_account, caplog):
    sqs = aws_account("sqs")
    dead = make_queue(sqs, "maillist-intake-dead")
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = make_queue(sqs, visibility=1, dead_letters=dead_arn)
    helpers.make_member("ann@example.org")
    tampered = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"]))
    tampered["Message"] = tampered["Message"].replace("Permanent", "Transient")
    foreign = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"]), topic="arn:aws:sns:eu-west-1:999999999999:x")
    raw_delivery = json.dumps(helpers.ses_identity("Bounce", ["ann@example.org"]))
    enqueue(sqs, url, [json.dumps(tampered), json.dumps(foreign), raw_delivery, "not json"])
    tally = sqs_queue.poll(sqs_client("sqs"), url, wait=0, once=True)
    assert (tally.received, tally.left, tally.stored) == (4, 4, 0)
    assert waiting(sqs, url) == (0, 4), "refused, not deleted"
    logged = caplog.text
    assert "left in the queue for its redrive policy" in logged and "raw message delivery is on" in logged
    time.sleep(1.2)
    assert sqs_queue.poll(sqs_client("sqs"), url, wait=0, once=True).left == 4
    time.sleep(1.2)
    sqs_queue.poll(sqs_client("sqs"), url, wait=0, once=True)  # SQS moves them on the receive after the second
    assert waiting(sqs, url) == (0, 0) and waiting(sqs, dead)[0] == 4
    assert db.session.execute(select(Member.active, Member.bounce_count)).one() == (True, 0)


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, DB_LOCK_WAIT_TIMEOUT=1)])
def test_the_database_down_then_back_loses_nothing_and_deletes_nothing_early(app, aws, aws_account, backend, app_overrides):
    sqs = aws_account("sqs")
    url = make_queue(sqs, visibility=1)
    members = [helpers.make_member(f"m{i}@example.org") for i in range(2)]
    enqueue(sqs, url, [transient_bounce(m.email) for m in members])
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    with helpers.ledger_write_lock(database_url):
        tally = sqs_queue.poll(sqs_client("sqs"), url, wait=0, once=True)
    assert tally.received == 2 and tally.left == 2 and tally.stored == 0
    assert set(tally.outcomes) == {"storage-failed"}
    assert sum(waiting(sqs, url)) == 2, "nothing deleted while the database was down"
    availability.database.reset()
    time.sleep(1.2)
    tally = sqs_queue.poll(sqs_client("sqs"), url, wait=1, drain=True)
    assert tally.stored == 2
    assert set(db.session.scalars(select(Member.bounce_count))) == {1}
    assert waiting(sqs, url) == (0, 0)


def test_drain_waits_for_a_message_in_flight_instead_of_leaving_it(app, aws, aws_account):
    """Another poller took a message and died (or could not store it): --drain takes it when it comes back."""
    sqs = aws_account("sqs")
    url = make_queue(sqs, visibility=1)
    helpers.make_member("ann@example.org")
    enqueue(sqs, url, [transient_bounce("ann@example.org") for _ in range(2)])
    taken = sqs_client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert len(taken) == 1 and waiting(sqs, url) == (1, 1)
    tally = sqs_queue.poll(sqs_client("sqs"), url, wait=0, drain=True)
    assert tally.stored == 2 and waiting(sqs, url) == (0, 0)
    assert db.session.scalar(select(Member.bounce_count)) == 2


def test_a_message_seen_at_the_webhook_first_is_a_duplicate_in_the_queue(app, client, aws, aws_account):
    sqs = aws_account("sqs")
    url = make_queue(sqs)
    helpers.make_member("ann@example.org")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient"))
    app.config["ENABLE_SNS_WEBHOOKS"] = True
    assert helpers.post_sns(client, message).get_json()["outcome"] == "applied"
    enqueue(sqs, url, [helpers.sns_body(message)])
    tally = sqs_queue.poll(sqs_client("sqs"), url, wait=0, once=True)
    assert tally.duplicates == 1
    assert db.session.scalar(select(Member.bounce_count)) == 1
    assert waiting(sqs, url) == (0, 0)


def test_the_command_reads_certificates_from_a_folder_and_says_what_it_did(app, runner, aws_account, tmp_path):
    sqs = aws_account("sqs")
    url = make_queue(sqs)
    helpers.make_member("ann@example.org")
    (tmp_path / helpers.CERT_URL.rsplit("/", 1)[-1]).write_bytes(helpers.cert_pem())
    enqueue(sqs, url, [transient_bounce("ann@example.org") for _ in range(3)])
    result = runner.invoke(args=["sns", "poll", url, "--drain", "--wait", "0", "--cert-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "received 3: stored 3, duplicates 0, left in the queue 0" in result.output
    assert db.session.scalar(select(Member.bounce_count)) == 3


def test_the_command_needs_the_topic_allow_list(app, runner, aws_account):
    app.config["SNS_TOPIC_ARNS"] = []
    result = runner.invoke(args=["sns", "poll", "http://127.0.0.1:1/123456789012/q", "--once"])
    assert result.exit_code == 1 and "SNS_TOPIC_ARNS is empty" in result.output


def test_a_queue_that_is_not_there_is_one_clear_line(app, runner, aws_account, moto_endpoint):
    result = runner.invoke(args=["sns", "poll", f"{moto_endpoint}/123456789012/no-such-queue", "--once", "--wait", "0"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: receiving from the queue: AWS answered"), result.output
