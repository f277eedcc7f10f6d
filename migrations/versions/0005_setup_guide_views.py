"""Read-and-delete views with the names the bounce-handling set-up guide uses: bounce_logs and members.

People keep the guide's SQL in notes and cron jobs (`SELECT * FROM bounce_logs ORDER BY timestamp
DESC LIMIT 20`, `DELETE FROM bounce_logs WHERE created_at < ...`, `SELECT ... FROM members`).
Views give those names and columns without renaming maillist's own tables, which every model,
query and Postfix lookup uses. `bounce_logs.timestamp` is `bounce_log.occurred_at`.

Rows can be deleted through `bounce_logs`: MariaDB merges a single-table view into the DELETE;
SQLite gets an INSTEAD OF DELETE trigger. (A later migration that rebuilds bounce_log or member
on SQLite must drop and recreate these views around it.)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:55:00

"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BOUNCE_LOGS = """SELECT id, member_id, email, event, bounce_type, bounce_subtype, diagnostic_code, action, status,
       feedback_type, user_agent, feedback_id, report_key, details, occurred_at AS timestamp, created_at
FROM bounce_log"""
MEMBERS = """SELECT id, name, email, active, bounce_count, bounce_status, last_bounce_at, created_at, updated_at
FROM member"""


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    merge = "" if sqlite else "ALGORITHM=MERGE "
    op.execute(f"CREATE {merge}VIEW bounce_logs AS {BOUNCE_LOGS}")
    op.execute(f"CREATE {merge}VIEW members AS {MEMBERS}")
    if sqlite:
        op.execute("CREATE TRIGGER bounce_logs_delete INSTEAD OF DELETE ON bounce_logs "
                   "BEGIN DELETE FROM bounce_log WHERE id = OLD.id; END")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS bounce_logs_delete")
    op.execute("DROP VIEW IF EXISTS members")
    op.execute("DROP VIEW IF EXISTS bounce_logs")
