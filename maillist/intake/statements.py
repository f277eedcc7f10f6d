"""The intake's few write statements, as plain SQL run on the intake's connection (maillist.plain_sql).

Every report runs the same few statements inside the intake's transaction (maillist.intake.ledger),
with no ORM unit of work and no SQLAlchemy execution set-up per report. Each INSERT names every
column it fills, built from the table's own columns, so `report_row` and `log_row` give the values
a Python-side default would have. The member's own row is read and written by maillist.member_state.
"""

from maillist.models import BounceLog, DeliveryStat, ProcessedReport
from maillist.models.types import utcnow
from maillist.plain_sql import Statement

REPORT_COLUMNS = ("report_key", "source", "kind", "topic_arn", "outcome", "raw_body", "received_at")
LOG_COLUMNS = ("member_id", "email", "domain", "event", "bounce_type", "bounce_subtype", "diagnostic_code", "action",
               "status", "feedback_type", "user_agent", "feedback_id", "report_key", "occurred_at", "reason", "details",
               "hold_id", "held", "status_before", "created_at")


def insert_into(table, columns):
    """INSERT INTO `table` naming `columns`, each a parameter of its own name."""
    return Statement(f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({", ".join(":" + c for c in columns)})',
                     {name: table.c[name].type for name in columns})


delivery_stat = DeliveryStat.__table__
INSERT_REPORT = insert_into(ProcessedReport.__table__, REPORT_COLUMNS)
INSERT_LOG = insert_into(BounceLog.__table__, LOG_COLUMNS)
INSERT_DELIVERIES = insert_into(delivery_stat, ("day", "deliveries"))
ADD_DELIVERIES = Statement('UPDATE "delivery_stat" SET deliveries = deliveries + :count WHERE day = :day',
                           {"day": delivery_stat.c.day.type})


def report_row(**values):
    """INSERT_REPORT's parameters: received now, and no raw body unless given."""
    return {"raw_body": None, "received_at": utcnow(), **values}


def log_row(**values):
    """INSERT_LOG's parameters: the columns not given are NULL, and the row is created now."""
    return {**dict.fromkeys(LOG_COLUMNS), "created_at": utcnow(), **values}
