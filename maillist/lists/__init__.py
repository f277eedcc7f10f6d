"""Mailing lists and their subscriptions."""

from flask import Blueprint

bp = Blueprint("lists", __name__)

from maillist.lists import views  # noqa: E402,F401
