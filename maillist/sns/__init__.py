"""Amazon SNS: the webhook SNS delivers to, parsing and verifying its messages, confirming subscriptions.

Mounted at /webhooks; CSRF-exempt, as every message's signature is verified instead.
"""

from flask import Blueprint

bp = Blueprint("sns", __name__)

from maillist.sns import views  # noqa: E402,F401
