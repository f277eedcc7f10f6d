"""Why mail to a member stopped: member.deactivated_by (hard-bounce, soft-bounce, complaint, staff).

Existing inactive members get the likeliest cause: hard-bounced ones a hard bounce, those with a
complaint in their history a complaint, the rest staff.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('member', sa.Column('deactivated_by', sa.String(length=20), nullable=True))
    op.execute("UPDATE member SET deactivated_by = 'hard-bounce' WHERE active = 0 AND bounce_status = 'hard'")
    op.execute("UPDATE member SET deactivated_by = 'complaint' WHERE active = 0 AND deactivated_by IS NULL AND id IN "
               "(SELECT member_id FROM bounce_log WHERE event = 'complaint' AND member_id IS NOT NULL)")
    op.execute("UPDATE member SET deactivated_by = 'staff' WHERE active = 0 AND deactivated_by IS NULL")


def downgrade():
    # SQLite rebuilds the table to drop a column: the guide's view over it goes first, then returns.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP VIEW IF EXISTS members")
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('deactivated_by')
    if sqlite:
        op.execute("CREATE VIEW members AS SELECT id, name, email, active, bounce_count, bounce_status, last_bounce_at, "
                   "created_at, updated_at FROM member")
