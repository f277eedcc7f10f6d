"""Two gunicorn servers on one MariaDB database, as two `api` replicas behind nginx would be:
the same SNS message sent to both at once has one effect, and a bounce stream split across
both gives exact counts."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import BounceLog, ProcessedReport
from tests import helpers
from tests.system.gunicorn_servers import gunicorn

HEADERS = dict(helpers.SNS_HEADERS, **{"x-amz-sns-message-type": "Notification"})


@pytest.fixture
def backend():
    return "mariadb"


@pytest.fixture
def replicas(app, database_url, tmp_path):
    with gunicorn(database_url, tmp_path) as first, gunicorn(database_url, tmp_path) as second:
        yield first, second


def post(base, message):
    response = requests.post(f"{base}/webhooks/sns", data=helpers.sns_body(message), headers=HEADERS, timeout=60)
    return response.status_code, response.json()["outcome"]


def test_same_message_to_both_replicas_at_once(replicas):
    member = helpers.make_member("ann@example.org")
    outcomes = []
    for _ in range(10):
        message = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient"))
        barrier = threading.Barrier(len(replicas) * 2)

        def send(base):
            barrier.wait(timeout=30)
            return post(base, message)

        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes.append(sorted(pool.map(send, replicas * 2)))
    assert all(result == [(200, "applied")] + [(200, "duplicate")] * 3 for result in outcomes), outcomes
    db.session.refresh(member)
    assert member.bounce_count == 10
    assert db.session.scalar(select(func.count()).select_from(BounceLog)) == 10
    assert db.session.scalar(select(func.count()).select_from(ProcessedReport)) == 10


def test_bounce_stream_split_across_replicas(replicas):
    members = [helpers.make_member(f"m{i}@example.org") for i in range(5)]
    stream = [helpers.sns_notification(helpers.ses_event("Bounce", [m.email], bounce_type="Transient")) for m in members for _ in range(20)]
    stream += stream[::7]  # SNS redelivers some, possibly to the other replica
    jobs = [(replicas[i % 2], message) for i, message in enumerate(stream)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda job: post(*job), jobs))
    assert all(status == 200 for status, _ in results)
    assert sum(outcome == "applied" for _, outcome in results) == 100
    assert sum(outcome == "duplicate" for _, outcome in results) == len(stream) - 100
    for member in members:
        db.session.refresh(member)
        assert (member.bounce_count, member.bounce_status) == (20, "soft")
