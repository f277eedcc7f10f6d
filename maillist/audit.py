"""Writing the audit log; services call `record` in the same transaction as their change."""

from flask import has_request_context
from flask_login import current_user

from maillist.extensions import db
from maillist.models import AuditLog


def record(action, target, details="", actor=None):
    """Add an audit entry for `action` on `target` to the current session (the caller commits)."""
    user = None
    if actor is None:
        if has_request_context() and current_user.is_authenticated:
            user = current_user._get_current_object()
            actor = user.email
        else:
            actor = "cli"
    entry = AuditLog(user=user, actor=actor, action=action, target=str(target)[:255], details=details)
    db.session.add(entry)
    return entry
