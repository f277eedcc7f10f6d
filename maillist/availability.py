"""Whether the database can be reached: after a failure, say "no" at once for a moment.

While the database is down, frozen or locked, every attempt to reach it costs a connection attempt
or a whole lock wait (and time that requests queue behind). A small circuit breaker, shared by a
worker's threads, answers "unavailable" for up to OPEN_FOR seconds after a failure instead; the
webhook answers 503 meanwhile, and SNS retries. Every PROBE_EVERY seconds while it is open, one
request is let through to try (half-open): the first that succeeds closes it, so a database that
is back is used again within PROBE_EVERY seconds, not OPEN_FOR.
"""

import threading
import time

from sqlalchemy.exc import OperationalError

from maillist.mariadb import error_code

OPEN_FOR = 2.0
PROBE_EVERY = 0.5
# MySQL/MariaDB errors that mean the server cannot be used now: cannot connect (2002, 2003), gone
# away (2006), lost the connection or no answer within the read timeout (2013), a lock waited
# for the whole DB_LOCK_WAIT_TIMEOUT (1205), a statement stopped at DB_STATEMENT_TIMEOUT (1969).
UNREACHABLE_MYSQL_ERRORS = {2002, 2003, 2006, 2013, 1205, 1969}


class Breaker:
    """Open (refusing) for `open_for` seconds after `trip()`, letting one caller through every
    `probe_every` seconds to try; closed by `reset()` (a success) or when the time is up."""

    def __init__(self, open_for=OPEN_FOR, probe_every=PROBE_EVERY):
        self.open_for, self.probe_every = open_for, probe_every
        self._open_until = self._next_probe = 0.0
        self._lock = threading.Lock()

    def is_open(self, probe=True):
        """Whether to refuse now without trying; False for the one caller that probes (unless
        `probe` is False: a background task leaves the probes to requests)."""
        now = time.monotonic()
        if now >= self._open_until:
            return False
        if not probe:
            return True
        with self._lock:
            if now >= self._next_probe:
                self._next_probe = now + self.probe_every
                return False
        return True

    def trip(self):
        with self._lock:
            now = time.monotonic()
            self._open_until, self._next_probe = now + self.open_for, now + self.probe_every

    def reset(self):
        if self._open_until:
            with self._lock:
                self._open_until = self._next_probe = 0.0


database = Breaker()


def is_unavailable(error):
    """Whether `error` says the database cannot be reached, or could not be written for the whole wait."""
    from maillist.sqlite import WriterQueueTimeout

    if isinstance(error, WriterQueueTimeout):
        return True
    if not isinstance(error, OperationalError) or error.orig is None:
        return False
    text = str(error.orig)
    return error_code(error) in UNREACHABLE_MYSQL_ERRORS or "unable to open database" in text or "database is locked" in text
