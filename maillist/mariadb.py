"""MariaDB/MySQL specifics: bounded waits on every connection, and TLS only when the URL asks for it."""

import time

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

from maillist.extensions import db

# 1213: this transaction was chosen as a deadlock victim and should run again at once. 1305: the
# same, noticed when rolling back to a savepoint that the deadlock's rollback already took away.
DEADLOCK_ERRORS = frozenset({1213, 1305})
# DATABASE_URL query arguments that mean "use TLS" (PyMySQL's names).
TLS_ARGUMENTS = ("ssl", "ssl_ca", "ssl_cert", "ssl_key", "ssl_verify_cert", "ssl_verify_identity")
# A pooled connection that rested longer than this is pinged before use (see `register`).
PING_AFTER_IDLE = 1.0


def error_code(error):
    """The MySQL/MariaDB error number behind a SQLAlchemy error, or None (SQLite's have none)."""
    orig = getattr(error, "orig", None)
    return orig.args[0] if orig is not None and orig.args and isinstance(orig.args[0], int) else None


def is_deadlock(error):
    """Whether the database rolled this transaction back as a deadlock victim: run it again."""
    return error_code(error) in DEADLOCK_ERRORS


def connect_args(url, lock_wait_timeout, statement_timeout=10):
    """PyMySQL arguments: utf8mb4, TLS off unless asked for (PyMySQL would otherwise build a TLS
    context, some 20 ms of CPU, for every connection, even a refused one), a lock-wait limit, and
    limits on waiting for the server at all: a frozen server (stopped, or its host unreachable)
    answers nothing, and without these a request would wait for ever. The server's own statement
    limit (DB_STATEMENT_TIMEOUT, see `register`) fires first while it is alive."""
    wait = int(statement_timeout) + 1
    args = {"charset": "utf8mb4", "connect_timeout": min(wait, 10), "read_timeout": wait, "write_timeout": wait,
            "init_command": f"SET SESSION innodb_lock_wait_timeout = {int(lock_wait_timeout)}, lock_wait_timeout = {int(lock_wait_timeout)}"}
    if not any(name in url.query for name in TLS_ARGUMENTS):
        args["ssl_disabled"] = True
    return args


def pool_options():
    """Engine options for the pool: no ping on every checkout and no ROLLBACK on every return.

    Under load a connection goes back to work milliseconds after it was returned, and a ping or a
    rollback each time is a round trip per request. Instead `register` pings only a connection
    that rested (a restarted server, a dropped idle connection), pool_recycle retires connections
    before the server's wait_timeout, the intake runs a transaction again on a connection lost
    mid-way (maillist.intake.ledger), and the session always ends its transaction (commit or
    rollback) before a connection goes back, so the reset has nothing to do.
    """
    return {"pool_pre_ping": False, "pool_reset_on_return": None}


def register(app):
    """On MariaDB, limit how long one statement may run (MySQL has no such setting for writes), and
    ping a pooled connection that rested before handing it out."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "mysql":
            return
        limit = app.config["DB_STATEMENT_TIMEOUT"]

        @event.listens_for(engine, "checkin")
        def note_rest(dbapi_connection, connection_record):
            connection_record.info["rest_from"] = time.monotonic()

        @event.listens_for(engine, "checkout")
        def ping_after_rest(dbapi_connection, connection_record, connection_proxy):
            rested = time.monotonic() - connection_record.info.get("rest_from", time.monotonic())
            if rested > PING_AFTER_IDLE:
                try:
                    dbapi_connection.ping(reconnect=False)
                except Exception as error:  # the pool replaces the connection and tries again
                    raise DisconnectionError(str(error)) from error

        @event.listens_for(engine, "connect")
        def limit_statements(dbapi_connection, connection_record):
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT VERSION()")
            if "mariadb" in str(cursor.fetchone()[0]).lower():
                cursor.execute(f"SET SESSION max_statement_time = {float(limit)}")
            cursor.close()
