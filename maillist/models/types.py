"""Column types shared by the models."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import DateTime
from sqlalchemy.dialects import mysql

# Clocks differ a little; an event time further ahead than this is not believed.
FUTURE_TOLERANCE = timedelta(minutes=5)
# Naive UTC everywhere; microseconds on MariaDB too, so event order survives a round trip.
UTCDateTime = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def utcnow():
    """The current time as a naive UTC datetime, the form every column stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_naive_utc(moment):
    """A datetime as the naive UTC value the columns store (naive input is taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def reported_time(moment, received=None):
    """When a report says something happened, as naive UTC; the time received when it claims the future.

    A sender's clock (or a forger) must not pin a member's last bounce in the future. A time that
    cannot be converted (year 9999 west of UTC, say) counts as the time received too.
    """
    received = received or utcnow()
    try:
        stamp = as_naive_utc(moment)
    except (OverflowError, ValueError):
        return received
    return received if stamp > received + FUTURE_TOLERANCE else stamp
