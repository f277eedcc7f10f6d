"""Recording each incoming report once (used by `maillist.bounces.intake` alone): the key is stored in the same transaction as its effects.

SNS delivers at least once and Postfix may hand a bounce email over twice; a repeat must change
nothing, even when it arrives on another worker at the same moment. The key's unique index
decides, not a check before the insert.

The transaction runs on a connection of its own from the pool, not the request's ORM session: a
report needs none of the session's bookkeeping. Everything else is prepared before SQLite's
writer lock is taken (the report's row, its events and their reasons), so the lock covers the
pool checkout, the statements and the commit.
"""

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from maillist import availability
from maillist.bounces import statements
from maillist.extensions import db
from maillist.mariadb import is_deadlock
from maillist.sqlite import write_queue

log = logging.getLogger(__name__)

# A deadlock victim (maillist.mariadb.is_deadlock) or a transaction whose connection was lost runs
# again at once. A lock wait timeout or
# SQLite's "database is locked" already waited DB_LOCK_WAIT_TIMEOUT: no retry here, the sender
# retries later.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Recorded:
    """What happened: `stored`, `duplicate` or `failed` (the database could not store it)."""

    state: str
    done: tuple = ()
    error: str = ""


def record_once(report, outcome, apply, raw=None):
    """Store `report.key` and run `apply(connection)` in one transaction; a repeat of the key is a no-op.

    A transaction the database chose as a deadlock victim is run again at once. While the database
    cannot be reached (see `maillist.availability`), the answer is "failed" without trying.
    """
    if availability.database.is_open():
        return Recorded("failed", error="database unavailable")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        row = statements.report_row(report_key=report.key, source=report.source, kind=report.kind,
                                    topic_arn=report.topic_arn, outcome=outcome, raw_body=raw)
        try:
            # The writer queue first, then a connection (the order every writer keeps: see
            # maillist.sqlite.write_queue); the transaction commits, or rolls back on any error,
            # before the writer lock is let go.
            with write_queue(), db.engine.connect() as connection, connection.begin():
                connection.execute(statements.INSERT_REPORT, row)
                done = apply(connection)
        except IntegrityError:
            return Recorded("duplicate")
        except OperationalError as error:
            # A deadlock victim, or a connection lost mid-way (the pool has replaced it): run again.
            if attempt < MAX_ATTEMPTS and (is_deadlock(error) or error.connection_invalidated):
                log.info("%s %s retrying after %s", report.kind, report.key, error.orig)
                continue
            if availability.is_unavailable(error):
                availability.database.trip()
            log.error("%s %s could not be stored: %s", report.kind, report.key, error.orig)
            return Recorded("failed", error=type(error).__name__)
        except SQLAlchemyError as error:
            log.error("%s %s could not be stored: %s", report.kind, report.key, error)
            return Recorded("failed", error=type(error).__name__)
        return Recorded("stored", tuple(done))

