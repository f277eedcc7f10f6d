"""The bounce and complaint history SES reports, and daily delivery counts."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillist.extensions import db
from maillist.models.types import UTCDateTime, utcnow
from maillist.vocabulary import BOUNCE, COMPLAINT, HOLD_LABELS, HOLD_OPEN, RESET, STAFF_CHANGE


class BounceLog(db.Model):
    """One event in a recipient's history: a bounce, a complaint, or a staff reset."""

    __tablename__ = "bounce_log"
    __table_args__ = (
        Index("ix_bounce_log_member_occurred", "member_id", "occurred_at"),
        Index("ix_bounce_log_domain_occurred", "domain", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable: bounces for addresses that are not (or no longer) members are kept too.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(255), index=True)
    # The receiving domain (lower case): the bounce-storm guard counts bounces per domain.
    domain: Mapped[str | None] = mapped_column(String(255))
    event: Mapped[str] = mapped_column(String(20), default=BOUNCE)
    bounce_type: Mapped[str | None] = mapped_column(String(20))
    bounce_subtype: Mapped[str | None] = mapped_column(String(50))
    diagnostic_code: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(50))
    # Why it bounced (maillist.bounce_reasons.REASONS): only a dead address deactivates.
    reason: Mapped[str | None] = mapped_column(String(20), index=True)
    status: Mapped[str | None] = mapped_column(String(20))
    feedback_type: Mapped[str | None] = mapped_column(String(50))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    feedback_id: Mapped[str | None] = mapped_column(String(255))
    # The key of the processed report that brought this event (see ProcessedReport).
    report_key: Mapped[str | None] = mapped_column(String(128), index=True)
    details: Mapped[str | None] = mapped_column(Text)
    # Set when the bounce-storm guard took this bounce into a hold (see StormHold, vocabulary.HOLD_LABELS).
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("storm_hold.id", ondelete="SET NULL"), index=True)
    held: Mapped[str | None] = mapped_column(String(20))
    # The member's bounce status before this bounce deactivated them, so a storm hold can undo it.
    status_before: Mapped[str | None] = mapped_column(String(20))
    # When the owners' digest (`flask bounces notify`) told of the deactivation this event caused.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member")
    hold = relationship("StormHold", back_populates="bounces")

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
        """How people read this event's kind: 'Permanent bounce', 'Complaint', 'Reset', 'Staff change'."""
        if self.is_bounce:
            return f"{self.bounce_type} bounce"
        return "Staff change" if self.event == STAFF_CHANGE else self.event.capitalize()

    @property
    def reason_label(self):
        """The reason in words, or empty for events without one."""
        from maillist.bounce_reasons import LABELS

        return LABELS.get(self.reason, "") if self.is_bounce else ""

    @property
    def hold_label(self):
        """What the bounce-storm guard did with this bounce, in words, or empty."""
        return HOLD_LABELS.get(self.held, "")

    @property
    def kind_class(self):
        """The CSS class that colours this event's kind."""
        return (self.bounce_type or "").lower() if self.is_bounce else self.event

    def __repr__(self):
        return f"<BounceLog {self.event} {self.email} {self.bounce_type}>"


class StormHold(db.Model):
    """Automatic deactivations paused for one receiving domain after a burst of permanent bounces.

    Opened by maillist.intake.storm_guard, closed by an administrator who releases (applies) or
    dismisses the bounces it holds. `open_domain` equals `domain` while the hold is open and is
    NULL afterwards: its unique index allows one open hold per domain, even under concurrency.
    """

    __tablename__ = "storm_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    open_domain: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The reason most of the bounces that opened it gave (maillist.bounce_reasons).
    reason: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=HOLD_OPEN)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(255))

    bounces = relationship("BounceLog", back_populates="hold", order_by="BounceLog.occurred_at")

    @property
    def is_open(self):
        return self.state == HOLD_OPEN

    def __repr__(self):
        return f"<StormHold {self.domain} {self.state}>"


class DeliveryStat(db.Model):
    """How many SES Delivery events arrived on one UTC day (for bounce and complaint rates)."""

    __tablename__ = "delivery_stat"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
