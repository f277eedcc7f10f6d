"""Redirects stay on this site; every answer carries the security headers; files stay private."""

import os
import stat
from urllib.parse import urlsplit

import pytest

from maillist import create_app
from maillist.security_headers import CONTENT_SECURITY_POLICY
from tests import helpers

PASSWORD = "a long enough password"
HOSTILE_NEXT = [
    "//evil.example/x",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "https://evil.example/",
    "http:evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    " //evil.example",
    "\x00//evil.example",
    "/\x00/evil.example",
    "//%65vil.example",
    "/%2F/evil.example?x",
]


def browser_reads(location):
    """What a browser would make of a Location header: tabs and line breaks dropped, \\ as /."""
    return location.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_next_never_leaves_the_site(client, target):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    response = client.post_form("/login", {"email": "boss@example.org", "password": PASSWORD}, query_string={"next": target})
    assert response.status_code == 303
    location = browser_reads(response.headers["Location"])
    assert location.startswith("/") and not location.startswith("//")
    assert urlsplit(location).netloc == "" and urlsplit(location).scheme == ""


@pytest.mark.parametrize("target", ["/members/?q=ann", "/lists/3", "/bounces/?type=complaint&page=2"])
def test_local_next_is_followed(client, target):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    response = client.post_form("/login", {"email": "boss@example.org", "password": PASSWORD}, query_string={"next": target})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("path", ["/login", "/members/", "/health", "/no-such-page", "/webhooks/sns"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_hold_no_inline_script_style_or_handler(login):
    helpers.make_member("ann@example.org")
    staff = login("admin")
    for path in ["/members/", "/lists/", "/bounces/", "/users/", "/members/new", "/account/password"]:
        html = staff.get(path).get_data(as_text=True).lower()
        assert "<style" not in html and " style=" not in html and " onsubmit=" not in html and " onclick=" not in html
        assert html.count("<script") == html.count("<script src=")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sqlite_database_and_instance_folder_are_owner_only(tmp_path):
    instance = tmp_path / "instance"
    app = create_app(overrides={"SECRET_KEY": "k"}, instance_path=str(instance))
    from maillist.extensions import db

    with app.app_context():
        db.create_all()
        db.session.execute(db.text("SELECT 1"))
        db.session.commit()
        database = instance / "maillist.db"
        assert mode(instance) == 0o700 and mode(database) == 0o600
        for extra in (f"{database}-wal", f"{database}-shm"):
            if os.path.exists(extra):
                assert mode(extra) & 0o077 == 0
        db.engine.dispose()


def test_an_older_world_readable_database_is_tightened(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    database = instance / "maillist.db"
    database.touch(mode=0o644)
    os.chmod(database, 0o644)
    os.chmod(instance, 0o755)
    create_app(overrides={"SECRET_KEY": "k"}, instance_path=str(instance))
    assert mode(instance) == 0o700 and mode(database) == 0o600


@pytest.mark.parametrize("url, words", [("not-a-url", "not a database URL"), ("postgresql://u@h/db", "not postgresql")])
def test_a_database_url_maillist_cannot_use_names_the_variable(tmp_path, url, words):
    from config import ConfigError

    with pytest.raises(ConfigError, match="DATABASE_URL") as raised:
        create_app(overrides={"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url}, instance_path=str(tmp_path))
    assert words in str(raised.value)
