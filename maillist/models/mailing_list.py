"""Mailing lists and who is subscribed to them."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillist.extensions import db
from maillist.models.types import UTCDateTime, utcnow
from maillist.vocabulary import POST_MEMBERS


class MailingList(db.Model):
    """A list address that Postfix expands to its active members."""

    __tablename__ = "mailing_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Who may post (maillist.vocabulary.POST_POLICIES), and for `senders` who they are, one per line.
    post_policy: Mapped[str] = mapped_column(String(10), default=POST_MEMBERS, server_default=POST_MEMBERS)
    allowed_senders: Mapped[str] = mapped_column(Text, default="")
    # Who hears about members the list loses to hard bounces and complaints, one address per line.
    owners: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Put in front of every copy's Subject (e.g. "[Club]"), and text added to the end of its body.
    subject_prefix: Mapped[str] = mapped_column(String(60), default="", server_default="")
    footer: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscriptions = relationship(
        "Subscription", back_populates="mailing_list", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def sender_list(self):
        """The allowed senders, one address each."""
        return [line for line in (self.allowed_senders or "").split() if line]

    @property
    def owner_list(self):
        """The owners' addresses."""
        return [line for line in (self.owners or "").split() if line]

    def __repr__(self):
        return f"<MailingList {self.address}>"


class Subscription(db.Model):
    """One member on one list."""

    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("list_id", "member_id", name="uq_subscription_list_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("mailing_list.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member", back_populates="subscriptions")
    mailing_list = relationship("MailingList", back_populates="subscriptions")
