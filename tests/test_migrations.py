"""The migrations build the schema on empty SQLite and MariaDB databases and match the models."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from maillist import create_app
from maillist.extensions import db
from tests.conftest import throwaway_database


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
        assert {"user", "member", "mailing_list", "subscription", "bounce_log", "audit_log", "sns_message"} <= tables
        assert differences(empty_database_url) == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
