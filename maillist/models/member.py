"""People who receive list mail."""

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillist.extensions import db
from maillist.models.types import UTCDateTime, utcnow
from maillist.vocabulary import CLEAN, DEACTIVATED_BY_LABELS, HARD, SOFT

class Member(db.Model):
    """A recipient, with the bounce record SES reports for them."""

    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="", index=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    bounce_count: Mapped[int] = mapped_column(Integer, default=0)
    bounce_status: Mapped[str] = mapped_column(String(10), default=CLEAN, index=True)
    last_bounce_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # SES reported the address on its account-level suppression list: SES drops mail to it, whatever
    # maillist does, until it is removed there (maillist.integrations.ses_suppression).
    # Why mail stopped (vocabulary.DEACTIVATED_BY_LABELS); None while active.
    deactivated_by: Mapped[str | None] = mapped_column(String(20))
    ses_suppressed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    subscriptions = relationship(
        "Subscription", back_populates="member", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def lists(self):
        """The mailing lists this member is subscribed to, by address."""
        return sorted((s.mailing_list for s in self.subscriptions), key=lambda lst: lst.address)

    @property
    def has_bounce_badge(self):
        """Whether the member's bounce status is worth a warning badge (soft or hard)."""
        return self.bounce_status in (SOFT, HARD)

    @property
    def deactivated_label(self):
        """Why mail to this member stopped, in words, or empty."""
        return "" if self.active else DEACTIVATED_BY_LABELS.get(self.deactivated_by, "")

    @property
    def has_bounce_record(self):
        """Whether there is anything for a reset to clear: a status, a count, a deactivation, or SES's suppression."""
        return self.bounce_status != CLEAN or bool(self.bounce_count) or not self.active or self.ses_suppressed

    def __repr__(self):
        return f"<Member {self.email}>"
