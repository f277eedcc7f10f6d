"""A reason on every bounce: only an address that is really dead deactivates a member.

bounce_log.reason holds maillist.bounce_reasons' word for why it bounced (no-such-user, blocked,
mailbox-full, ...). Older rows keep NULL: their reason was never read.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:45:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds the table for batch changes: the guide's view over it goes first, then returns.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS bounce_logs_delete")
        op.execute("DROP VIEW IF EXISTS bounce_logs")
    with op.batch_alter_table('bounce_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_bounce_log_reason'), ['reason'], unique=False)
    if sqlite:
        recreate_guide_view()


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS bounce_logs_delete")
        op.execute("DROP VIEW IF EXISTS bounce_logs")
    with op.batch_alter_table('bounce_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bounce_log_reason'))
        batch_op.drop_column('reason')
    if sqlite:
        recreate_guide_view()


def recreate_guide_view():
    op.execute("""CREATE VIEW bounce_logs AS SELECT id, member_id, email, event, bounce_type, bounce_subtype, diagnostic_code,
       action, status, feedback_type, user_agent, feedback_id, report_key, details, occurred_at AS timestamp, created_at
FROM bounce_log""")
    op.execute("CREATE TRIGGER bounce_logs_delete INSTEAD OF DELETE ON bounce_logs "
               "BEGIN DELETE FROM bounce_log WHERE id = OLD.id; END")
