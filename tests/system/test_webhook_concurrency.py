"""Concurrent deliveries against a live server: exact counts and one effect per message."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import AuditLog, BounceLog, Member, ProcessedReport
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


@pytest.mark.parametrize("backend", ["sqlite"])
def test_more_writers_than_pooled_connections_while_counts_are_written_out(app, aws, monkeypatch):
    # Every answer writes the intake counts out (a writer that takes the queue, then a pooled
    # connection) while 40 deliveries wait for the queue: none may wait holding a connection.
    from maillist.intake import door_counts

    monkeypatch.setattr(door_counts, "FLUSH_SECONDS", 0)
    aws.add_passthru("http://127.0.0.1")
    members = [helpers.make_member(f"m{i}@example.org") for i in range(40)]
    messages = [helpers.sns_notification(helpers.ses_identity("Bounce", [m.email], bounce_type="Transient")) for m in members]
    with serve(app) as base_url:
        answers = post_all(base_url, messages, workers=40)
    assert answers == [(200, "applied")] * 40
    assert db.session.scalar(select(func.sum(Member.bounce_count))) == 40


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


def signed_in(base_url, email, password="a long enough password"):
    """A requests session signed in as `email`, and the CSRF token its forms carry."""
    session = requests.Session()
    token = helpers.CSRF_FIELD.search(session.get(f"{base_url}/login").text).group(1)
    session.post(f"{base_url}/login", data={"csrf_token": token, "email": email, "password": password}, timeout=30)
    page = session.get(f"{base_url}/members/", timeout=30).text
    return session, helpers.CSRF_FIELD.search(page).group(1)


def test_two_staff_deactivating_all_at_once_while_bounces_arrive(app, aws):
    """The same bulk deactivation posted by two staff at once, with bounces for the same members
    arriving meanwhile: each member is deactivated once (one audit entry, one history row), and
    every bounce still counts."""
    aws.add_passthru("http://127.0.0.1")
    members = [helpers.make_member(f"m{i}@example.org") for i in range(30)]
    for email in ("one@example.org", "two@example.org"):
        helpers.make_user(email, role="operator")
    bounces = [helpers.sns_notification(helpers.ses_identity("Bounce", [member.email], bounce_type="Transient"))
               for member in members[:20]]
    with serve(app) as base_url:
        staff = [signed_in(base_url, email) for email in ("one@example.org", "two@example.org")]
        barrier = threading.Barrier(len(staff) + 1)

        def deactivate_all(session_and_token):
            session, token = session_and_token
            barrier.wait(timeout=30)
            return session.post(f"{base_url}/members/bulk", data={"csrf_token": token, "action": "deactivate",
                                                                  "scope": "all", "confirmed": "yes"},
                                allow_redirects=False, timeout=60).status_code

        def bounce_all():
            barrier.wait(timeout=30)
            return post_all(base_url, bounces, workers=10)

        with ThreadPoolExecutor(max_workers=3) as pool:
            bulk_answers = [pool.submit(deactivate_all, pair) for pair in staff]
            bounce_answers = pool.submit(bounce_all).result()
            assert [answer.result() for answer in bulk_answers] == [303, 303]
    assert bounce_answers == [(200, "applied")] * 20
    for member in members:
        db.session.refresh(member)
        assert (member.active, member.deactivated_by) == (False, "staff")
        assert member.bounce_count == (1 if member.email in {m.email for m in members[:20]} else 0)
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "member.deactivate")) == 30
    assert db.session.scalar(select(func.count()).select_from(BounceLog).where(BounceLog.event == "staff")) == 30
