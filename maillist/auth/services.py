"""Signing in: checking credentials under throttling, and the sessions that follow."""

import time
from functools import lru_cache

from flask import current_app, session
from flask_login import login_user, logout_user
from werkzeug.security import check_password_hash

from maillist import unit_of_work
from maillist.addresses import normalise_email
from maillist.auth import throttle
from maillist.errors import DomainError
from maillist.models import User
from maillist.models.types import utcnow
from maillist.unit_of_work import writes
from maillist.users.services import find_user_by_email

LOGIN_ERROR = "Invalid email or password."
THROTTLED_ERROR = "Too many failed sign-ins. Wait a few minutes and try again."
SIGNED_IN_AT, SEEN_AT = "signed_in_at", "seen_at"
# Writing the session cookie on every request is needless; a minute is fine grain for an idle limit.
SEEN_GRANULARITY = 60


class LoginRefused(DomainError):
    """Sign-in refused; the message never says whether the account exists."""

    status_code = 401


class LoginThrottled(LoginRefused):
    """Sign-in paused after too many failures."""

    status_code = 429


@lru_cache(maxsize=1)
def dummy_hash():
    """A hash made the way real ones are, so an unknown account costs as much as a known one."""
    user = User()
    user.set_password("not anyone's password")
    return user.password_hash


def authenticate(email, password, address):
    """Return the active user these credentials belong to, or raise LoginRefused."""
    email = normalise_email(email)[:255]
    attempt = throttle.count_attempt(email, address)
    if not attempt.allowed:
        raise LoginThrottled(THROTTLED_ERROR)
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(dummy_hash(), password or "")
        raise LoginRefused(LOGIN_ERROR)
    if not user.check_password(password or "") or not user.active:
        raise LoginRefused(LOGIN_ERROR)
    return signed_in(user, attempt)


@writes
def signed_in(user, attempt):
    """Note a successful sign-in: the attempt given back, and when; returns the user."""
    throttle.give_back(attempt)
    user.last_login_at = utcnow()
    return user


def start_session(user):
    """Sign `user` in on this browser, starting the idle and absolute clocks.

    Whatever the session held before is dropped first (a CSRF token, anything planted in a cookie
    handed to the victim): the signed-in session starts new, and its cookie differs from any before.
    """
    session.clear()
    login_user(user)
    now = int(time.time())
    session[SIGNED_IN_AT] = session[SEEN_AT] = now


def end_all_sessions(user):
    """Sign `user` out here and on every other browser (a copied cookie stops working too)."""
    unit_of_work.transaction(user.end_sessions)
    logout_user()
    session.pop(SIGNED_IN_AT, None)
    session.pop(SEEN_AT, None)


def session_expired():
    """Whether the signed-in session has been idle, or alive, longer than the settings allow."""
    config, now = current_app.config, int(time.time())
    signed_in_at, seen_at = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in_at, int) or not isinstance(seen_at, int):
        return True
    if now - signed_in_at > config["SESSION_MAX_AGE"] or now - seen_at > config["SESSION_IDLE_TIMEOUT"]:
        return True
    if now - seen_at >= SEEN_GRANULARITY:
        session[SEEN_AT] = now
    return False
