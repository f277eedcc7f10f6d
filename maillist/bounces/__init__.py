"""Bounces and complaints: understanding SES events, applying them, and the dashboard."""

from flask import Blueprint

bp = Blueprint("bounces", __name__)

from maillist.bounces import views  # noqa: E402,F401
