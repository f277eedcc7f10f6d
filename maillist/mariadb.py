"""MariaDB/MySQL specifics: bounded waits on every connection, and TLS only when the URL asks for it."""

from sqlalchemy import event

from maillist.extensions import db

# 1213: this transaction was chosen as a deadlock victim and should run again at once. 1305: the
# same, noticed when rolling back to a savepoint that the deadlock's rollback already took away.
DEADLOCK_ERRORS = frozenset({1213, 1305})
# DATABASE_URL query arguments that mean "use TLS" (PyMySQL's names).
TLS_ARGUMENTS = ("ssl", "ssl_ca", "ssl_cert", "ssl_key", "ssl_verify_cert", "ssl_verify_identity")


def error_code(error):
    """The MySQL/MariaDB error number behind a SQLAlchemy error, or None (SQLite's have none)."""
    orig = getattr(error, "orig", None)
    return orig.args[0] if orig is not None and orig.args and isinstance(orig.args[0], int) else None


def is_deadlock(error):
    """Whether the database rolled this transaction back as a deadlock victim: run it again."""
    return error_code(error) in DEADLOCK_ERRORS


def connect_args(url, lock_wait_timeout):
    """PyMySQL arguments: utf8mb4, TLS off unless asked for (PyMySQL would otherwise build a TLS
    context, some 20 ms of CPU, for every connection, even a refused one), and a lock-wait limit."""
    args = {"charset": "utf8mb4", "init_command": f"SET SESSION innodb_lock_wait_timeout = {int(lock_wait_timeout)}, lock_wait_timeout = {int(lock_wait_timeout)}"}
    if not any(name in url.query for name in TLS_ARGUMENTS):
        args["ssl_disabled"] = True
    return args


def register(app):
    """On MariaDB, also limit how long one statement may run (MySQL has no such setting for writes)."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "mysql":
            return
        limit = app.config["DB_STATEMENT_TIMEOUT"]

        @event.listens_for(engine, "connect")
        def limit_statements(dbapi_connection, connection_record):
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT VERSION()")
            if "mariadb" in str(cursor.fetchone()[0]).lower():
                cursor.execute(f"SET SESSION max_statement_time = {float(limit)}")
            cursor.close()
