"""The database reached by its parts (MYSQL_HOST, MYSQL_USER, ...): a password from a password manager
goes through untouched, in the app's URL and in Postfix's lookup tables alike."""

import importlib.util

import pytest
from sqlalchemy.engine import make_url

from config import Config, ConfigError
from tests.helpers import ROOT

spec = importlib.util.spec_from_file_location("render", ROOT / "postfix" / "render.py")
render = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render)

HOSTILE_PASSWORDS = ["p@ss#w0rd%41", "a/b:c@d#e%f", "%41%", "with space inside", "quote'\"and$dollar", "ünïcødé", "@", "/", ":"]


def parts(password, **extra):
    return {"MYSQL_HOST": "mysql", "MYSQL_USER": "maillist", "MYSQL_PASSWORD": password, "MYSQL_DATABASE": "maillist", **extra}


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS)
def test_the_app_connects_with_the_password_as_given(password):
    url = make_url(Config(parts(password)).DATABASE_URL)
    assert (url.drivername, url.host, url.port, url.username, url.password, url.database) == (
        "mysql+pymysql", "mysql", 3306, "maillist", password, "maillist")


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS)
def test_postfix_tables_hold_the_host_and_password_as_given(password):
    lines = render.database_connection(render.database_url(parts(password))).splitlines()
    assert lines == ["hosts = inet:mysql:3306", "user = maillist", f"password = {password}", "dbname = maillist"]


def test_database_url_wins_over_the_parts():
    env = parts("x", DATABASE_URL="sqlite:////tmp/other.db")
    assert Config(env).DATABASE_URL == "sqlite:////tmp/other.db"
    assert render.database_url(env) == "sqlite:////tmp/other.db"


def test_no_host_means_no_database_url():
    assert Config({"MYSQL_PASSWORD": "x"}).DATABASE_URL is None


def test_a_bad_port_is_named():
    with pytest.raises(ConfigError, match="MYSQL_PORT"):
        Config(parts("x", MYSQL_PORT="abc"))
    with pytest.raises(SystemExit, match="MYSQL_PORT"):
        render.database_url(parts("x", MYSQL_PORT="abc"))


def test_a_raw_slash_in_a_database_url_gets_a_message_not_a_traceback():
    with pytest.raises(SystemExit, match="percent-encode"):
        render.database_connection("mysql+pymysql://maillist:pa/ss@mysql:3306/maillist")


@pytest.mark.parametrize("password", ["line\nbreak", " leading", "trailing "])
def test_values_a_table_file_cannot_hold_are_refused(password):
    with pytest.raises(SystemExit, match="password"):
        render.database_connection(render.database_url(parts(password)))


def test_the_pipes_get_the_built_url(tmp_path):
    env = {**parts("p@ss#w0rd%41"), "POSTFIX_RELAYHOST": "[127.0.0.1]:1", "MAILLIST_PIPE_ENV": str(tmp_path / "pipe.env")}
    render.render(tmp_path / "etc", env)
    pipe_env = (tmp_path / "pipe.env").read_text()
    assert "DATABASE_URL=mysql+pymysql://maillist:p%40ss%23w0rd%2541@mysql:3306/maillist\n" in pipe_env
