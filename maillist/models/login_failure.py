"""Failed sign-ins, kept in the database so throttling holds across workers and hosts."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from maillist.extensions import db
from maillist.models.types import UTCDateTime, utcnow


class LoginFailure(db.Model):
    """One failed sign-in, counted against an account or a client address."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_scope_key_at", "scope", "key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
