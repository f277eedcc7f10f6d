"""Amazon SNS, the transport for SES's notifications: the webhook SNS delivers to, the SQS poller,
parsing and verifying messages, confirming subscriptions, and setting it all up.

Mounted at /webhooks; CSRF-exempt, as every message's signature is verified instead.
"""

from flask import Blueprint

bp = Blueprint("sns", __name__)

from maillist.transports.sns import views  # noqa: E402,F401
