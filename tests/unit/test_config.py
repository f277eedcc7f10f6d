"""Configuration: defaults, refused values, the generated secret key, SQLite settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from config import Config, ConfigError
from maillist import create_app
from maillist.extensions import db
from tests.helpers import ROOT



def test_defaults():
    config = Config({})
    assert config.ENABLE_SNS_WEBHOOKS is False
    assert config.ENABLE_BOUNCE_HANDLING is False
    assert config.SOFT_BOUNCE_THRESHOLD == 3
    assert config.SNS_MAX_MESSAGE_AGE == 86400
    assert config.SNS_TOPIC_ARNS == []
    assert config.COMPLAINT_ACTION == "deactivate"


def test_values_from_environment():
    topics = "arn:aws:sns:eu-west-1:123456789012:ses-bounces, arn:aws-cn:sns:cn-north-1:123456789012:b.fifo"
    config = Config({"ENABLE_SNS_WEBHOOKS": "yes", "SOFT_BOUNCE_THRESHOLD": "5", "SNS_TOPIC_ARNS": topics})
    assert config.ENABLE_SNS_WEBHOOKS is True
    assert config.SOFT_BOUNCE_THRESHOLD == 5
    assert config.SNS_TOPIC_ARNS == ["arn:aws:sns:eu-west-1:123456789012:ses-bounces", "arn:aws-cn:sns:cn-north-1:123456789012:b.fifo"]


@pytest.mark.parametrize(
    "name, value",
    [
        ("SOFT_BOUNCE_THRESHOLD", "abc"),
        ("SOFT_BOUNCE_THRESHOLD", "0"),
        ("ENABLE_SNS_WEBHOOKS", "maybe"),
        ("ENABLE_BOUNCE_HANDLING", "2"),
        ("SNS_MAX_MESSAGE_AGE", "-1"),
        ("COMPLAINT_ACTION", "shout"),
        ("LOG_LEVEL", "LOUD"),
        ("SNS_TOPIC_ARNS", "arn:a, arn:b"),
        ("SNS_TOPIC_ARNS", "arn:aws:sns:eu-west-1:123456789012:ok\nforged"),
        ("SNS_TOPIC_ARNS", "arn:aws:s3:eu-west-1:123456789012:bucket"),
        ("ARF_COMPLAINT_TYPES", "abuse,spam"),
        ("SES_VERIFIED_IDENTITIES", "club.example,@nodomain"),
        ("SES_VERIFIED_IDENTITIES", "not a domain"),
        ("FROM_REWRITE", "sometimes"),
        ("SES_MAX_SEND_RATE", "fast"),
        ("MYSQL_PORT", "99999"),
    ],
)
def test_bad_value_names_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Config({name: value})


def test_bad_value_stops_start_up_with_a_message(tmp_path):
    env = dict(os.environ, SOFT_BOUNCE_THRESHOLD="abc", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "SOFT_BOUNCE_THRESHOLD" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_key_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    url = f"sqlite:///{tmp_path}/x.db"
    first = create_app(overrides={"SQLALCHEMY_DATABASE_URI": url}, instance_path=str(tmp_path / "inst"))
    second = create_app(overrides={"SQLALCHEMY_DATABASE_URI": url}, instance_path=str(tmp_path / "inst"))
    key_file = tmp_path / "inst" / "secret_key"
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path / "inst"))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'maillist.db'}"


def test_sqlite_uses_wal_and_foreign_keys(tmp_path):
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "k"})
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_session_cookie_flags(tmp_path):
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "k"})
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    secure = Config({"SESSION_COOKIE_SECURE": "true"})
    assert secure.SESSION_COOKIE_SECURE is True and secure.PREFERRED_URL_SCHEME == "https"


def test_webhook_needs_a_topic_allow_list():
    """Secure by default: switching the webhook on without naming topics stops start-up."""
    with pytest.raises(ConfigError, match="SNS_TOPIC_ARNS"):
        Config({"ENABLE_SNS_WEBHOOKS": "true"})
    with pytest.raises(ConfigError, match="SNS_TOPIC_ARNS"):
        create_app(overrides={"ENABLE_SNS_WEBHOOKS": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert Config({"ENABLE_SNS_WEBHOOKS": "true", "SNS_TOPIC_ARNS": "*"}).SNS_TOPIC_ARNS == ["*"]


def test_any_topic_is_a_warning_at_every_start(caplog):
    settings = {"ENABLE_SNS_WEBHOOKS": True, "SNS_TOPIC_ARNS": ["*"], "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    for _ in range(2):
        create_app(overrides=settings)
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "SNS_TOPIC_ARNS=*" in r.getMessage()]
    assert len(warnings) == 2


def test_bad_log_level_stops_start_up_without_a_traceback(tmp_path):
    env = dict(os.environ, LOG_LEVEL="LOUD", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "LOG_LEVEL" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("name, raw", [("NOTIFY_FROM", "not an address"), ("NOTIFY_FROM", "a@"), ("NOTIFY_ADMIN", "x@y.org, z@w.org"),
                                       ("PUBLIC_URL", "lists"), ("PUBLIC_URL", "ftp://lists.example.org"),
                                       ("PUBLIC_URL", "https://lists.example.org/?x=1")])
def test_an_address_or_url_maillist_would_mail_or_link_wrongly_is_refused_at_start(name, raw):
    with pytest.raises(ConfigError, match=name):
        Config({name: raw})


def test_good_addresses_and_urls_are_taken():
    config = Config({"NOTIFY_FROM": "Club Lists <lists@example.org>", "NOTIFY_ADMIN": "admin@example.org",
                     "PUBLIC_URL": "https://lists.example.org/"})
    assert (config.NOTIFY_FROM, config.NOTIFY_ADMIN, config.PUBLIC_URL) == (
        "Club Lists <lists@example.org>", "admin@example.org", "https://lists.example.org")
