"""Postfix's MySQL lookups, run by the real `postmap -q` against a MariaDB database that
maillist's own models filled."""

import pytest

from maillist.extensions import db
from tests import helpers
from tests.system.postfix_helpers import need_postfix, postmap_query, render_config

MEMBERS = "mysql-list-members.cf"


@pytest.fixture
def backend():
    """Postfix reads MySQL/MariaDB only."""
    return "mariadb"


@pytest.fixture
def config(app, database_url, tmp_path):
    need_postfix()
    return render_config(tmp_path / "postfix", database_url)


@pytest.fixture
def club():
    """A list with every kind of member."""
    club = helpers.make_list("club@lists.example.org", "Club")
    helpers.make_member("ann@example.org", "Ann", lists=[club])
    helpers.make_member("bob@example.net", "Bob", lists=[club])
    helpers.make_member("off@example.org", "Off", lists=[club], active=False)
    helpers.make_member("hard@example.org", "Hard", lists=[club], bounce_status="hard")
    helpers.make_member("soft@example.org", "Soft", lists=[club], bounce_status="soft", bounce_count=3)
    helpers.make_member("elsewhere@example.org", "Not subscribed")
    return club


def test_list_expands_to_active_subscribed_members(config, club):
    result = postmap_query(config, MEMBERS, "club@lists.example.org")
    assert sorted(result.split(",")) == ["ann@example.org", "bob@example.net", "soft@example.org"]


def test_lookup_ignores_case(config, club):
    assert postmap_query(config, MEMBERS, "Club@Lists.Example.ORG") is not None


def test_unknown_address_gives_nothing(config, club):
    assert postmap_query(config, MEMBERS, "nolist@lists.example.org") is None
    assert postmap_query(config, "mysql-list-recipients.cf", "nolist@lists.example.org") is None
    assert postmap_query(config, "mysql-list-transport.cf", "ann@example.org") is None


def test_inactive_list_delivers_to_nobody(config, club):
    club.active = False
    db.session.commit()
    assert postmap_query(config, MEMBERS, "club@lists.example.org") is None
    assert postmap_query(config, "mysql-list-recipients.cf", "club@lists.example.org") is None
    # its bounce address still takes the DSNs of mail sent before it was switched off
    assert postmap_query(config, "mysql-list-recipients.cf", "club-bounces@lists.example.org") == "club@lists.example.org"


def test_domains_recipients_transports_and_headers(config, club):
    assert postmap_query(config, "mysql-list-domains.cf", "lists.example.org") == "lists.example.org"
    assert postmap_query(config, "mysql-list-domains.cf", "example.org") is None
    assert postmap_query(config, "mysql-list-transport.cf", "club@lists.example.org") == "maillist-list:"
    assert postmap_query(config, "mysql-list-transport.cf", "club-bounces@lists.example.org") == "maillist-dsn:"
    assert postmap_query(config, "mysql-list-id-header.cf", "club@lists.example.org") == "PREPEND List-Id: Club <club.lists.example.org>"
    assert postmap_query(config, "mysql-list-post-header.cf", "club@lists.example.org") == "PREPEND List-Post: <mailto:club@lists.example.org>"
    assert postmap_query(config, "mysql-list-nonempty.cf", "club@lists.example.org") == "OK"


def test_list_with_nobody_to_deliver_to(config):
    quiet = helpers.make_list("quiet@lists.example.org", "Quiet")
    helpers.make_member("gone@example.org", lists=[quiet], active=False)
    assert postmap_query(config, "mysql-list-nonempty.cf", "quiet@lists.example.org") is None
    assert postmap_query(config, MEMBERS, "quiet@lists.example.org") is None


def test_quotes_in_the_key_cannot_break_the_query(config, club):
    assert postmap_query(config, MEMBERS, "x' OR '1'='1@lists.example.org") is None
