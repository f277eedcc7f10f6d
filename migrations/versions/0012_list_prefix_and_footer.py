"""A list's subject prefix and footer, added to every copy of its mail.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs on both databases; empty means none, as lists had until now.
    op.add_column('mailing_list', sa.Column('subject_prefix', sa.String(length=60), nullable=False, server_default=''))
    op.add_column('mailing_list', sa.Column('footer', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('mailing_list', schema=None) as batch_op:
        batch_op.drop_column('footer')
        batch_op.drop_column('subject_prefix')
