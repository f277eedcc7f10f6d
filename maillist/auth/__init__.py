"""Sign-in, sign-out, throttling and role checks (the accounts themselves live in `maillist.users`)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from maillist.auth import views  # noqa: E402,F401  (registers the routes)
