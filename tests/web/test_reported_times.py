"""Times from outside are bounded: a report from 'the future' is dated when it arrived."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from maillist.extensions import db
from maillist.models import BounceLog
from maillist.models.types import reported_time, utcnow
from maillist.transports.email.dsn_parser import read_report
from maillist.transports.sns.ses_events import parse_ses_message
from tests import helpers

FIXTURE = helpers.ROOT / "tests" / "fixtures" / "dsn" / "postfix-rfc3464-permanent.eml"


def close_to_now(moment):
    return abs(moment - utcnow()) < timedelta(minutes=1)


def test_reported_time_keeps_the_past_and_small_skew_and_replaces_the_future():
    now = datetime(2026, 12, 1, 12, 0)
    assert reported_time(datetime(2026, 11, 30, tzinfo=timezone.utc), now) == datetime(2026, 11, 30)
    assert reported_time(now + timedelta(minutes=4), now) == now + timedelta(minutes=4)
    assert reported_time(now + timedelta(minutes=6), now) == now
    assert reported_time(datetime(2999, 1, 1), now) == now
    assert reported_time(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12))), now) == now


@pytest.mark.parametrize("year", [2999, 9999])
def test_ses_event_from_the_future_is_dated_on_arrival(year):
    when = datetime(year, 12, 31, 23, 0, tzinfo=timezone.utc)
    (bounce,) = parse_ses_message(json.dumps(helpers.ses_identity("Bounce", ["a@example.org"], when=when)))
    assert close_to_now(bounce.occurred_at)


@pytest.mark.parametrize("date", ["Tue, 31 Dec 2999 10:00:00 +0000", "31 Dec 9999 23:59:59 -1200", "Thu, 1 Jan 0001 00:00:00 +1400",
                                  "not a date", "Fri, 31 Feb 2026 10:00:00 +0000", "Fri, 27 Nov 2026 99:99:99 +0000"])
def test_dsn_with_an_odd_date_is_dated_on_arrival_or_as_written(date):
    raw = FIXTURE.read_bytes().replace(b"Date: Fri, 27 Nov 2026 10:15:02 +0000 (UTC)", f"Date: {date}".encode())
    assert read_report(raw).occurred_at <= utcnow() + timedelta(minutes=5)


@pytest.fixture
def app_overrides(webhook_settings):
    return dict(webhook_settings, ENABLE_EMAIL_BOUNCE_PROCESSING=True)


def test_last_bounce_never_sticks_in_the_future(client, runner, aws):
    from maillist.bounce_addresses import bounce_address

    club = helpers.make_list("club@lists.example.org")
    member = helpers.make_member("gone@example.net", lists=[club])
    future = datetime(2999, 1, 1, tzinfo=timezone.utc)
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["gone@example.net"], bounce_type="Transient", when=future)))
    raw = FIXTURE.read_bytes().replace(b"Date: Fri, 27 Nov 2026 10:15:02 +0000 (UTC)", b"Date: 31 Dec 9999 23:59:59 -1200")
    result = runner.invoke(args=["bounces", "process-dsn", "--recipient", bounce_address(club.address, member.id, member.email)], input=raw)
    assert result.exit_code == 0, result.output
    db.session.refresh(member)
    assert close_to_now(member.last_bounce_at)
    assert all(close_to_now(moment) for moment in db.session.scalars(select(BounceLog.occurred_at)))
