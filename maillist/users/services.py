"""Staff accounts: the operations behind the Users page and the `flask users` commands."""

import secrets

from sqlalchemy import select

from maillist import audit
from maillist.addresses import normalise_email
from maillist.errors import Conflict, InvalidInput, found
from maillist.extensions import db
from maillist.models import User
from maillist.unit_of_work import writes
from maillist.validation import check_email
from maillist.vocabulary import ADMIN, ROLES, VIEWER

MIN_PASSWORD_LENGTH = 10


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
    return found(db.session.get(User, user_id), "No such user.")


def list_users():
    """Every staff account, by email."""
    return db.session.scalars(select(User).order_by(User.email)).all()


@writes
def create_user(email, password, role=VIEWER, name=""):
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
    return user


@writes
def set_role(user, role):
    """Change a user's role."""
    check_role(role)
    _refuse_removing_last_admin(user, new_role=role)
    old, user.role = user.role, role
    user.end_sessions()
    audit.record("user.role", user.email, f"{old} -> {role}")
    return user


@writes
def set_active(user, active, by=None):
    """Activate or deactivate a staff account (`by`: the staff member doing it, who cannot deactivate themselves)."""
    if not active and by is not None and by.id == user.id:
        raise InvalidInput("You cannot deactivate your own account: another administrator can.")
    if not active:
        _refuse_removing_last_admin(user, new_active=False)
    user.active = active
    if not active:
        user.end_sessions()
    audit.record("user.activate" if active else "user.deactivate", user.email)
    return user


@writes
def set_password(user, password):
    """Give a user a new password (an admin's reset, or the CLI)."""
    check_password_rules(password)
    user.set_password(password)
    user.end_sessions()
    audit.record("user.password", user.email)
    return user


def change_own_password(user, current_password, new_password):
    """Let a signed-in user change their password after proving the current one."""
    if not user.check_password(current_password or ""):
        raise InvalidInput("Your current password is not correct.")
    return set_password(user, new_password)


def _refuse_removing_last_admin(user, new_role=None, new_active=None):
    """Keep at least one active admin, so nobody is locked out of managing staff."""
    if not user.is_admin or not user.active:
        return
    losing = (new_role is not None and new_role != ADMIN) or new_active is False
    if not losing:
        return
    admins = db.session.scalars(select(User).where(User.role == ADMIN, User.active.is_(True))).all()
    if len(admins) <= 1:
        raise InvalidInput("maillist needs at least one active administrator.")


def ensure_first_admin(email):
    """Create an admin with a random password if no user exists; return the password, or None."""
    if db.session.scalar(select(User.id).limit(1)) is not None:
        return None
    password = secrets.token_urlsafe(12)
    create_user(email, password, role=ADMIN, name="Administrator")
    return password
