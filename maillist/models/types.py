"""Column types shared by the models."""

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.dialects import mysql

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
