"""Postfix's MySQL lookups, run by the real `postmap -q` against a MariaDB database that
maillist's own models filled."""

import pytest

from maillist.extensions import db
from tests import helpers
from tests.system.postfix_helpers import need_postfix, postmap_query, render_config

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


def test_lookup_ignores_case(config, club):
    assert postmap_query(config, "mysql-list-recipients.cf", "Club@Lists.Example.ORG") == "club@lists.example.org"


def test_unknown_address_gives_nothing(config, club):
    assert postmap_query(config, "mysql-list-recipients.cf", "nolist@lists.example.org") is None
    assert postmap_query(config, "mysql-list-transport.cf", "ann@example.org") is None


def test_inactive_list_takes_no_mail(config, club):
    club.active = False
    db.session.commit()
    assert postmap_query(config, "mysql-list-recipients.cf", "club@lists.example.org") is None
    # its bounce address still takes the reports of mail sent before it was switched off
    assert postmap_query(config, "mysql-list-recipients.cf", "club-bounces@lists.example.org") == "club@lists.example.org"


def test_domains_recipients_and_transports(config, club):
    assert postmap_query(config, "mysql-list-domains.cf", "lists.example.org") == "lists.example.org"
    assert postmap_query(config, "mysql-list-domains.cf", "example.org") is None
    assert postmap_query(config, "mysql-list-transport.cf", "club@lists.example.org") == "maillist-list:"
    assert postmap_query(config, "mysql-list-transport.cf", "club-bounces@lists.example.org") == "maillist-dsn:"


@pytest.mark.parametrize("domain", ["%", "%.example.org", "_ists.example.org", "LISTS.EXAMPLE.ORG.evil", "example.org", "s.example.org"])
def test_the_domain_lookup_is_an_exact_match(config, club, domain):
    """A list domain is matched whole: no pattern characters, no suffixes (lists.example.org is not s.example.org)."""
    assert postmap_query(config, "mysql-list-domains.cf", domain) is None


@pytest.mark.parametrize("key", ["x' OR '1'='1@lists.example.org", "club@lists.example.org' -- ", "\\' OR 1=1 #@lists.example.org"])
def test_quotes_in_the_key_cannot_break_the_queries(config, club, key):
    for table in ("mysql-list-recipients.cf", "mysql-list-transport.cf", "mysql-list-domains.cf"):
        assert postmap_query(config, table, key) is None
