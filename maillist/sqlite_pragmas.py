"""SQLite settings applied to every connection: WAL journal and enforced foreign keys."""

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
