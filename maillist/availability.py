"""Whether the database can be reached: after a failure, say "no" at once for a moment.

While the database is down every attempt to reach it costs a connection attempt (and time that
requests queue behind). A small circuit breaker, shared by a worker's threads, answers
"unavailable" for OPEN_FOR seconds after a failure instead; the first request after that tries
again. The webhook answers 503 meanwhile, and SNS retries.
"""

import threading
import time

from sqlalchemy.exc import OperationalError

from maillist.mariadb import error_code

OPEN_FOR = 2.0
# MySQL/MariaDB client errors that mean the server is not there: cannot connect (2002, 2003),
# gone away (2006), lost the connection (2013).
UNREACHABLE_MYSQL_ERRORS = {2002, 2003, 2006, 2013}


class Breaker:
    """Open (refusing) for `open_for` seconds after `trip()`; closed otherwise."""

    def __init__(self, open_for=OPEN_FOR):
        self.open_for = open_for
        self._open_until = 0.0
        self._lock = threading.Lock()

    def is_open(self):
        return time.monotonic() < self._open_until

    def trip(self):
        with self._lock:
            self._open_until = time.monotonic() + self.open_for

    def reset(self):
        with self._lock:
            self._open_until = 0.0


database = Breaker()


def is_unavailable(error):
    """Whether `error` says the database cannot be reached, or could not be written for the whole wait."""
    from maillist.sqlite import WriterQueueTimeout

    if isinstance(error, WriterQueueTimeout):
        return True
    if not isinstance(error, OperationalError) or error.orig is None:
        return False
    return error_code(error) in UNREACHABLE_MYSQL_ERRORS or "unable to open database" in str(error.orig)
