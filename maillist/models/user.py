"""Staff accounts."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from maillist.extensions import db
from maillist.models.types import UTCDateTime, utcnow
from maillist.vocabulary import ADMIN, VIEWER, WRITE_ROLES


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

    def set_password(self, password):
        """Store a salted hash of `password`."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        """Tell whether `password` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self):
        """Deactivated staff cannot sign in (Flask-Login reads this)."""
        return self.active

    @property
    def can_write(self):
        """Whether this user may change lists, members and subscriptions."""
        return self.role in WRITE_ROLES

    @property
    def is_admin(self):
        """Whether this user manages staff accounts."""
        return self.role == ADMIN

    def __repr__(self):
        return f"<User {self.email} {self.role}>"
