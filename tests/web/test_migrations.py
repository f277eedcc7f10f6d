"""The migrations build the schema on empty SQLite and MariaDB databases and match the models."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from maillist import create_app
from maillist.extensions import db
from tests.helpers import throwaway_database


@pytest.fixture
def empty_database_url(backend, tmp_path, request):
    """An empty database with no tables at all."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("mariadb_server_url")
    yield from throwaway_database(server, f"maillist_migr_{uuid.uuid4().hex[:10]}")


def differences(url):
    """What autogenerate would change to make the database match the models."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_builds_schema_matching_models(empty_database_url, tmp_path):
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "k"}, instance_path=str(tmp_path))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"user", "member", "mailing_list", "subscription", "bounce_log", "audit_log", "processed_report"} <= tables
        assert differences(empty_database_url) == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_ledger_rename_keeps_its_rows(empty_database_url, tmp_path):
    """0002 moves sns_message rows into processed_report with their source, and back on downgrade."""
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "k"}, instance_path=str(tmp_path))
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO sns_message (id, message_id, message_type, topic_arn, outcome, raw_message, received_at) VALUES "
                "(1, 'm-1', 'Notification', 'arn:aws:sns:eu-west-1:123456789012:ses', 'malformed', '{bad', '2026-11-30 10:00:00'),"
                "(2, 'dsn:<x@mx>', 'DSN', 'email', 'applied', NULL, '2026-11-30 11:00:00')"))
            connection.execute(text(
                "INSERT INTO bounce_log (email, event, sns_message_id, occurred_at, created_at) VALUES "
                "('ann@example.org', 'bounce', 'dsn:<x@mx>', '2026-11-30 11:00:00', '2026-11-30 11:00:00')"))
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, report_key, source, kind, topic_arn, outcome, raw_body FROM processed_report ORDER BY id")).all()
            assert [tuple(row) for row in rows] == [
                (1, "m-1", "sns", "Notification", "arn:aws:sns:eu-west-1:123456789012:ses", "malformed", "{bad"),
                (2, "dsn:<x@mx>", "email", "DSN", None, "applied", None),
            ]
            assert connection.execute(text("SELECT report_key FROM bounce_log")).scalar() == "dsn:<x@mx>"
        downgrade(revision="0001")
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT message_id, topic_arn FROM sns_message ORDER BY id")).all()
            assert [tuple(row) for row in rows] == [("m-1", "arn:aws:sns:eu-west-1:123456789012:ses"), ("dsn:<x@mx>", "email")]
            assert connection.execute(text("SELECT sns_message_id FROM bounce_log")).scalar() == "dsn:<x@mx>"
        downgrade(revision="base")
        db.engine.dispose()


def test_storm_guard_migration_fills_in_each_bounces_domain(empty_database_url, tmp_path):
    """0007 gives existing bounce log rows their receiving domain, lower case; the downgrade keeps the rows."""
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "k"}, instance_path=str(tmp_path))
    with app.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO bounce_log (email, event, occurred_at, created_at) VALUES "
                "('Ann@BigMail.Example', 'bounce', '2026-11-30 11:00:00', '2026-11-30 11:00:00'),"
                "('no-at-sign', 'bounce', '2026-11-30 11:00:00', '2026-11-30 11:00:00')"))
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT email, domain, hold_id, held FROM bounce_log ORDER BY id")).all()
            assert [tuple(row) for row in rows] == [("Ann@BigMail.Example", "bigmail.example", None, None),
                                                    ("no-at-sign", None, None, None)]
        downgrade(revision="0006")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM bounce_log")).scalar() == 2
            assert "storm_hold" not in inspect(db.engine).get_table_names()
        downgrade(revision="base")
        db.engine.dispose()


def test_ses_suppression_migration_marks_members_with_a_suppression_bounce(empty_database_url, tmp_path):
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "k"}, instance_path=str(tmp_path))
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO member (id, name, email, active, bounce_count, bounce_status, created_at, updated_at) VALUES "
                "(1, 'Ann', 'ann@example.org', 0, 1, 'hard', '2026-11-30 11:00:00', '2026-11-30 11:00:00'),"
                "(2, 'Bob', 'bob@example.org', 1, 0, 'clean', '2026-11-30 11:00:00', '2026-11-30 11:00:00')"))
            connection.execute(text(
                "INSERT INTO bounce_log (member_id, email, event, reason, occurred_at, created_at) VALUES "
                "(1, 'ann@example.org', 'bounce', 'suppressed', '2026-11-30 11:00:00', '2026-11-30 11:00:00')"))
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT email, ses_suppressed FROM member ORDER BY id")).all()
            assert [(email, bool(flag)) for email, flag in rows] == [("ann@example.org", True), ("bob@example.org", False)]
            assert connection.execute(text("SELECT count(*) FROM members")).scalar() == 2
        downgrade(revision="0007")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM members")).scalar() == 2
        downgrade(revision="base")
        db.engine.dispose()


def test_why_inactive_migration_names_the_likeliest_cause(empty_database_url, tmp_path):
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "k"}, instance_path=str(tmp_path))
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO member (id, name, email, active, bounce_count, bounce_status, ses_suppressed, created_at, updated_at) VALUES "
                "(1, 'A', 'a@example.org', 0, 1, 'hard', 0, '2026-11-30 11:00:00', '2026-11-30 11:00:00'),"
                "(2, 'B', 'b@example.org', 0, 0, 'clean', 0, '2026-11-30 11:00:00', '2026-11-30 11:00:00'),"
                "(3, 'C', 'c@example.org', 0, 0, 'clean', 0, '2026-11-30 11:00:00', '2026-11-30 11:00:00'),"
                "(4, 'D', 'd@example.org', 1, 0, 'clean', 0, '2026-11-30 11:00:00', '2026-11-30 11:00:00')"))
            connection.execute(text(
                "INSERT INTO bounce_log (member_id, email, event, occurred_at, created_at) VALUES "
                "(2, 'b@example.org', 'complaint', '2026-11-30 11:00:00', '2026-11-30 11:00:00')"))
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, deactivated_by FROM member ORDER BY id")).all()
            assert [tuple(row) for row in rows] == [(1, "hard-bounce"), (2, "complaint"), (3, "staff"), (4, None)]
        downgrade(revision="0010")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM members")).scalar() == 4
        downgrade(revision="base")
        db.engine.dispose()
