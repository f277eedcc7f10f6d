"""Sign-in attempts counted per key and time window, in the database so every worker and host agrees."""

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maillist.extensions import db
from maillist.models.types import UTCDateTime, utcnow


class LoginAttempt(db.Model):
    """How many sign-ins were tried for one key (an account, an address, or both) since `window_start`."""

    __tablename__ = "login_attempt"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_login_attempt_scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
