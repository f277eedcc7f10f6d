"""Sign-in, sign-out, staff accounts and role checks."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from maillist.auth import views  # noqa: E402,F401  (registers the routes)
