"""Sessions that end when they should, and sign-in attempts counted atomically.

user.session_version is part of every session's user id, so raising it ends that user's sessions.
login_failure (a row per failure, counted afterwards) gives way to login_attempt (one counter per
key and window, raised in a single UPDATE), so parallel guesses cannot all slip under the limit.
Throttling state is short-lived: the old rows are not carried over.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 08:20:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))

    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('window_start', TIMESTAMP, nullable=False),
    sa.Column('last_attempt_at', TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt')),
    sa.UniqueConstraint('scope', 'key', name='uq_login_attempt_scope_key')
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempt_window_start'), ['window_start'], unique=False)
    op.drop_table('login_failure')


def downgrade():
    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('created_at', TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_login_failure_scope_key_at', ['scope', 'key', 'created_at'], unique=False)
    op.drop_table('login_attempt')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
