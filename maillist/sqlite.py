"""SQLite specifics: connection settings, and a writer queue shared by every worker process."""

import fcntl
import os
import stat
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import event

from maillist.extensions import db


# The database holds password hashes: only the account maillist runs as may read it.
OWNER_ONLY_FILE, OWNER_ONLY_FOLDER = 0o600, 0o700


def protect_files(database):
    """Create the SQLite file owner-only (its -wal and -shm files follow its mode), and tighten an older one.

    The folder is created owner-only too when maillist creates it (the instance folder).
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=OWNER_ONLY_FOLDER)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, OWNER_ONLY_FILE))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}.writelock")):
        if name.exists() and stat.S_IMODE(name.stat().st_mode) & 0o077 and name.stat().st_uid == os.geteuid():
            name.chmod(OWNER_ONLY_FILE)


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
    with os.fdopen(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, OWNER_ONLY_FILE), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
