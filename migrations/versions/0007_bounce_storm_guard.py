"""The bounce-storm guard: holds on a receiving domain, and what each bounce was in a hold.

storm_hold keeps one row per hold (one open hold per domain: open_domain is unique and NULL once
closed). bounce_log gains the receiving domain (filled in for existing rows), the hold a bounce
fell into, what the hold did with it (`held`, `undone`, then `released` or `dismissed`), and the
member's status before a bounce deactivated them, so a hold can undo it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table('storm_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('open_domain', sa.String(length=255), nullable=True),
    sa.Column('reason', sa.String(length=20), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('opened_at', TIMESTAMP, nullable=False),
    sa.Column('closed_at', TIMESTAMP, nullable=True),
    sa.Column('closed_by', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storm_hold')),
    sa.UniqueConstraint('open_domain', name=op.f('uq_storm_hold_open_domain'))
    )
    with op.batch_alter_table('storm_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_storm_hold_domain'), ['domain'], unique=False)

    # SQLite rebuilds the table for batch changes: the guide's view over it goes first, then returns.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        drop_guide_view()
    with op.batch_alter_table('bounce_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('domain', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('hold_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('held', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('status_before', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_bounce_log_domain_occurred', ['domain', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bounce_log_hold_id'), ['hold_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_bounce_log_hold_id_storm_hold'), 'storm_hold', ['hold_id'], ['id'],
                                    ondelete='SET NULL')
    # substr and instr mean the same on SQLite and MariaDB.
    op.execute("UPDATE bounce_log SET domain = lower(substr(email, instr(email, '@') + 1)) WHERE instr(email, '@') > 0")
    if sqlite:
        recreate_guide_view()


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        drop_guide_view()
    with op.batch_alter_table('bounce_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_bounce_log_hold_id_storm_hold'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_bounce_log_hold_id'))
        batch_op.drop_index('ix_bounce_log_domain_occurred')
        batch_op.drop_column('status_before')
        batch_op.drop_column('held')
        batch_op.drop_column('hold_id')
        batch_op.drop_column('domain')
    if sqlite:
        recreate_guide_view()
    with op.batch_alter_table('storm_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_storm_hold_domain'))
    op.drop_table('storm_hold')


def drop_guide_view():
    op.execute("DROP TRIGGER IF EXISTS bounce_logs_delete")
    op.execute("DROP VIEW IF EXISTS bounce_logs")


def recreate_guide_view():
    op.execute("""CREATE VIEW bounce_logs AS SELECT id, member_id, email, event, bounce_type, bounce_subtype, diagnostic_code,
       action, status, feedback_type, user_agent, feedback_id, report_key, details, occurred_at AS timestamp, created_at
FROM bounce_log""")
    op.execute("CREATE TRIGGER bounce_logs_delete INSTEAD OF DELETE ON bounce_logs "
               "BEGIN DELETE FROM bounce_log WHERE id = OLD.id; END")
