"""Staff account operations shared by the web pages and the `flask users` commands."""

import secrets

from sqlalchemy import select

from maillist import audit
from maillist.auth import throttle
from maillist.errors import Conflict, DomainError, InvalidInput, NotFound
from maillist.extensions import db
from maillist.models import User
from maillist.models.member import normalise_email
from maillist.models.types import utcnow
from maillist.models.user import ROLES
from maillist.validation import check_email

MIN_PASSWORD_LENGTH = 10
LOGIN_ERROR = "Invalid email or password."
THROTTLED_ERROR = "Too many failed sign-ins. Wait a few minutes and try again."


class LoginRefused(DomainError):
    """Sign-in refused; the message never says whether the account exists."""

    status_code = 401


class LoginThrottled(LoginRefused):
    """Sign-in paused after too many failures."""

    status_code = 429


def check_password_rules(password):
    """Refuse passwords too short to be safe."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")


def check_role(role):
    """Refuse a role name that is not one of ours."""
    if role not in ROLES:
        raise InvalidInput(f"Role must be one of {', '.join(ROLES)}.")


def find_user_by_email(email):
    """The user with this address (any case), or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(user_id):
    """The user with this id, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def list_users():
    """Every staff account, by email."""
    return db.session.scalars(select(User).order_by(User.email)).all()


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


def create_user(email, password, role="viewer", name=""):
    """Create a staff account; refuses duplicates, bad addresses, weak passwords and unknown roles."""
    email = check_email(email)
    check_role(role)
    check_password_rules(password)
    if find_user_by_email(email):
        raise Conflict(f"A user with email {email} already exists.")
    user = User(email=email, name=(name or "").strip(), role=role, active=True)
    user.set_password(password)
    db.session.add(user)
    audit.record("user.create", email, f"role={role}")
    db.session.commit()
    return user


def set_role(user, role):
    """Change a user's role."""
    check_role(role)
    _refuse_removing_last_admin(user, new_role=role)
    old, user.role = user.role, role
    audit.record("user.role", user.email, f"{old} -> {role}")
    db.session.commit()
    return user


def set_active(user, active):
    """Activate or deactivate a staff account."""
    if not active:
        _refuse_removing_last_admin(user, new_active=False)
    user.active = active
    audit.record("user.activate" if active else "user.deactivate", user.email)
    db.session.commit()
    return user


def set_password(user, password):
    """Give a user a new password (an admin's reset, or the CLI)."""
    check_password_rules(password)
    user.set_password(password)
    audit.record("user.password", user.email)
    db.session.commit()
    return user


def change_own_password(user, current_password, new_password):
    """Let a signed-in user change their password after proving the current one."""
    if not user.check_password(current_password or ""):
        raise InvalidInput("Your current password is not correct.")
    return set_password(user, new_password)


def _refuse_removing_last_admin(user, new_role=None, new_active=None):
    """Keep at least one active admin, so nobody is locked out of managing staff."""
    if user.role != "admin" or not user.active:
        return
    losing = (new_role is not None and new_role != "admin") or new_active is False
    if not losing:
        return
    admins = db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))).all()
    if len(admins) <= 1:
        raise InvalidInput("maillist needs at least one active administrator.")


def ensure_first_admin(email):
    """Create an admin with a random password if no user exists; return the password, or None."""
    if db.session.scalar(select(User.id).limit(1)) is not None:
        return None
    password = secrets.token_urlsafe(12)
    create_user(email, password, role="admin", name="Administrator")
    return password
