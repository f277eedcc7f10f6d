"""Signing in: checking credentials, with throttling, for the sign-in page."""

from maillist.auth import throttle
from maillist.errors import DomainError
from maillist.extensions import db
from maillist.models.member import normalise_email
from maillist.models.types import utcnow
from maillist.users.services import find_user_by_email

LOGIN_ERROR = "Invalid email or password."
THROTTLED_ERROR = "Too many failed sign-ins. Wait a few minutes and try again."


class LoginRefused(DomainError):
    """Sign-in refused; the message never says whether the account exists."""

    status_code = 401


class LoginThrottled(LoginRefused):
    """Sign-in paused after too many failures."""

    status_code = 429


def authenticate(email, password, address):
    """Return the active user these credentials belong to, or raise LoginRefused."""
    email = normalise_email(email)
    if throttle.is_throttled(email, address):
        raise LoginThrottled(THROTTLED_ERROR)
    user = find_user_by_email(email)
    if user is None or not user.active or not user.check_password(password or ""):
        throttle.record_failure(email, address)
        raise LoginRefused(LOGIN_ERROR)
    throttle.clear_account(email)
    user.last_login_at = utcnow()
    db.session.commit()
    return user
