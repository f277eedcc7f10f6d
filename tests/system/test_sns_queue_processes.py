"""`flask sns poll` as real processes on one queue (moto over HTTP): many messages, two pollers, one killed."""

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import BounceLog, Member, ProcessedReport
from tests import helpers

ROOT = helpers.ROOT


@pytest.fixture
def app_overrides():
    return {"ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}


@pytest.fixture
def cert_dir(tmp_path):
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / helpers.CERT_URL.rsplit("/", 1)[-1]).write_bytes(helpers.cert_pem())
    return folder


def poller(database_url, queue_url, cert_dir, *options):
    """A `flask sns poll` process with the settings a poller service would have."""
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="test", ENABLE_BOUNCE_HANDLING="true",
               SNS_TOPIC_ARNS=helpers.TOPIC_ARN, LOG_LEVEL="WARNING", FLASK_SKIP_DOTENV="1", PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "sns", "poll", queue_url,
                             "--cert-dir", str(cert_dir), *options],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def enqueue(sqs, url, bodies):
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start:start + 10])]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def bounces_for(emails, each):
    return [helpers.sns_body(helpers.sns_notification(helpers.ses_identity("Bounce", [email], bounce_type="Transient")))
            for email in emails for _ in range(each)]


def left_in(sqs, url):
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def stored():
    db.session.rollback()  # a fresh snapshot: the pollers write from other processes
    return db.session.scalar(select(func.count()).select_from(ProcessedReport))


# moto's SQS slows down as a queue grows (about 70 ms a message at a thousand on a 2-core machine):
# the thousand run on MariaDB, our production database, and a third of it on SQLite.
@pytest.mark.parametrize("backend, members", [("mariadb", 200), ("sqlite", 60)])
def test_two_poller_processes_apply_every_message_once(app, aws_account, cert_dir, backend, members):
    sqs = aws_account("sqs")
    # A message a poller could not store (SQLite busy with the other one) comes back within seconds,
    # and --drain waits for it: the queue must be empty, nothing in flight, before a poller stops.
    url = sqs.create_queue(QueueName="maillist-intake", Attributes={"VisibilityTimeout": "3"})["QueueUrl"]
    emails = [helpers.make_member(f"m{i:03d}@example.org").email for i in range(members)]
    bodies = bounces_for(emails, 5)
    enqueue(sqs, url, bodies + bodies[:50])  # SQS delivers at least once: 50 arrive twice
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    pollers = [poller(database_url, url, cert_dir, "--drain", "--wait", "2") for _ in range(2)]
    outputs = [process.communicate(timeout=600) for process in pollers]
    assert all(process.returncode == 0 for process in pollers), outputs
    tallies = [out.strip().splitlines()[-1] for out, _ in outputs]
    counted = [dict(zip(("stored", "duplicates", "left"), (int(part.split()[-1]) for part in line.split(": ", 1)[1].split(", "))))
               for line in tallies]
    assert all(c["stored"] + c["duplicates"] > 0 for c in counted), tallies  # both took part
    # SQS may hand a message out again (at-least-once): then it counts as one more duplicate, never twice.
    assert sum(c["stored"] for c in counted) == members * 5 and sum(c["duplicates"] for c in counted) >= 50, tallies
    assert set(db.session.scalars(select(Member.bounce_count))) == {5}
    assert db.session.scalar(select(func.count()).select_from(BounceLog)) == members * 5
    assert left_in(sqs, url) == 0


@pytest.mark.parametrize("backend", ["mariadb"])  # what a kill tests is the queue's redelivery, not the database
def test_a_poller_killed_mid_batch_loses_nothing(app, aws_account, cert_dir, backend):
    sqs = aws_account("sqs")
    url = sqs.create_queue(QueueName="maillist-intake", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
    emails = [helpers.make_member(f"m{i:02d}@example.org").email for i in range(60)]
    enqueue(sqs, url, bounces_for(emails, 5))
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    victim = poller(database_url, url, cert_dir, "--wait", "1")
    deadline = time.monotonic() + 120
    while stored() < 40:
        assert victim.poll() is None and time.monotonic() < deadline, victim.communicate()
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    assert stored() < 300, "killed before the end"
    time.sleep(2.5)  # what it had received and not deleted comes back after the visibility timeout
    survivor = poller(database_url, url, cert_dir, "--drain", "--wait", "3")
    out, err = survivor.communicate(timeout=600)
    assert survivor.returncode == 0, err
    assert stored() == 300
    assert set(db.session.scalars(select(Member.bounce_count))) == {5}
    assert db.session.scalar(select(func.count()).select_from(BounceLog)) == 300
    assert left_in(sqs, url) == 0
    assert "left in the queue 0" in out
