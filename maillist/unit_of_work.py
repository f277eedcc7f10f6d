"""Every write transaction of the app, web, commands, intake, bulk and maintenance alike, runs here.

A unit of work takes SQLite's writer queue before it reads anything (maillist.sqlite.write_queue;
other databases need nothing), starts from a fresh transaction, runs the work, and commits; any
error rolls everything back. A transaction the database chose as a deadlock victim, or one whose
connection turned out lost at once (a pooled connection the server dropped while it rested), runs
again at once, up to MAX_ATTEMPTS times in all. A lock wait timeout, SQLite's "database is
locked", or a server that stopped answering (the driver's read timeout) already waited its limit
and is raised: running again would make the caller wait that long again.

Two forms: `writes` (and `transaction`) for work on the request's or command's ORM session, and
`on_connection` for the intake's work on a connection of its own. Nothing else commits (a test
scans the code for it).
"""

import time
from functools import wraps

from sqlalchemy.exc import OperationalError

from maillist.extensions import db
from maillist.mariadb import is_deadlock
from maillist.sqlite import write_queue

MAX_ATTEMPTS = 5
# A lost connection noticed within this many seconds was dead before the attempt began.
QUICK = 1.0
INSIDE = "maillist.unit_of_work"


def runs_again(error, attempt, started):
    """Whether a failed attempt runs again: a deadlock victim, or a connection found lost at once
    (the pool has replaced it)."""
    if attempt >= MAX_ATTEMPTS or not isinstance(error, OperationalError):
        return False
    return is_deadlock(error) or (error.connection_invalidated and time.monotonic() - started < QUICK)


def transaction(work, *arguments, **keywords):
    """Run `work(*arguments, **keywords)` as one unit of work on the ORM session; returns what it
    returns. Called inside another unit, it joins that one (the outer unit commits)."""
    session = db.session()  # this request's or command's Session itself
    if session.info.get(INSIDE):
        return work(*arguments, **keywords)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        started = time.monotonic()
        with write_queue():
            start_fresh(session)
            session.info[INSIDE] = True
            try:
                result = work(*arguments, **keywords)
                session.commit()
                return result
            except Exception as error:
                session.rollback()
                if not runs_again(error, attempt, started):
                    raise
            finally:
                session.info.pop(INSIDE, None)


def writes(function):
    """Make a service function one unit of work (see `transaction`)."""
    @wraps(function)
    def run(*arguments, **keywords):
        return transaction(function, *arguments, **keywords)
    return run


def start_fresh(session):
    """End a transaction the session opened by reading before the unit began, so the unit's reads
    see the database as it is now, not an older snapshot (on SQLite, a write from a stale snapshot
    fails at once). Objects read before reload as they are used. Changes made before the unit
    (there should be none) are kept and committed with it."""
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        session.rollback()


def on_connection(work):
    """Run `work(connection)` as one unit of work on a connection of its own from the pool (not
    the session's); returns what it returns. The writer queue first, then the connection: the
    order every writer keeps."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        started = time.monotonic()
        try:
            with write_queue(), db.engine.connect() as connection, connection.begin():
                return work(connection)
        except OperationalError as error:
            if not runs_again(error, attempt, started):
                raise
