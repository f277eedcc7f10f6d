"""Every answer of every door is counted, also by commands that live less than the counts' flush
interval: `flask bounces process-dsn` (one bounce email) and `flask demo load` write theirs at exit."""

import os
import subprocess
import sys

from sqlalchemy import create_engine, text

from tests.helpers import ROOT


def flask(tmp_path, *args, stdin=None, **settings):
    env = {name: value for name, value in os.environ.items() if not name.startswith(("MAILLIST_", "ENABLE_", "SNS_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/counts.db", "SECRET_KEY": "k", **settings})
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi.py", *args], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=120, env=env)


def counted(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/counts.db")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT source, outcome, SUM(count) FROM intake_count GROUP BY source, outcome")).all()
    engine.dispose()
    return {(source, outcome): int(total) for source, outcome, total in rows}


def test_a_bounce_email_command_counts_its_answer_before_it_exits(tmp_path):
    assert flask(tmp_path, "db", "upgrade").returncode == 0
    result = flask(tmp_path, "bounces", "process-dsn", "--recipient", "club-bounces+1.x@lists.example.org",
                   stdin=b"From: MAILER-DAEMON@mx.example\n\nnot a report\n", ENABLE_EMAIL_BOUNCE_PROCESSING="true")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert counted(tmp_path) == {("email", "no-member-token"): 1}


def test_the_demo_counts_what_it_ran_through_the_webhook_pipeline(tmp_path):
    assert flask(tmp_path, "db", "upgrade").returncode == 0
    result = flask(tmp_path, "demo", "load")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    counts = counted(tmp_path)
    assert counts and sum(counts.values()) > 10 and all(source == "sns" for source, _ in counts), counts
