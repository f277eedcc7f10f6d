"""Counting what comes in at every door, refusals included, per UTC hour in the database.

Each process adds to a small buffer and writes it out at most every FLUSH_SECONDS (one UPDATE or
INSERT per hour, door, outcome and reason), so counting costs a request almost nothing and the
figures hold across gunicorn workers and hosts. A buffer the database cannot take now is kept for
the next flush; a process that dies loses at most its last few seconds of counts.
"""

import atexit
import logging
import os
import threading
import time
from collections import Counter

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from maillist import availability, unit_of_work
from maillist.extensions import db
from maillist.models import IntakeCount
from maillist.models.types import utcnow
from maillist.vocabulary import REFUSED_MALFORMED, REFUSED_STORAGE

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5
def refusal_reason(status, outcome, code=""):
    """The refusal reason counted for an answer, or "" when the message was taken: a store that
    failed, or the code of the refusal (maillist.transports.sns.errors); never read from the message text."""
    if outcome == "storage-failed" or (status >= 500 and status != 502):
        return REFUSED_STORAGE
    if status < 400:
        return ""
    return code or REFUSED_MALFORMED


def this_hour(now=None):
    return (now or utcnow()).replace(minute=0, second=0, microsecond=0)


class Counts:
    """This process's counts not yet written to the database."""

    def __init__(self):
        self.pending = Counter()
        self.lock = threading.Lock()
        self.flushed_at = time.monotonic()
        self.flusher_pid = None

    def add(self, source, outcome, reason=""):
        """Count one answer. Never writes in the caller's thread while the flusher runs: a request
        that is failing because the database is locked must not wait a second time for its count."""
        with self.lock:
            self.pending[(this_hour(), source, outcome[:40], reason)] += 1
            due = time.monotonic() - self.flushed_at >= FLUSH_SECONDS
        if not self.start_flusher() and due:
            self.flush()

    def start_flusher(self):
        """Once per process (gunicorn forks workers): a thread that writes the buffer out every
        FLUSH_SECONDS, so an idle worker's last counts reach the database too, and a last write
        when the process exits (a `flask bounces process-dsn` or `flask sns replay` lives less than
        FLUSH_SECONDS). Returns whether the flusher runs."""
        if not current_app.config.get("INTAKE_COUNTS_FLUSHER", True):
            return False
        if self.flusher_pid == os.getpid():
            return True
        self.flusher_pid = os.getpid()
        app = current_app._get_current_object()

        def last_flush():
            with app.app_context():
                self.flush()

        atexit.register(last_flush)

        def loop():
            while True:
                time.sleep(FLUSH_SECONDS)
                with app.app_context():
                    self.flush()

        threading.Thread(target=loop, name="intake-counts", daemon=True).start()
        return True

    def flush(self):
        """Write the buffer out; keeps it when the database cannot take it now. Returns True when written."""
        with self.lock:
            batch, self.pending = self.pending, Counter()
            self.flushed_at = time.monotonic()
        if not batch:
            return True
        if availability.database.is_open(probe=False):
            self.keep(batch)
            return False
        try:
            unit_of_work.on_connection(lambda connection: add_rows(connection, batch))
        except SQLAlchemyError as error:
            log.warning("intake counts not written yet (%s); kept for the next flush", type(error).__name__)
            self.keep(batch)
            return False
        return True

    def keep(self, batch):
        with self.lock:
            self.pending.update(batch)

    def clear(self):
        with self.lock:
            self.pending.clear()


def add_rows(connection, batch):
    """Add each count of `batch` to its hour's row."""
    for (hour, source, outcome, reason), n in sorted(batch.items()):
        add_to_row(connection, hour, source, outcome, reason, n)


def add_to_row(connection, hour, source, outcome, reason, n):
    """count += n on the row for these keys, creating it on first use (another worker may race us)."""
    table = IntakeCount.__table__
    match = (table.c.hour == hour, table.c.source == source, table.c.outcome == outcome, table.c.reason == reason)
    bump = update(table).where(*match).values(count=table.c.count + n)
    if connection.execute(bump).rowcount:
        return
    try:
        with connection.begin_nested():
            connection.execute(table.insert().values(hour=hour, source=source, outcome=outcome, reason=reason, count=n))
    except IntegrityError:
        connection.execute(bump)


counts = Counts()


def record(source, status, outcome, code=""):
    """Count one answer of an intake (the SNS webhook, the SQS poller, a bounce email), refused ones by their code."""
    counts.add(source, outcome, refusal_reason(status, outcome, code))


def totals_since(since):
    """{(outcome, reason): count} and {source: count} since `since`, from every process's written counts."""
    counts.flush()
    rows = db.session.execute(
        select(IntakeCount.source, IntakeCount.outcome, IntakeCount.reason, func.sum(IntakeCount.count))
        .where(IntakeCount.hour >= this_hour(since)).group_by(IntakeCount.source, IntakeCount.outcome, IntakeCount.reason)
    ).all()
    return [(source, outcome, reason, int(total)) for source, outcome, reason, total in rows]
