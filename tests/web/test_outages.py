"""Outages: fail fast while the database is away, wait a bounded time for locks, apply once afterwards."""

import sqlite3
import time

import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import make_url

from maillist import availability, create_app
from maillist.extensions import db
from maillist.mariadb import connect_args
from maillist.models import BounceLog, Member, ProcessedReport
from tests import helpers
from tests.helpers import app_settings


@pytest.fixture
def app_overrides(webhook_settings):
    return dict(webhook_settings, DB_LOCK_WAIT_TIMEOUT=1)


def test_tls_only_when_the_url_asks_for_it():
    plain = connect_args(make_url("mysql+pymysql://u:p@127.0.0.1/db"), 5)
    assert plain["ssl_disabled"] is True and "lock_wait_timeout = 5" in plain["init_command"]
    wanted = connect_args(make_url("mysql+pymysql://u:p@db.example/db?ssl_ca=/etc/ca.pem"), 5)
    assert "ssl_disabled" not in wanted
    # A frozen server answers nothing: the driver stops waiting one second after the statement limit.
    limits = connect_args(make_url("mysql+pymysql://u:p@db.example/db"), 5, 8)
    assert (limits["read_timeout"], limits["write_timeout"], limits["connect_timeout"]) == (9, 9, 9)


def test_a_database_that_is_away_is_not_dialled_for_every_request(tmp_path, aws, monkeypatch):
    monkeypatch.setattr(availability.database, "probe_every", 60)  # no half-open probe during the test
    url = f"mysql+pymysql://maillist:pw@127.0.0.1:{helpers.free_port()}/maillist"
    app = create_app(overrides=app_settings(url, ENABLE_SNS_WEBHOOKS=True, ENABLE_BOUNCE_HANDLING=True,
                                            SNS_TOPIC_ARNS=[helpers.TOPIC_ARN]), instance_path=str(tmp_path))
    attempts = []
    with app.app_context():
        event.listen(db.engine, "do_connect", lambda *args: attempts.append(1))
    client = app.test_client()

    def post():
        return helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"])))

    first = post()
    assert first.status_code == 503 and attempts
    dialled = len(attempts)
    later = [post() for _ in range(20)]
    assert all(r.status_code == 503 and r.get_json()["detail"] == "database unavailable" for r in later)
    assert len(attempts) == dialled  # the breaker answered; nobody dialled the database
    availability.database.reset()  # as OPEN_FOR seconds later
    assert post().status_code == 503 and len(attempts) > dialled


def test_the_breaker_lets_one_probe_through_every_half_second_and_a_success_closes_it(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(availability.time, "monotonic", lambda: clock[0])
    breaker = availability.Breaker(open_for=2.0, probe_every=0.5)
    breaker.trip()
    assert [breaker.is_open() for _ in range(3)] == [True] * 3
    clock[0] += 0.5
    assert [breaker.is_open() for _ in range(3)] == [False, True, True]  # one probe, the rest refused
    assert breaker.is_open(probe=False)  # background work never takes the probe
    breaker.trip()  # the probe failed: open again
    clock[0] += 0.5
    assert not breaker.is_open()
    breaker.reset()  # the probe succeeded
    assert [breaker.is_open() for _ in range(3)] == [False] * 3
    breaker.trip()
    clock[0] += 2.0
    assert not breaker.is_open() and not breaker.is_open()  # the time is up: closed


def bounce_for(email):
    return helpers.sns_notification(helpers.ses_identity("Bounce", [email], bounce_type="Transient"))


def test_a_blocked_write_answers_503_within_the_limit_then_applies_once(app, client, aws, backend):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    member = helpers.make_member("ann@example.org")
    message = bounce_for("ann@example.org")
    with helpers.ledger_write_lock(database_url):
        started = time.monotonic()
        blocked = helpers.post_sns(client, message)
        waited = time.monotonic() - started
    assert blocked.status_code == 503 and waited < 5, (blocked.get_json(), waited)
    availability.database.reset()
    assert helpers.post_sns(client, message).get_json()["outcome"] == "applied"
    assert helpers.post_sns(client, message).get_json()["outcome"] == "duplicate"
    db.session.refresh(member)
    assert member.bounce_count == 1 and db.session.scalar(select(func.count()).select_from(BounceLog)) == 1


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's own write lock; MariaDB's is the table lock above
def test_sqlite_busy_with_another_writer_is_bounded_too(app, client, aws, backend):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    helpers.make_member("ann@example.org")
    other = sqlite3.connect(make_url(database_url).database)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = helpers.post_sns(client, bounce_for("ann@example.org"))
        waited = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    assert response.status_code == 503 and waited < 5
    assert db.session.scalar(select(Member.bounce_count)) == 0
    assert db.session.scalar(select(func.count()).select_from(ProcessedReport)) == 0


def pooled_connection_ids(app):
    """The server thread ids of the connections resting in the app's pool."""
    with app.app_context():
        records = list(db.engine.pool._pool.queue)
    return [record.dbapi_connection.thread_id() for record in records if record.dbapi_connection is not None]


@pytest.mark.parametrize("backend", ["mariadb"])  # SQLite has no server to drop a connection
def test_a_connection_lost_while_resting_is_replaced_without_losing_the_message(app, client, aws, backend):
    """No ping on every checkout: a connection the server dropped fails its first statement, and
    the intake runs the transaction again on a new one, once."""
    helpers.make_member("ann@example.org")
    assert helpers.post_sns(client, bounce_for("ann@example.org")).status_code == 200  # a connection rests in the pool
    killed = pooled_connection_ids(app)
    assert killed
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # not one of the pool's own
    with other.connect() as admin:
        for thread_id in killed:
            admin.exec_driver_sql(f"KILL {int(thread_id)}")
    other.dispose()
    answer = helpers.post_sns(client, bounce_for("ann@example.org"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Member.bounce_count).where(Member.email == "ann@example.org")) == 2
    assert db.session.scalar(select(func.count()).select_from(ProcessedReport)) == 2
