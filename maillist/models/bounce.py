"""The bounce and complaint history SES reports, and daily delivery counts."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillist.extensions import db
from maillist.models.types import UTCDateTime, utcnow
from maillist.vocabulary import BOUNCE, COMPLAINT, RESET


class BounceLog(db.Model):
    """One event in a recipient's history: a bounce, a complaint, or a staff reset."""

    __tablename__ = "bounce_log"
    __table_args__ = (Index("ix_bounce_log_member_occurred", "member_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable: bounces for addresses that are not (or no longer) members are kept too.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(255), index=True)
    event: Mapped[str] = mapped_column(String(20), default=BOUNCE)
    bounce_type: Mapped[str | None] = mapped_column(String(20))
    bounce_subtype: Mapped[str | None] = mapped_column(String(50))
    diagnostic_code: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(50))
    # Why it bounced (maillist.bounces.reasons.REASONS): only a dead address deactivates.
    reason: Mapped[str | None] = mapped_column(String(20), index=True)
    status: Mapped[str | None] = mapped_column(String(20))
    feedback_type: Mapped[str | None] = mapped_column(String(50))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    feedback_id: Mapped[str | None] = mapped_column(String(255))
    # The key of the processed report that brought this event (see ProcessedReport).
    report_key: Mapped[str | None] = mapped_column(String(128), index=True)
    details: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member")

    @property
    def is_bounce(self):
        return self.event == BOUNCE

    @property
    def is_complaint(self):
        return self.event == COMPLAINT

    @property
    def is_reset(self):
        return self.event == RESET

    @property
    def kind_label(self):
        """How people read this event's kind: 'Permanent bounce', 'Complaint', 'Reset'."""
        if self.is_bounce:
            return f"{self.bounce_type} bounce"
        return self.event.capitalize()

    @property
    def reason_label(self):
        """The reason in words, or empty for events without one."""
        from maillist.bounces.reasons import LABELS

        return LABELS.get(self.reason, "") if self.is_bounce else ""

    @property
    def kind_class(self):
        """The CSS class that colours this event's kind."""
        return (self.bounce_type or "").lower() if self.is_bounce else self.event

    def __repr__(self):
        return f"<BounceLog {self.event} {self.email} {self.bounce_type}>"


class DeliveryStat(db.Model):
    """How many SES Delivery events arrived on one UTC day (for bounce and complaint rates)."""

    __tablename__ = "delivery_stat"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
