"""SQLite specifics: connection settings, and a writer queue shared by every worker process."""

import fcntl
from contextlib import contextmanager, nullcontext

from sqlalchemy import event

from maillist.extensions import db


def register(app):
    """Turn on WAL and foreign keys for each new SQLite connection of this app."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return
        event.listen(engine, "connect", set_sqlite_pragmas)


def set_sqlite_pragmas(dbapi_connection, connection_record):
    """Configure one raw SQLite connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def write_queue():
    """A context in which to run one write transaction: on SQLite, one writer at a time.

    SQLite has a single writer; when several wait, its busy handler polls with sleeps of up to
    100 ms, which shows as long latency tails under webhook load. An exclusive lock on a file
    beside the database queues writers across threads and gunicorn workers instead, and the
    kernel wakes the next one the moment the lock is free. Other databases need nothing.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return nullcontext()
    return _file_lock(engine.url.database + ".writelock")


@contextmanager
def _file_lock(path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
