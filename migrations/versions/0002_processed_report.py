"""Name the ledger for what it holds: sns_message becomes processed_report, with a source.

The ledger records bounce emails as well as SNS messages, so each row now says where it came in
(`sns` or `email`); a bounce email's topic_arn, formerly the word "email", becomes NULL. The bounce
log's sns_message_id becomes report_key, as it holds a bounce email's key too.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 08:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table('processed_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_key', sa.String(length=128), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('topic_arn', sa.String(length=255), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('raw_body', sa.Text(), nullable=True),
    sa.Column('received_at', TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processed_report')),
    sa.UniqueConstraint('report_key', name=op.f('uq_processed_report_report_key'))
    )
    with op.batch_alter_table('processed_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_report_received_at'), ['received_at'], unique=False)
    op.execute(
        "INSERT INTO processed_report (id, report_key, source, kind, topic_arn, outcome, raw_body, received_at) "
        "SELECT id, message_id, CASE WHEN topic_arn = 'email' THEN 'email' ELSE 'sns' END, message_type, "
        "CASE WHEN topic_arn = 'email' THEN NULL ELSE topic_arn END, outcome, raw_message, received_at "
        "FROM sns_message"
    )
    op.drop_table('sns_message')

    with op.batch_alter_table('bounce_log', schema=None) as batch_op:
        batch_op.drop_index('ix_bounce_log_sns_message_id')
        batch_op.alter_column('sns_message_id', new_column_name='report_key',
                              existing_type=sa.String(length=128), existing_nullable=True)
    with op.batch_alter_table('bounce_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bounce_log_report_key'), ['report_key'], unique=False)


def downgrade():
    with op.batch_alter_table('bounce_log', schema=None) as batch_op:
        batch_op.drop_index('ix_bounce_log_report_key')
        batch_op.alter_column('report_key', new_column_name='sns_message_id',
                              existing_type=sa.String(length=128), existing_nullable=True)
    with op.batch_alter_table('bounce_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bounce_log_sns_message_id'), ['sns_message_id'], unique=False)

    op.create_table('sns_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('message_type', sa.String(length=40), nullable=False),
    sa.Column('topic_arn', sa.String(length=255), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('raw_message', sa.Text(), nullable=True),
    sa.Column('received_at', TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sns_message')),
    sa.UniqueConstraint('message_id', name=op.f('uq_sns_message_message_id'))
    )
    with op.batch_alter_table('sns_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sns_message_received_at'), ['received_at'], unique=False)
    op.execute(
        "INSERT INTO sns_message (id, message_id, message_type, topic_arn, outcome, raw_message, received_at) "
        "SELECT id, report_key, kind, COALESCE(topic_arn, 'email'), outcome, raw_body, received_at "
        "FROM processed_report"
    )
    op.drop_table('processed_report')
