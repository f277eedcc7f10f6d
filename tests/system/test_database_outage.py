"""Fault injection: a MariaDB of the test's own, killed with -9 and restarted during a stream of signed
bounces that a client retries as SNS does. Every message is stored once; every count is exact."""

import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from maillist import create_app
from maillist.extensions import db
from tests import helpers
from tests.helpers import free_port, need
from tests.system.gunicorn_servers import gunicorn

MARIADBD, INSTALL_DB = "/usr/sbin/mariadbd", shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"


class OwnMariaDB:
    """A throw-away MariaDB server: its own data folder and port, started, killed and started again."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="maillist-mariadb-"))
        self.port = free_port()
        self.process = None
        shutil.chown(self.base, user="mysql")
        subprocess.run([INSTALL_DB, f"--datadir={self.base / 'data'}", "--user=mysql", "--skip-test-db",
                        "--auth-root-authentication-method=normal"], check=True, capture_output=True, timeout=120)

    def start(self):
        self.process = subprocess.Popen(
            [MARIADBD, "--no-defaults", f"--datadir={self.base / 'data'}", f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--socket={self.base / 'mysqld.sock'}", f"--pid-file={self.base / 'mysqld.pid'}", "--user=mysql",
             "--skip-grant-tables", "--skip-log-bin", "--innodb-buffer-pool-size=32M"],
            stdout=subprocess.DEVNULL, stderr=open(self.base / "error.log", "ab"))
        engine = create_engine(self.server_url)
        deadline = time.monotonic() + 60
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                break
            except Exception:  # noqa: BLE001 - still starting
                if time.monotonic() > deadline:
                    raise RuntimeError((self.base / "error.log").read_text()[-2000:])
                time.sleep(0.2)
        engine.dispose()

    def kill(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    @property
    def server_url(self):
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/"

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def own_mariadb():
    need(os.path.exists(MARIADBD) and os.path.exists(INSTALL_DB), "no MariaDB server binaries (apt-get install mariadb-server)")
    need(os.geteuid() == 0, "running a MariaDB server of the test's own needs root")
    server = OwnMariaDB()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def migrated(server):
    """The maillist database on the server, built by the migrations, with 20 members."""
    admin = create_engine(server.server_url)
    with admin.begin() as connection:
        connection.execute(text("CREATE DATABASE maillist CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    admin.dispose()
    url = server.server_url + "maillist"
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "k"}, instance_path=tempfile.mkdtemp())
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.session.execute(text("INSERT INTO member (name, email, active, bounce_count, bounce_status, created_at, updated_at) "
                                "VALUES " + ", ".join(f"('M{i}', 'm{i}@example.org', 1, 0, 'clean', NOW(), NOW())" for i in range(20))))
        db.session.commit()
        db.engine.dispose()
    return url


def deliver_like_sns(base, bodies, outcomes, refusals, answers=None, give_up_after=120):
    """Post each body until it is answered 200, retrying 5xx and time-outs a little later, as SNS
    does (SNS waits 15 s for an answer); `answers` gets how long each answer took, in seconds."""
    session = requests.Session()
    for body in bodies:
        deadline = time.monotonic() + give_up_after
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                response = session.post(f"{base}/webhooks/sns", data=body, headers=helpers.SNS_HEADERS, timeout=15)
                if answers is not None:
                    answers.append(time.monotonic() - started)
                if response.status_code == 200:
                    outcomes.append(response.json()["outcome"])
                    break
                refusals.append(response.status_code)
            except requests.RequestException as error:
                refusals.append(type(error).__name__)
            time.sleep(0.2)
        else:
            outcomes.append("lost")


def bounces(count, seed=3):
    """`count` signed transient bounces for the 20 members, and how many each member gets."""
    rng = random.Random(seed)
    sent, bodies = {}, []
    for _ in range(count):
        address = f"m{rng.randrange(20)}@example.org"
        sent[address] = sent.get(address, 0) + 1
        bodies.append(json.dumps(helpers.sns_notification(helpers.ses_identity("Bounce", [address], bounce_type="Transient"))))
    return bodies, sent


def stream_with_fault(base, bodies, fault, answers=None):
    """Three SNS-like senders stream `bodies`; `fault()` runs once they are well into it. Returns
    the outcomes and the refusals on the way."""
    outcomes, refusals = [], []
    streams = [threading.Thread(target=deliver_like_sns, args=(base, bodies[i::3], outcomes, refusals, answers))
               for i in range(3)]
    for stream in streams:
        stream.start()
    deadline = time.monotonic() + 60
    while len(outcomes) < 40 and time.monotonic() < deadline:  # well into the stream
        time.sleep(0.01)
    fault()
    for stream in streams:
        stream.join(timeout=300)
    return outcomes, refusals


def assert_stored_once(url, bodies, sent, outcomes, refusals):
    """Every message answered 200 in the end and stored once, every count exact; the outage was
    seen, and answered 503 throughout (no time-out, no other error)."""
    assert "lost" not in outcomes and len(outcomes) == len(bodies)
    assert refusals and set(refusals) <= {503}, refusals[:20]
    assert set(outcomes) <= {"applied", "duplicate"}
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = dict(connection.execute(text("SELECT email, bounce_count FROM member")).all())
        stored = connection.execute(text("SELECT COUNT(*) FROM processed_report")).scalar()
        logged = connection.execute(text("SELECT COUNT(*) FROM bounce_log")).scalar()
    engine.dispose()
    assert stored == len(bodies) and logged == len(bodies)
    assert {address: counts[address] for address in sent} == sent


def test_mariadb_killed_and_restarted_mid_stream(own_mariadb, tmp_path):
    url = migrated(own_mariadb)
    bodies, sent = bounces(400)

    def kill_and_restart():
        own_mariadb.kill()
        time.sleep(3.0)
        own_mariadb.start()

    with gunicorn(url, tmp_path, workers=2, threads=2, DB_LOCK_WAIT_TIMEOUT=2) as base:
        outcomes, refusals = stream_with_fault(base, bodies, kill_and_restart)
    assert_stored_once(url, bodies, sent, outcomes, refusals)


def test_mariadb_frozen_for_20_seconds_answers_every_request_within_10(own_mariadb, tmp_path):
    """A stopped server (SIGSTOP: a hung host, a full disk) answers nothing, not even an error."""
    url = migrated(own_mariadb)
    bodies, sent = bounces(300, seed=4)
    answers = []

    def freeze():
        os.kill(own_mariadb.process.pid, signal.SIGSTOP)
        try:
            time.sleep(20)
        finally:
            os.kill(own_mariadb.process.pid, signal.SIGCONT)

    with gunicorn(url, tmp_path, workers=2, threads=2, DB_LOCK_WAIT_TIMEOUT=2, DB_STATEMENT_TIMEOUT=5) as base:
        outcomes, refusals = stream_with_fault(base, bodies, freeze, answers)
    assert max(answers) < 10, sorted(answers)[-5:]
    assert_stored_once(url, bodies, sent, outcomes, refusals)


def test_the_ledger_locked_for_20_seconds_answers_every_request_within_10(own_mariadb, tmp_path):
    """Another writer holds the ledger's table for 20 s: each request waits at most the lock limit,
    and the breaker answers the rest at once."""
    url = migrated(own_mariadb)
    bodies, sent = bounces(300, seed=5)
    answers = []

    def lock_for_20_seconds():
        with helpers.ledger_write_lock(url):
            time.sleep(20)

    with gunicorn(url, tmp_path, workers=2, threads=2, DB_LOCK_WAIT_TIMEOUT=2, DB_STATEMENT_TIMEOUT=5) as base:
        outcomes, refusals = stream_with_fault(base, bodies, lock_for_20_seconds, answers)
    assert max(answers) < 10, sorted(answers)[-5:]
    assert_stored_once(url, bodies, sent, outcomes, refusals)
