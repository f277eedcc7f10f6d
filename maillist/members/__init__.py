"""Members: the people who receive list mail."""

from flask import Blueprint

bp = Blueprint("members", __name__)

from maillist.members import bounce_views, bulk_views, import_views, views  # noqa: E402,F401
