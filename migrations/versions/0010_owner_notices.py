"""List owners, and which deactivations their digest has told them of.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:10:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')
GUIDE_VIEW = """CREATE VIEW bounce_logs AS SELECT id, member_id, email, event, bounce_type, bounce_subtype, diagnostic_code,
       action, status, feedback_type, user_agent, feedback_id, report_key, details, occurred_at AS timestamp, created_at
FROM bounce_log"""


def upgrade():
    # Plain ADD COLUMNs on both databases: no table rebuild, the guide's views stay.
    op.add_column('mailing_list', sa.Column('owners', sa.Text(), nullable=False, server_default=''))
    op.add_column('bounce_log', sa.Column('notified_at', TIMESTAMP, nullable=True))
    # What happened before owners existed is not news to anyone.
    op.execute("UPDATE bounce_log SET notified_at = created_at")


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS bounce_logs_delete")
        op.execute("DROP VIEW IF EXISTS bounce_logs")
    with op.batch_alter_table('bounce_log', schema=None) as batch_op:
        batch_op.drop_column('notified_at')
    with op.batch_alter_table('mailing_list', schema=None) as batch_op:
        batch_op.drop_column('owners')
    if sqlite:
        op.execute(GUIDE_VIEW)
        op.execute("CREATE TRIGGER bounce_logs_delete INSTEAD OF DELETE ON bounce_logs "
                   "BEGIN DELETE FROM bounce_log WHERE id = OLD.id; END")
