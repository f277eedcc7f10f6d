"""Reports already processed (SNS messages, bounce emails), so a redelivery changes nothing."""

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maillist.extensions import db
from maillist.models.types import UTCDateTime, utcnow


class ProcessedReport(db.Model):
    """One report seen by an intake, under the key that makes it count once, with what was done."""

    __tablename__ = "processed_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    # An SNS MessageId, or for a bounce email "dsn:<Message-ID>" (or a digest of its bytes).
    report_key: Mapped[str] = mapped_column(String(128), unique=True)
    # Where it came in (maillist.vocabulary.REPORT_SOURCES).
    source: Mapped[str] = mapped_column(String(20))
    # SNS message type (Notification, SubscriptionConfirmation, ...) or "DSN".
    kind: Mapped[str] = mapped_column(String(40))
    # The SNS topic it was published to; None for a bounce email.
    topic_arn: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(40))
    # Kept only when the content could not be understood, for a person to inspect.
    raw_body: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class IntakeCount(db.Model):
    """How many reports of one outcome (and refusals for one reason) came in by one door in one UTC hour.

    Refusals are stored nowhere else; these counters hold across workers and hosts, in a bounded
    form (one row per hour, door, outcome and reason), pruned by `flask bounces cleanup`.
    """

    __tablename__ = "intake_count"
    __table_args__ = (UniqueConstraint("hour", "source", "outcome", "reason", name="uq_intake_count_hour"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(40))
    # Why a message was refused (maillist.intake.door_counts.REFUSAL_REASONS); "" otherwise.
    reason: Mapped[str] = mapped_column(String(40), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
