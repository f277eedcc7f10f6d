"""The administrators' page for staff accounts."""

from flask import Blueprint

bp = Blueprint("users", __name__)

from maillist.users import views  # noqa: E402,F401
