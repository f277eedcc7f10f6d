"""The intake's few write statements, built once as SQLAlchemy Core and run on the intake's connection.

Every report runs the same few statements; built here once, each is compiled once per database
(SQLAlchemy's compiled cache) and run inside the intake's transaction (maillist.bounces.ledger),
with no ORM unit of work per report. The member's own row is read and written by
maillist.member_state.
"""

from sqlalchemy import Integer, bindparam, insert, update

from maillist.models import BounceLog, DeliveryStat, ProcessedReport
from maillist.models.types import utcnow

bounce_log = BounceLog.__table__
delivery_stat = DeliveryStat.__table__

LOG_COLUMNS = ("member_id", "email", "domain", "event", "bounce_type", "bounce_subtype", "diagnostic_code", "action",
               "status", "feedback_type", "user_agent", "feedback_id", "report_key", "occurred_at", "reason", "details",
               "hold_id", "held", "status_before", "created_at")

INSERT_REPORT = insert(ProcessedReport.__table__)
INSERT_LOG = insert(bounce_log)
ADD_DELIVERIES = (update(delivery_stat).where(delivery_stat.c.day == bindparam("count_day"))
                  .values(deliveries=delivery_stat.c.deliveries + bindparam("count", type_=Integer)))
INSERT_DELIVERIES = insert(delivery_stat)


def report_row(**values):
    """INSERT_REPORT's parameters: received now, and no raw body unless given."""
    return {"raw_body": None, "received_at": utcnow(), **values}


def log_row(**values):
    """INSERT_LOG's parameters: every column named (one compiled form for all rows), NULL unless given, created now."""
    return {**dict.fromkeys(LOG_COLUMNS), "created_at": utcnow(), **values}
