"""SQLite specifics: connection settings, and a writer queue shared by every worker process."""

import fcntl
import os
import stat
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from maillist.extensions import db


# The database holds password hashes: only the account maillist runs as may read it.
OWNER_ONLY_FILE, OWNER_ONLY_FOLDER = 0o600, 0o700


def protect_files(database):
    """Create the SQLite file owner-only (its -wal and -shm files follow its mode), and tighten an older one.

    Its folder exists: the instance folder is made owner-only by `configure_database`, and the
    folder of a DATABASE_URL must exist already (`config.check_database_url`).
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
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
        busy_ms = int(app.config["DB_LOCK_WAIT_TIMEOUT"] * 1000)

        @event.listens_for(engine, "connect")
        def set_sqlite_pragmas(dbapi_connection, connection_record):
            """Configure one raw SQLite connection."""
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.close()


def write_queue():
    """A context in which to run one write transaction: on SQLite, one writer at a time.

    SQLite has a single writer; when several wait, its busy handler polls with sleeps of up to
    100 ms, which shows as long latency tails under webhook load. Writers queue here instead:
    the threads of one process on a lock the next one is woken from the moment it is free, and
    processes (gunicorn's workers, the CLI) on an exclusive lock on a file beside the database.
    Other databases need nothing.

    Take the queue before checking a connection out of the pool, never after: a writer holding a
    connection while it waits here could leave the one in front of it waiting for a connection.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return nullcontext()
    return writer_lock(engine.url.database + ".writelock").held(current_app.config["DB_LOCK_WAIT_TIMEOUT"])


class WriterQueueTimeout(OperationalError):
    """Waited the whole DB_LOCK_WAIT_TIMEOUT for the writer lock: the database counts as unavailable."""

    def __init__(self, seconds):
        super().__init__("writer queue", None, Exception(f"database is locked: waited {seconds} s for the writer queue"))


class WriterLock:
    """One process's place in the writer queue of one database: a thread lock, then the file lock.

    A lock taken with flock belongs to the open file, and each holder opens the file itself; the
    thread lock queues a process's own threads without polling, so only processes poll each other.
    """

    def __init__(self, path):
        self.path = path
        self.threads = threading.Lock()

    @contextmanager
    def held(self, timeout):
        started = time.monotonic()
        if not self.threads.acquire(timeout=timeout):
            raise WriterQueueTimeout(timeout)
        try:
            handle = os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, OWNER_ONLY_FILE)
            try:
                lock_file(handle, started, timeout)
                yield
            finally:
                os.close(handle)  # closing the file lets the lock go
        finally:
            self.threads.release()


def lock_file(handle, started, timeout):
    """Take the exclusive lock on the open file `handle`, trying again until `timeout` seconds after `started`."""
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            waited = time.monotonic() - started
            if waited >= timeout:
                raise WriterQueueTimeout(timeout) from None
            time.sleep(poll_pause(waited))


def poll_pause(waited):
    """How long to sleep before trying another process's file lock again, having waited `waited` s.

    A webhook transaction holds the lock for a millisecond or two, so a waiter looks again often
    at first (a longer sleep is time the lock stands free); one that has waited long is behind a
    bulk change or an import, and looks less often to spare the CPU.
    """
    if waited < 0.05:
        return 0.0002
    return 0.001 if waited < 1 else 0.01


_writer_locks = {}
_writer_locks_guard = threading.Lock()


def writer_lock(path):
    """This process's WriterLock for the lock file at `path` (a forked worker has its own copy)."""
    found = _writer_locks.get(path)
    if found is None:
        with _writer_locks_guard:
            found = _writer_locks.setdefault(path, WriterLock(path))
    return found
