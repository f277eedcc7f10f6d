"""Bounces as staff see and act on them: the dashboard, the status page, a member's history and
reset, storm holds, maintenance and the `flask bounces` commands (what writes: maillist.intake)."""

from flask import Blueprint

bp = Blueprint("bounces", __name__)

from maillist.bounces import views  # noqa: E402,F401
