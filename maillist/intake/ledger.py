"""Recording each incoming report once (used by `maillist.intake.door` alone): the key is stored in the same transaction as its effects.

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

from maillist import availability, unit_of_work
from maillist.intake import statements

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Recorded:
    """What happened: `stored`, `duplicate` or `failed` (the database could not store it)."""

    state: str
    done: tuple = ()
    error: str = ""


def record_once(report, outcome, apply, raw=None):
    """Store `report.key` and run `apply(connection)` in one unit of work; a repeat of the key is a no-op.

    A failure that says the database cannot be used now trips the breaker (`maillist.availability`:
    the webhook then answers 503 without trying); a success closes it.
    """

    def store(connection):
        statements.INSERT_REPORT.run(connection, statements.report_row(
            report_key=report.key, source=report.source, kind=report.kind, topic_arn=report.topic_arn,
            outcome=outcome, raw_body=raw))
        return apply(connection)

    try:
        done = unit_of_work.on_connection(store)
    except IntegrityError:
        availability.database.reset()
        return Recorded("duplicate")
    except OperationalError as error:
        if availability.is_unavailable(error):
            availability.database.trip()
        log.error("%s %s could not be stored: %s", report.kind, report.key, error.orig)
        return Recorded("failed", error=type(error).__name__)
    except SQLAlchemyError as error:
        log.error("%s %s could not be stored: %s", report.kind, report.key, error)
        return Recorded("failed", error=type(error).__name__)
    availability.database.reset()  # the database took it: close the breaker if this was its probe
    return Recorded("stored", tuple(done))
