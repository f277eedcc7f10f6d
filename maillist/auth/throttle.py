"""Throttling failed sign-ins per account and per client address, stored in the database."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from maillist.extensions import db
from maillist.models import LoginFailure
from maillist.models.types import utcnow


def _recent_failures(scope, key, since):
    query = select(func.count()).select_from(LoginFailure).where(
        LoginFailure.scope == scope, LoginFailure.key == key, LoginFailure.created_at >= since
    )
    return db.session.scalar(query)


def is_throttled(email, address):
    """Whether sign-in for this account or from this address is paused after too many failures."""
    config = current_app.config
    since = utcnow() - timedelta(seconds=config["LOGIN_FAILURE_WINDOW"])
    return (
        _recent_failures("account", email, since) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or _recent_failures("address", address, since) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    )


def record_failure(email, address):
    """Count one failed sign-in against the account and the address, dropping expired rows."""
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW"])
    db.session.execute(delete(LoginFailure).where(LoginFailure.created_at < utcnow() - window))
    db.session.add(LoginFailure(scope="account", key=email[:255]))
    db.session.add(LoginFailure(scope="address", key=(address or "unknown")[:255]))
    db.session.commit()


def clear_account(email):
    """Forget an account's failures after it signs in successfully."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.scope == "account", LoginFailure.key == email))
