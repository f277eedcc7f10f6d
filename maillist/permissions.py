"""Who may do what: each permission named once, with the roles that hold it.

Routes take it through `require` (and the three names most of them need), the User model answers
`can_write` and `is_admin` from it for templates, and the role matrix test
(tests/web/test_roles.py) reads the same table.
"""

from functools import wraps

from flask import abort
from flask_login import current_user

from maillist.extensions import login_manager
from maillist.vocabulary import ADMIN, OPERATOR, ROLES

SIGNED_IN, WRITE, ADMINISTER = "signed-in", "write", "administer"
# Permission -> the roles that hold it.
HOLDERS = {
    SIGNED_IN: ROLES,  # look at everything
    WRITE: (ADMIN, OPERATOR),  # change lists, members and subscriptions
    ADMINISTER: (ADMIN,),  # staff accounts, bounce-storm decisions, reprocessing stored reports
}
# In words, for a refusal page: who may do what the refused page does.
HELD_BY = {SIGNED_IN: "any staff account", WRITE: "an administrator or an operator", ADMINISTER: "an administrator"}


def allows(role, permission):
    """Whether `role` holds `permission`."""
    return role in HOLDERS[permission]


def require(permission):
    """Let through signed-in staff whose role holds `permission`; others are sent to sign in (403 when signed in)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not allows(current_user.role, permission):
                abort(403, description=f"This needs {HELD_BY[permission]}; you are signed in as {current_user.role}.")
            return view(*args, **kwargs)

        wrapped.permission = permission
        return wrapped

    return decorator


# The three rules routes need, named once.
require_login = require(SIGNED_IN)
require_writer = require(WRITE)
require_admin = require(ADMINISTER)
