"""Who may post to a list: anyone, its members, or listed senders.

Every list, existing ones included, starts as `members`: until now anyone could send to any list,
and the organisation's reputation went out with whatever arrived. Lists that take mail from
outside (an enquiries address, say) can be set back to `open` in the list dialog.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:45:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mailing_list', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_policy', sa.String(length=10), server_default='members', nullable=False))
        batch_op.add_column(sa.Column('allowed_senders', sa.Text(), nullable=True))
    op.execute("UPDATE mailing_list SET allowed_senders = ''")
    with op.batch_alter_table('mailing_list', schema=None) as batch_op:
        batch_op.alter_column('allowed_senders', existing_type=sa.Text(), nullable=False)


def downgrade():
    with op.batch_alter_table('mailing_list', schema=None) as batch_op:
        batch_op.drop_column('allowed_senders')
        batch_op.drop_column('post_policy')
