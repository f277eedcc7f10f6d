"""Remember which members SES has on its account-level suppression list.

member.ses_suppressed is set by a Suppressed or OnAccountSuppressionList bounce and cleared when
the address is removed from SES's list (Reset Bounce Status, `flask ses suppression remove`).
Existing members whose history holds such a bounce are marked.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: no table rebuild, the guide's views stay.
    op.add_column('member', sa.Column('ses_suppressed', sa.Boolean(), server_default='0', nullable=False))
    op.execute("UPDATE member SET ses_suppressed = 1 WHERE id IN "
               "(SELECT member_id FROM bounce_log WHERE reason = 'suppressed' AND member_id IS NOT NULL)")


def downgrade():
    # SQLite rebuilds the table to drop a column: the guide's view over it goes first, then returns.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP VIEW IF EXISTS members")
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('ses_suppressed')
    if sqlite:
        op.execute("CREATE VIEW members AS SELECT id, name, email, active, bounce_count, bounce_status, last_bounce_at, "
                   "created_at, updated_at FROM member")
