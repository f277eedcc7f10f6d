"""Concurrent deliveries against a live server: exact counts and one effect per message."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import BounceLog, ProcessedReport
from tests import helpers
from tests.system.live_server import serve


@pytest.fixture
def app_overrides(webhook_settings):
    return dict(webhook_settings, SOFT_BOUNCE_THRESHOLD=3)


def post_all(base_url, messages, workers):
    """POST every message at once from `workers` threads; returns the answers."""
    barrier = threading.Barrier(min(workers, len(messages)))

    def send(message):
        session = requests.Session()
        try:
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError:
            pass
        response = session.post(f"{base_url}/webhooks/sns", data=helpers.sns_body(message), headers=dict(helpers.SNS_HEADERS, **{"x-amz-sns-message-type": "Notification"}), timeout=60)
        return response.status_code, response.json()["outcome"]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(send, messages))


def test_fifty_concurrent_bounces_for_one_member_all_count(app, aws):
    aws.add_passthru("http://127.0.0.1")
    member = helpers.make_member("ann@example.org")
    messages = [helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient")) for _ in range(50)]
    with serve(app) as base_url:
        answers = post_all(base_url, messages, workers=25)
    assert answers == [(200, "applied")] * 50
    db.session.refresh(member)
    assert (member.bounce_count, member.bounce_status, member.active) == (50, "soft", True)
    assert db.session.scalar(select(func.count()).select_from(BounceLog)) == 50


def test_same_message_at_once_on_many_workers_has_one_effect(app, aws):
    aws.add_passthru("http://127.0.0.1")
    member = helpers.make_member("ann@example.org")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"], bounce_type="Transient"))
    with serve(app) as base_url:
        answers = post_all(base_url, [message] * 12, workers=12)
    assert sorted(answers) == [(200, "applied")] + [(200, "duplicate")] * 11
    db.session.refresh(member)
    assert member.bounce_count == 1
    assert db.session.scalar(select(func.count()).select_from(BounceLog)) == 1
    assert db.session.scalar(select(func.count()).select_from(ProcessedReport)) == 1


def test_mixed_stream_gives_exact_counts(app, aws):
    aws.add_passthru("http://127.0.0.1")
    members = [helpers.make_member(f"m{i}@example.org") for i in range(5)]
    messages = []
    for member in members:
        messages += [helpers.sns_notification(helpers.ses_event("Bounce", [member.email], bounce_type="Transient")) for _ in range(6)]
    messages += messages[:10]  # SNS redelivers some
    with serve(app) as base_url:
        answers = post_all(base_url, messages, workers=20)
    assert sum(1 for _, outcome in answers if outcome == "applied") == 30
    assert sum(1 for _, outcome in answers if outcome == "duplicate") == 10
    for member in members:
        db.session.refresh(member)
        assert (member.bounce_count, member.bounce_status) == (6, "soft")
