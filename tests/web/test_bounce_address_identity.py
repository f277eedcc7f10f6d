"""A bounce address names one member for ever, counts for a bounded time, and survives key rotation."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from maillist.bounce_addresses import BadBounceAddress, bounce_address, check_token, read_bounce_address, today_utc
from maillist.extensions import db
from maillist.lists import unsubscribe as one_click
from maillist.members.services import delete_member
from maillist.models import BounceLog
from tests import helpers

FIXTURES = helpers.ROOT / "tests" / "fixtures" / "dsn"
LIST = "club@lists.example.org"
DSN = (FIXTURES / "postfix-rfc3464-permanent.eml").read_bytes()


@pytest.fixture
def app_overrides():
    return {"ENABLE_EMAIL_BOUNCE_PROCESSING": True, "BOUNCE_ADDRESS_KEY": "the current key"}


@pytest.fixture
def club(app):
    return helpers.make_list(LIST, "Club")


def process(runner, recipient):
    result = runner.invoke(args=["bounces", "process-dsn", "--recipient", recipient], input=DSN)
    assert result.exit_code == 0, result.output
    return result.output


def state(member):
    db.session.refresh(member)
    return member.bounce_status, member.active, member.bounce_count


def test_a_deleted_members_address_never_bounces_the_next_member_with_their_id(runner, club, backend):
    zed = helpers.make_member("zed@example.org", lists=[club])
    old_address, old_id = bounce_address(LIST, zed.id, zed.email), zed.id
    delete_member(zed)
    if backend == "sqlite":
        newcomer = helpers.make_member("newcomer@example.org", lists=[club])
        assert newcomer.id == old_id  # SQLite hands the deleted row's id out again
    else:  # MariaDB does not reuse ids by itself; a restored backup or a hand-made row can
        newcomer = helpers.make_member("newcomer@example.org", lists=[club], id=old_id)
    assert process(runner, old_address).startswith("no-member-token")
    assert state(newcomer) == ("clean", True, 0)
    assert process(runner, bounce_address(LIST, newcomer.id, newcomer.email)).startswith("applied bounce:Permanent")


def test_an_address_counts_for_the_max_age_and_no_longer(runner, app, club):
    member = helpers.make_member("gone@example.net", lists=[club])
    app.config["BOUNCE_ADDRESS_MAX_AGE_DAYS"] = 10
    today = today_utc()
    stale = bounce_address(LIST, member.id, member.email, sent_on=today - timedelta(days=11))
    assert "more than 10 days ago" in process(runner, stale)
    future = bounce_address(LIST, member.id, member.email, sent_on=today + timedelta(days=3))
    assert "in the future" in process(runner, future)
    assert state(member) == ("clean", True, 0)
    recent = bounce_address(LIST, member.id, member.email, sent_on=today - timedelta(days=10))
    assert process(runner, recent).startswith("applied bounce:Permanent")


def test_a_retired_key_verifies_what_it_signed_until_its_retirement_day(runner, app, club):
    member = helpers.make_member("gone@example.net", lists=[club])
    today = today_utc()
    app.config["BOUNCE_ADDRESS_KEY"] = "the old key"
    signed_before = bounce_address(LIST, member.id, member.email, sent_on=today - timedelta(days=2))
    forged_after = bounce_address(LIST, member.id, member.email, sent_on=today)  # the old key, leaked, used today
    app.config["BOUNCE_ADDRESS_KEY"] = "the current key"
    assert process(runner, signed_before).startswith("no-member-token")  # nobody told us of the old key
    app.config["BOUNCE_ADDRESS_OLD_KEYS"] = ((today - timedelta(days=1), "the old key"),)
    assert "signature does not match" in process(runner, forged_after)
    assert state(member) == ("clean", True, 0)
    assert process(runner, signed_before).startswith("applied bounce:Permanent")


def test_unsubscribe_links_signed_under_a_retired_key_keep_working(app, club):
    member = helpers.make_member("ann@example.org", lists=[club])
    app.config["BOUNCE_ADDRESS_KEY"] = "the old key"
    value = one_click.token(club.id, member.id, member.email)
    app.config["BOUNCE_ADDRESS_KEY"] = "the current key"
    with pytest.raises(one_click.BadUnsubscribeToken):
        one_click.read_token(value)
    app.config["BOUNCE_ADDRESS_OLD_KEYS"] = ((date(2020, 1, 1), "the old key"),)
    assert one_click.read_token(value) == (club, member)


def test_an_address_whose_member_changed_address_no_longer_counts(runner, club):
    member = helpers.make_member("old@example.org", lists=[club])
    address = bounce_address(LIST, member.id, member.email)
    member.email = "new@example.org"
    db.session.commit()
    assert process(runner, address).startswith("no-member-token")
    assert db.session.scalar(select(BounceLog)) is None


@pytest.mark.parametrize("recipient", [
    "club-bounces+1.zzzzzzzzz.aaaaaaaaaaaaa@lists.example.org",  # a day past any calendar
    "club-bounces+1.1.aaaa@lists.example.org",  # a short MAC
    "club-bounces+1.-1.aaaaaaaaaaaaa@lists.example.org",
    "club-bounces+1..aaaaaaaaaaaaa@lists.example.org",
    "club-bounces+1.1.aaaaaaaaaaaaa.x@lists.example.org",
    "club-bounces+" + "1" * 60 + "@lists.example.org",
    "club-bounces+1.aaaaaaaaaaaaa@lists.example.org",  # the old two-part form
])
def test_malformed_tokens_are_refused_without_a_crash(runner, club, recipient):
    assert process(runner, recipient).startswith("no-member-token")


def test_a_trailing_dot_on_the_domain_reads_as_the_same_address(app, club):
    member = helpers.make_member("ann@example.org", lists=[club])
    address = bounce_address(LIST, member.id, member.email)
    token = read_bounce_address(address.upper() + ".")
    assert (token.list_address, token.member_id) == (LIST, member.id)
    check_token(token, member.email)
    with pytest.raises(BadBounceAddress):
        check_token(token, "someone.else@example.org")


def test_the_address_fits_an_smtp_local_part_for_large_ids(app):
    address = bounce_address("a-long-list-name-for-a-club@lists.example.org", 36 ** 8 - 1, "x@example.org")
    assert len(address.partition("@")[0]) <= 64
    assert read_bounce_address(address).member_id == 36 ** 8 - 1
