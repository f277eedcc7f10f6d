"""The HTTPS endpoints other services call: SNS notifications."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from maillist.webhooks import views  # noqa: E402,F401
