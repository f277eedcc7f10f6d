"""Counts of what came in, per hour, door, outcome and refusal reason (the status page and /metrics).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table('intake_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hour', TIMESTAMP, nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_count')),
    sa.UniqueConstraint('hour', 'source', 'outcome', 'reason', name='uq_intake_count_hour')
    )
    with op.batch_alter_table('intake_count', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_count_hour'), ['hour'], unique=False)


def downgrade():
    with op.batch_alter_table('intake_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_count_hour'))
    op.drop_table('intake_count')
