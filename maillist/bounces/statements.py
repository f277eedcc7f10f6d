"""The intake's write path as prebuilt SQLAlchemy Core statements, run on the intake's connection.

Every report runs the same few statements. Built once here with bound parameters, each is
compiled once per database dialect and run on the driver's cursor (maillist.prepared), inside the
intake's transaction (maillist.bounces.ledger); no ORM unit of work and no per-execution SQLAlchemy set-up runs per
report. The ORM stays everywhere else (pages, commands, the storm guard's rare holds). The member
UPDATE comes in a few shapes (a dead address, soft deactivation, a soft-bounce window, SES
suppression); `member_update` builds each shape once.

The INSERTs name every column they fill, so their Python-side defaults (received_at, created_at)
do not apply: `report_row` and `log_row` give them.
"""

from functools import lru_cache

import re

from sqlalchemy import Integer, String, and_, bindparam, case, false, insert, literal_column, select, true, update

from maillist.models import BounceLog, DeliveryStat, Member, ProcessedReport
from maillist.models.types import UTCDateTime, utcnow
from maillist.prepared import Prepared
from maillist.vocabulary import BY_COMPLAINT, BY_HARD_BOUNCE, BY_SOFT_BOUNCE, CLEAN, HARD, PERMANENT, SOFT, TRANSIENT

member = Member.__table__
bounce_log = BounceLog.__table__
delivery_stat = DeliveryStat.__table__

REPORT_COLUMNS = ("report_key", "source", "kind", "topic_arn", "outcome", "raw_body", "received_at")
LOG_COLUMNS = ("member_id", "email", "domain", "event", "bounce_type", "bounce_subtype", "diagnostic_code", "action",
               "status", "feedback_type", "user_agent", "feedback_id", "report_key", "occurred_at", "reason", "details",
               "hold_id", "held", "status_before", "created_at")

def word(value):
    """A fixed word of the vocabulary ('hard', 'complaint', ...) or a small number, written into the SQL
    itself rather than sent as a parameter: fewer values for the driver to escape on every report."""
    if isinstance(value, int):
        return literal_column(str(int(value)), Integer)
    if not re.fullmatch(r"[a-z][a-z-]*", value):
        raise ValueError(f"{value!r} is not a vocabulary word")
    return literal_column(f"'{value}'", String)


# What the engine reads of a member before changing it (the history's notes and the storm guard need it).
MEMBER_STATE = (member.c.id, member.c.bounce_status, member.c.active, member.c.bounce_count, member.c.last_bounce_at)


def of_member_at(column):
    """`column` of the member with the address bound as `email` (NULL when there is none), as a
    value, locking the member's row for this transaction (FOR UPDATE; SQLite has one writer anyway).

    A subquery in an INSERT reads with a shared lock on MariaDB, and the UPDATE that follows would
    need it exclusive: two transactions for one member would each hold the shared lock and wait
    for the other (a deadlock). Taken exclusive at once, the second waits for the first instead.
    """
    return select(column).where(member.c.email == bindparam("email")).with_for_update().scalar_subquery().label(column.key)


INSERT_REPORT = Prepared(insert(ProcessedReport.__table__), REPORT_COLUMNS)
# The same INSERT, returning one member's state as it stands: the first bounce's or complaint's
# member is read and locked in the round trip that records the report (RETURNING: MariaDB 10.5,
# SQLite 3.35; maillist.bounces.ledger falls back to INSERT then SELECT where it is missing).
INSERT_REPORT_READING_MEMBER = Prepared(
    insert(ProcessedReport.__table__).returning(*(of_member_at(column) for column in MEMBER_STATE)), REPORT_COLUMNS)
INSERT_LOG = Prepared(insert(bounce_log), LOG_COLUMNS)
READ_MEMBER = Prepared(select(*MEMBER_STATE).where(member.c.email == bindparam("email")))
# deactivated_by first: it reads `active` before this statement changes it (MariaDB's SET order).
DEACTIVATE_FOR_COMPLAINT = Prepared(update(member).where(member.c.id == bindparam("member_id")).ordered_values(
    (member.c.deactivated_by, case((member.c.active.is_(True), word(BY_COMPLAINT)), else_=member.c.deactivated_by)),
    (member.c.active, false()),
    (member.c.updated_at, bindparam("now", type_=UTCDateTime)),
))
ADD_DELIVERIES = Prepared(update(delivery_stat).where(delivery_stat.c.day == bindparam("count_day"))
                          .values(deliveries=delivery_stat.c.deliveries + bindparam("count", type_=Integer)))
INSERT_DELIVERIES = Prepared(insert(delivery_stat), ("day", "deliveries"))


def report_row(**values):
    """INSERT_REPORT's parameters: received now, and no raw body unless given."""
    return {"raw_body": None, "received_at": utcnow(), **values}


def log_row(**values):
    """INSERT_LOG's parameters: the columns not given are NULL, and the row is created now."""
    return {**dict.fromkeys(LOG_COLUMNS), "created_at": utcnow(), **values}


# The member UPDATE's bound parameters: member_id, occurred_at, now, threshold and stale_before
# (the time before which a member's last bounce is out of the soft-bounce window).
OCCURRED_AT = bindparam("occurred_at", type_=UTCDateTime)
STALE_BEFORE = bindparam("stale_before", type_=UTCDateTime)
THRESHOLD = bindparam("threshold", type_=Integer)


def is_stale(windowed):
    """SQL: the member's last bounce is older than the window (so earlier bounces no longer count)."""
    if not windowed:
        return false()
    return and_(member.c.last_bounce_at.is_not(None), member.c.last_bounce_at < STALE_BEFORE)


def count_before(windowed):
    """SQL for the bounces still counting before this one: none when the last is out of the window."""
    return case((is_stale(True), word(0)), else_=member.c.bounce_count) if windowed else member.c.bounce_count


def reaches_soft(windowed):
    """SQL: one more counted bounce reaches the soft threshold (for a member not hard)."""
    return and_(member.c.bounce_status != word(HARD), count_before(windowed) + word(1) >= THRESHOLD)


def status_after(counted_as, windowed):
    """SQL for the status after one more bounce counted as `counted_as` (hard is never downgraded; a
    soft member whose last bounce is out of the window starts from clean)."""
    if counted_as == PERMANENT:
        return word(HARD)
    unchanged = case((and_(is_stale(windowed), member.c.bounce_status == word(SOFT)), word(CLEAN)), else_=member.c.bounce_status)
    if counted_as == TRANSIENT:
        return case((member.c.bounce_status == word(HARD), word(HARD)), (count_before(windowed) + word(1) >= THRESHOLD, word(SOFT)),
                    else_=unchanged)
    return unchanged


def later_of_last_bounce():
    """SQL for last_bounce_at moved forward to the bounce's time, never back (events arrive out of order)."""
    return case((member.c.last_bounce_at.is_(None), OCCURRED_AT), (member.c.last_bounce_at < OCCURRED_AT, OCCURRED_AT),
                else_=member.c.last_bounce_at)


@lru_cache(maxsize=None)
def member_update(dead, soft_deactivates, counted_as, windowed, suppressed):
    """The UPDATE that counts one bounce on a member's record, for one shape of bounce and settings.

    Columns are listed so each expression reads only columns not yet set: MariaDB evaluates SET
    left to right with already-updated values, SQLite with the old ones; this order gives the same
    on both (deactivated_by, active, bounce_status, bounce_count, last_bounce_at).
    """
    changes = []
    if dead:
        changes += [(member.c.deactivated_by, case((member.c.active.is_(True), word(BY_HARD_BOUNCE)), else_=member.c.deactivated_by)),
                    (member.c.active, false())]
    elif soft_deactivates and counted_as == TRANSIENT:
        soft_now = and_(member.c.active.is_(True), reaches_soft(windowed))
        changes += [(member.c.deactivated_by, case((soft_now, word(BY_SOFT_BOUNCE)), else_=member.c.deactivated_by)),
                    (member.c.active, case((reaches_soft(windowed), false()), else_=member.c.active))]
    changes += [
        (member.c.bounce_status, status_after(counted_as, windowed)),
        (member.c.bounce_count, count_before(windowed) + word(1)),
        (member.c.last_bounce_at, later_of_last_bounce()),
        (member.c.updated_at, bindparam("now", type_=UTCDateTime)),
    ]
    if suppressed:
        changes.append((member.c.ses_suppressed, true()))
    return Prepared(update(member).where(member.c.id == bindparam("member_id")).ordered_values(*changes))
