"""postfix/render.py keeps secrets out of readable files and command lines, and quotes for the reader."""

import importlib.util
import stat
import subprocess

import pytest

from tests.helpers import ROOT

spec = importlib.util.spec_from_file_location("render", ROOT / "postfix" / "render.py")
render = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render)

DB_PASSWORD = "db-s3cr3t!%'\"$x"
SES_PASSWORD = "ses-s3cr3t"
URL = "mysql+pymysql://maillist:db-s3cr3t%21%25%27%22%24x@db.internal:3306/maillist?charset=utf8mb4"


@pytest.fixture
def rendered(tmp_path):
    env = {"DATABASE_URL": URL, "SES_SMTP_HOST": "email-smtp.eu-west-1.amazonaws.com", "SES_SMTP_USERNAME": "AKIAEXAMPLE",
           "SES_SMTP_PASSWORD": SES_PASSWORD, "SECRET_KEY": "app-key-$(reboot)", "ENABLE_EMAIL_BOUNCE_PROCESSING": "false",
           "MAILLIST_PIPE_ENV": str(tmp_path / "pipe" / "pipe.env")}
    return render.render(tmp_path / "etc", env), tmp_path / "pipe" / "pipe.env"


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_only_in_private_files(rendered):
    config, pipe_env = rendered
    for path in config.iterdir():
        text = path.read_text()
        if path.name.startswith("mysql-"):
            assert mode(path) & 0o007 == 0 and DB_PASSWORD in text
        elif path.name == "sasl_passwd":
            assert mode(path) == 0o600 and SES_PASSWORD in text
        else:
            assert DB_PASSWORD not in text and SES_PASSWORD not in text and "s3cr3t" not in text, path.name
    assert mode(pipe_env) == 0o600
    assert "texthash:$config_directory/sasl_passwd" in (config / "main.cf").read_text()


def test_pipes_carry_no_settings_on_their_command_lines(rendered):
    config, _ = rendered
    master = (config / "master.cf").read_text()
    assert "DATABASE_URL" not in master and "SECRET_KEY" not in master and "s3cr3t" not in master
    assert "maillist-pipe bounces process-dsn --recipient ${recipient}" in master
    assert "maillist-pipe lists deliver" in master


def test_the_pipe_settings_read_back_exactly_as_given(rendered):
    """sh reads the file the wrapper sources; every value comes back byte for byte, nothing runs."""
    _, pipe_env = rendered
    script = f"set -a; . {pipe_env}; printf '%s\\n' \"$DATABASE_URL\" \"$SECRET_KEY\" \"$ENABLE_EMAIL_BOUNCE_PROCESSING\""
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == [URL, "app-key-$(reboot)", "false"]


def test_email_bounce_processing_follows_the_setting(tmp_path):
    for value in ("true", "false"):
        env = {"DATABASE_URL": URL, "POSTFIX_RELAYHOST": "[127.0.0.1]:1", "ENABLE_EMAIL_BOUNCE_PROCESSING": value,
               "MAILLIST_PIPE_ENV": str(tmp_path / value / "pipe.env"), "SECRET_KEY": "k"}
        render.render(tmp_path / value / "etc", env)
        assert f"ENABLE_EMAIL_BOUNCE_PROCESSING={value}\n" in (tmp_path / value / "pipe.env").read_text()


def test_the_domain_lookup_has_no_pattern(rendered):
    config, _ = rendered
    query = (config / "mysql-list-domains.cf").read_text()
    assert "LIKE" not in query.upper() and "= '%s'" in query


@pytest.mark.parametrize("given, expected", [
    ({}, ("127.0.0.1", "10025")),
    ({"POSTFIX_REINJECT_PORT": "10026"}, ("127.0.0.1", "10026")),
    ({"SMTP_HOST": "mail.example.org"}, ("mail.example.org", "25")),
    ({"SMTP_HOST": "mail.example.org", "SMTP_PORT": "587"}, ("mail.example.org", "587")),
])
def test_the_pipes_send_owners_notices_through_postfixs_loopback_unless_told_otherwise(tmp_path, given, expected):
    """SMTP_HOST without SMTP_PORT once made render.py crash on a missing value."""
    env = {"DATABASE_URL": URL, "POSTFIX_RELAYHOST": "[127.0.0.1]:1", "MAILLIST_PIPE_ENV": str(tmp_path / "pipe.env"), **given}
    render.render(tmp_path / "etc", env)
    script = f"set -a; . {tmp_path / 'pipe.env'}; printf '%s\\n' \"$SMTP_HOST\" \"$SMTP_PORT\""
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()
    assert tuple(out) == expected
