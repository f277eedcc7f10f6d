"""Staff accounts: their services, forms, the administrators' Users page and `flask users`."""

from flask import Blueprint

bp = Blueprint("users", __name__)

from maillist.users import views  # noqa: E402,F401
