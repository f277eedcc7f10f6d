"""Staff accounts."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from maillist.extensions import db
from maillist.models.types import UTCDateTime, utcnow
from maillist.permissions import ADMINISTER, WRITE, allows
from maillist.vocabulary import VIEWER


class User(UserMixin, db.Model):
    """A member of staff who signs in to manage lists."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=VIEWER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session's user id: raising it ends all of this user's sessions at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def set_password(self, password):
        """Store a salted hash of `password`."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        """Tell whether `password` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def get_id(self):
        """What a session stores: the id and the session version (Flask-Login reads this)."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self):
        """End every session of this user, wherever it was opened (the caller commits)."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def is_active(self):
        """Deactivated staff cannot sign in (Flask-Login reads this)."""
        return self.active

    @property
    def can_write(self):
        """Whether this user may change lists, members and subscriptions."""
        return allows(self.role, WRITE)

    @property
    def is_admin(self):
        """Whether this user manages staff accounts."""
        return allows(self.role, ADMINISTER)

    def __repr__(self):
        return f"<User {self.email} {self.role}>"
