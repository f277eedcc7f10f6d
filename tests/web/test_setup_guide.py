"""The bounce-handling set-up guide's SQL runs verbatim against a migrated database."""

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from maillist import create_app
from maillist.extensions import db
from tests.helpers import throwaway_database

RECENT_AND_BY_TYPE = [
    "SELECT * FROM bounce_logs ORDER BY timestamp DESC LIMIT 20;",
    "SELECT bounce_type, COUNT(*) as count FROM bounce_logs GROUP BY bounce_type;",
]
MEMBERS = [
    "SELECT name, email, bounce_count, bounce_status FROM members WHERE bounce_count > 0;",
    "SELECT * FROM members WHERE email='problem@example.com';",
]
DELETE_MARIADB = "DELETE FROM bounce_logs WHERE created_at < DATE_SUB(NOW(), INTERVAL 90 DAY);"
# SQLite has no DATE_SUB: the same statement in its own date syntax.
DELETE_SQLITE = "DELETE FROM bounce_logs WHERE created_at < datetime('now', '-90 days');"


@pytest.fixture
def migrated(backend, tmp_path, request):
    """An app on an empty database that `flask db upgrade` built."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'guide.db'}"
        databases = iter([url])
    else:
        databases = throwaway_database(request.getfixturevalue("mariadb_server_url"), f"maillist_guide_{uuid.uuid4().hex[:10]}")
        url = next(databases)
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "k"}, instance_path=str(tmp_path / "i"))
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()
    for _ in databases:
        pass


def seed():
    now = datetime.utcnow()
    statements = [
        ("INSERT INTO member (id, name, email, active, bounce_count, bounce_status, created_at, updated_at) VALUES "
         "(1, 'Problem', 'problem@example.com', 0, 2, 'hard', :now, :now), (2, 'Fine', 'fine@example.com', 1, 0, 'clean', :now, :now)"),
        ("INSERT INTO bounce_log (member_id, email, event, bounce_type, occurred_at, created_at) VALUES "
         "(1, 'problem@example.com', 'bounce', 'Transient', :old, :old), (1, 'problem@example.com', 'bounce', 'Permanent', :now, :now),"
         "(NULL, 'x@example.com', 'bounce', 'Transient', :now, :now)"),
    ]
    for statement in statements:
        db.session.execute(text(statement), {"now": now, "old": now - timedelta(days=120)})
    db.session.commit()


def run(statement):
    result = db.session.execute(text(statement))
    rows = result.mappings().all() if result.returns_rows else result.rowcount
    db.session.commit()
    return rows


def test_the_guides_queries_run_verbatim(migrated, backend):
    seed()
    recent = run(RECENT_AND_BY_TYPE[0])
    assert [row["bounce_type"] for row in recent][:1] in (["Permanent"], ["Transient"]) and len(recent) == 3
    assert {"timestamp", "bounce_type", "email", "diagnostic_code", "created_at"} <= set(recent[0].keys())
    assert str(recent[-1]["timestamp"]) < str(recent[0]["timestamp"])
    assert {row["bounce_type"]: row["count"] for row in run(RECENT_AND_BY_TYPE[1])} == {"Transient": 2, "Permanent": 1}
    bouncing = run(MEMBERS[0])
    assert [dict(row) for row in bouncing] == [{"name": "Problem", "email": "problem@example.com", "bounce_count": 2, "bounce_status": "hard"}]
    (problem,) = run(MEMBERS[1])
    assert (problem["email"], problem["bounce_status"], problem["bounce_count"]) == ("problem@example.com", "hard", 2)


def test_the_guides_clean_up_deletes_through_the_view(migrated, backend):
    seed()
    removed = run(DELETE_MARIADB if backend == "mariadb" else DELETE_SQLITE)
    assert removed == 1 or backend == "sqlite"  # SQLite counts rows its trigger deleted as 0
    assert run("SELECT COUNT(*) AS n FROM bounce_log")[0]["n"] == 2
    assert run("SELECT COUNT(*) AS n FROM bounce_logs WHERE bounce_type = 'Transient'")[0]["n"] == 1


def test_the_views_go_with_a_downgrade(migrated):
    downgrade(revision="0004")
    from sqlalchemy import inspect

    assert not {"bounce_logs", "members"} & set(inspect(db.engine).get_view_names())
    upgrade()
    assert {"bounce_logs", "members"} <= set(inspect(db.engine).get_view_names())


@pytest.mark.parametrize("app_overrides, status, body", [
    ({"ENABLE_SNS_WEBHOOKS": True, "SNS_TOPIC_ARNS": ["*"]}, 400, {"detail": "Type 'test' is not an SNS message type", "outcome": "refused"}),
    ({}, 404, {"error": "That page does not exist."}),
])
def test_the_guides_curl_check_answers_as_the_readme_says(client, app_overrides, status, body):
    response = client.post("/webhooks/sns", data='{"Type":"test"}', headers={"Content-Type": "application/json"})
    assert (response.status_code, response.get_json()) == (status, body)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert json.dumps(body, separators=(",", ":"), sort_keys=True) in readme
