"""Long commands draw a progress bar on a terminal only; a summary line is printed always."""

import os
import pty
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import create_engine, insert

from maillist.models import BounceLog
from maillist.models.types import utcnow
from tests.helpers import ROOT


def environment(tmp_path):
    env = {name: value for name, value in os.environ.items() if not name.startswith(("MAILLIST_", "ENABLE_", "SNS_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/progress.db", "SECRET_KEY": "k", "LOG_LEVEL": "INFO"})
    return env


def flask(tmp_path, *args, terminal=False):
    """Run a flask command; with `terminal`, its standard error is a terminal (a pty). Returns
    (exit status, standard output, what reached standard error)."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi.py", *args]
    if not terminal:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180, env=environment(tmp_path))
        return result.returncode, result.stdout, result.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL,
                               env=environment(tmp_path))
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the command closed the terminal's other end
            break
        if not chunk:
            break
        seen += chunk
    out = process.stdout.read().decode()
    process.wait(timeout=180)
    os.close(leader)
    return process.returncode, out, seen.decode(errors="replace")


def old_bounce_logs(tmp_path, count):
    engine = create_engine(f"sqlite:///{tmp_path}/progress.db")
    old = utcnow() - timedelta(days=200)
    with engine.begin() as connection:
        connection.execute(insert(BounceLog.__table__), [
            {"email": f"m{i}@example.org", "event": "bounce", "occurred_at": old} for i in range(count)])
    engine.dispose()


def test_cleanup_shows_its_progress_on_a_terminal_and_only_its_summary_elsewhere(tmp_path):
    assert flask(tmp_path, "db", "upgrade")[0] == 0
    old_bounce_logs(tmp_path, 12_000)
    status, out, terminal = flask(tmp_path, "bounces", "cleanup", "--days", "90", terminal=True)
    assert status == 0, terminal
    assert "deleting old rows" in terminal and "100%" in terminal, terminal
    assert out.startswith("deleted 12000 bounce log rows, 0 processed-message records")
    old_bounce_logs(tmp_path, 3_000)
    status, out, errors = flask(tmp_path, "bounces", "cleanup", "--days", "90")
    assert status == 0 and out.startswith("deleted 3000 bounce log rows")
    assert "deleting old rows" not in errors and "%" not in errors


def test_the_demo_shows_a_bar_instead_of_its_log_lines_on_a_terminal(tmp_path):
    assert flask(tmp_path, "db", "upgrade")[0] == 0
    status, out, terminal = flask(tmp_path, "demo", "load", terminal=True)
    assert status == 0, terminal
    assert "running sample notifications" in terminal and "100%" in terminal
    assert " INFO " not in terminal, terminal
    assert out.startswith("loaded 3 lists and ")


def test_the_demo_elsewhere_keeps_its_log_lines_and_summary(tmp_path):
    assert flask(tmp_path, "db", "upgrade")[0] == 0
    status, out, errors = flask(tmp_path, "demo", "load")
    assert status == 0 and out.startswith("loaded 3 lists and ")
    assert "running sample notifications" not in errors
