"""A setting maillist cannot use stops every entry point with one line naming it: flask, and gunicorn's master."""

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT, free_port

BAD = [
    ("SOFT_BOUNCE_THRESHOLD", "abc"), ("SOFT_BOUNCE_THRESHOLD", "0"), ("ENABLE_SNS_WEBHOOKS", "maybe"),
    ("ENABLE_BOUNCE_HANDLING", "2"), ("ENABLE_EMAIL_BOUNCE_PROCESSING", "sometimes"), ("SNS_MAX_MESSAGE_AGE", "-1"),
    ("COMPLAINT_ACTION", "shout"), ("LOG_LEVEL", "LOUD"), ("SNS_TOPIC_ARNS", "any text"), ("DATABASE_URL", "not-a-url"),
    ("DATABASE_URL", "postgresql://u@127.0.0.1/db"), ("PROXY_FIX_HOPS", "two"), ("SESSION_COOKIE_SECURE", "perhaps"),
    ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "0"), ("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS", "x"),
    ("LOGIN_MAX_FAILURES_PER_ADDRESS", "-3"), ("LOGIN_FAILURE_WINDOW", "soon"), ("SESSION_IDLE_TIMEOUT", "10"),
    ("SESSION_MAX_AGE", "forever"), ("GUNICORN_WORKERS", "many"), ("GUNICORN_THREADS", "0"),
    ("NOTIFY_FROM", "not an address"), ("NOTIFY_ADMIN", "admins"), ("PUBLIC_URL", "lists"),
    ("DATABASE_URL", "sqlite:////nonexistent-maillist-folder/dir/x.db"), ("BOUNCE_ADDRESS_OLD_KEYS", "yesterday:key"),
    ("BOUNCE_ADDRESS_OLD_KEYS", "2026-01-01"), ("BOUNCE_ADDRESS_MAX_AGE_DAYS", "0"),
]


def environment(tmp_path, **settings):
    env = {name: value for name, value in os.environ.items() if not name.startswith(("MAILLIST_", "ENABLE_", "SNS_", "LOGIN_", "SESSION_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/bad.db", "SECRET_KEY": "k", **settings})
    return env


def one_line_naming(stderr, name):
    lines = [line for line in stderr.splitlines() if "configuration error" in line]
    return len(lines) == 1 and name in lines[0] and "Traceback" not in stderr


@pytest.mark.parametrize("name, value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_flask_stops_with_one_line(tmp_path, name, value):
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi.py", "routes"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env=environment(tmp_path, **{name: value}))
    assert result.returncode != 0 and one_line_naming(result.stderr, name), result.stderr[-2000:]


@pytest.mark.parametrize("name, value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_gunicorn_stops_instead_of_respawning(tmp_path, name, value):
    result = subprocess.run([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, env=environment(tmp_path, **{name: value}))
    assert result.returncode != 0 and one_line_naming(result.stderr, name), result.stderr[-2000:]
    assert result.stderr.count("Booting worker") <= 1


def test_a_database_url_in_a_missing_folder_creates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path}/typo/dir/x.db"
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi.py", "db", "upgrade"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env=environment(tmp_path, DATABASE_URL=url))
    assert result.returncode != 0 and one_line_naming(result.stderr, "DATABASE_URL"), result.stderr[-2000:]
    assert f"{tmp_path}/typo" in result.stderr
    assert not (tmp_path / "typo").exists()


def test_the_webhook_without_a_topic_list_stops_gunicorn(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, env=environment(tmp_path, ENABLE_SNS_WEBHOOKS="true"))
    assert result.returncode != 0 and one_line_naming(result.stderr, "SNS_TOPIC_ARNS"), result.stderr[-2000:]
