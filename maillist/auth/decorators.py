"""The one decorator that enforces roles on a route."""

from functools import wraps

from flask import abort
from flask_login import current_user

from maillist.extensions import login_manager
from maillist.vocabulary import ADMIN, WRITE_ROLES


def require_role(*roles):
    """Let through signed-in users whose role is in `roles` (any role when none is named)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


# The two rules most routes need, named once.
require_login = require_role()
require_writer = require_role(*WRITE_ROLES)
require_admin = require_role(ADMIN)
