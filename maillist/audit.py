"""Writing the audit log; services call `record` in the same transaction as their change."""

from typing import NamedTuple

from flask import has_request_context
from flask_login import current_user

from maillist.extensions import db
from maillist.models import AuditLog


class Actor(NamedTuple):
    """Who is acting: a signed-in staff member (their id and address), or a command ("cli")."""

    user_id: int | None
    name: str


def current_actor():
    """The Actor of the current request or command."""
    if has_request_context() and current_user.is_authenticated:
        return Actor(current_user.id, current_user.email)
    return Actor(None, "cli")


def record(action, target, details="", actor=None):
    """Add an audit entry for `action` on `target` to the current session (the caller commits)."""
    who = current_actor() if actor is None else Actor(None, actor)
    entry = AuditLog(user_id=who.user_id, actor=who.name, action=action, target=str(target)[:255], details=details)
    db.session.add(entry)
    return entry
