"""Recording each incoming report once (used by `maillist.bounces.intake` alone): the key is stored in the same transaction as its effects.

SNS delivers at least once and Postfix may hand a bounce email over twice; a repeat must change
nothing, even when it arrives on another worker at the same moment. The key's unique index
decides, not a check before the insert.
"""

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from maillist.extensions import db
from maillist.models import ProcessedReport
from maillist.sqlite import write_queue

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# MariaDB/MySQL: 1213 deadlock victim, 1205 lock wait timeout. Both ask for a retry.
RETRYABLE_MYSQL_ERRORS = {1205, 1213}


@dataclass(frozen=True)
class Recorded:
    """What happened: `stored`, `duplicate` or `failed` (the database could not store it)."""

    state: str
    done: tuple = ()
    error: str = ""


def record_once(report, outcome, apply, raw=None):
    """Store `report.key` and run `apply()` in one transaction; a repeat of the key is a no-op.

    A transaction the database chose as a deadlock victim is run again at once.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with write_queue():
                db.session.add(ProcessedReport(report_key=report.key, source=report.source, kind=report.kind,
                                               topic_arn=report.topic_arn, outcome=outcome, raw_body=raw))
                db.session.flush()
                done = apply()
                db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return Recorded("duplicate")
        except OperationalError as error:
            db.session.rollback()
            if attempt < MAX_ATTEMPTS and is_transient(error):
                log.info("%s %s retrying after %s", report.kind, report.key, error.orig)
                continue
            log.error("%s %s could not be stored: %s", report.kind, report.key, error.orig)
            return Recorded("failed", error=type(error).__name__)
        except SQLAlchemyError as error:
            db.session.rollback()
            log.error("%s %s could not be stored: %s", report.kind, report.key, error)
            return Recorded("failed", error=type(error).__name__)
        return Recorded("stored", tuple(done))


def is_transient(error):
    """Whether a database error means 'try the transaction again' (deadlock, lock wait, busy)."""
    code = error.orig.args[0] if error.orig is not None and error.orig.args else None
    return code in RETRYABLE_MYSQL_ERRORS or "database is locked" in str(error.orig)
