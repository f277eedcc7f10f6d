"""Reading the SES events carried in an SNS Notification's Message.

SES publishes two formats: identity notifications (`notificationType`) and configuration-set
event publishing (`eventType`). Both carry the same `bounce`, `complaint` and `delivery` objects.
"""

import json
from datetime import datetime
from email.utils import parseaddr

from maillist.addresses import normalise_email
from maillist.intake.reports import Bounce, Complaint, Deliveries, OtherEvent
from maillist.models.types import reported_time
from maillist.vocabulary import BOUNCE_TYPES, PERMANENT, TRANSIENT


class MalformedEvent(ValueError):
    """The Message is not an SES event maillist can read."""


def parse_ses_message(text):
    """The events in an SES notification, as a list; raises MalformedEvent when it is not one."""
    try:
        payload = json.loads(text)
    except (TypeError, ValueError):
        raise MalformedEvent("Message is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedEvent("Message is not a JSON object")
    kind = payload.get("notificationType") or payload.get("eventType")
    if not isinstance(kind, str):
        raise MalformedEvent("Message has neither notificationType nor eventType")
    if kind == "Bounce":
        return parse_bounce(section(payload, "bounce"))
    if kind == "Complaint":
        return parse_complaint(section(payload, "complaint"))
    if kind == "Delivery":
        return parse_delivery(section(payload, "delivery"))
    return [OtherEvent(kind)]


def section(payload, name):
    """The object under `name`, which the event type requires."""
    value = payload.get(name)
    if not isinstance(value, dict):
        raise MalformedEvent(f"{name} object is missing")
    return value


def text_or_none(value, limit):
    """A string field trimmed to its column size; anything else is None."""
    return value[:limit] if isinstance(value, str) else None


def event_time(value):
    """An SES timestamp as naive UTC; refuses a missing or unreadable one."""
    try:
        stamp = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise MalformedEvent(f"timestamp {value!r} is not an ISO 8601 time") from None
    return reported_time(stamp)


def recipient_address(recipient):
    """The bare, normalised address of a recipient entry ('Name <a@b>' allowed)."""
    if not isinstance(recipient, dict) or not isinstance(recipient.get("emailAddress"), str):
        raise MalformedEvent("recipient without emailAddress")
    address = normalise_email(parseaddr(recipient["emailAddress"])[1])
    if "@" not in address or len(address) > 255:
        raise MalformedEvent(f"recipient address {recipient['emailAddress']!r} is not an address")
    return address


def recipients(obj, key):
    """The non-empty list under `key`."""
    value = obj.get(key)
    if not isinstance(value, list) or not value:
        raise MalformedEvent(f"{key} is missing or empty")
    return value


def parse_bounce(bounce):
    """One Bounce per bounced recipient."""
    bounce_type = bounce.get("bounceType")
    if bounce_type not in BOUNCE_TYPES:
        raise MalformedEvent(f"bounceType {bounce_type!r} is not one SES documents")
    occurred_at = event_time(bounce.get("timestamp"))
    return [
        Bounce(
            email=recipient_address(recipient),
            bounce_type=recipient_bounce_type(bounce_type, recipient),
            subtype=text_or_none(bounce.get("bounceSubType"), 50),
            diagnostic_code=text_or_none(recipient.get("diagnosticCode"), 4000),
            action=text_or_none(recipient.get("action"), 50),
            status=text_or_none(recipient.get("status"), 20),
            feedback_id=text_or_none(bounce.get("feedbackId"), 255),
            occurred_at=occurred_at,
        )
        for recipient in recipients(bounce, "bouncedRecipients")
    ]


def recipient_bounce_type(bounce_type, recipient):
    """The notification's bounce type, unless this recipient was only delayed (action delayed, status 4.x.x).

    SES can list a delayed recipient in a Permanent notification beside a failed one (AWS's own
    sample does); a delay is at most Transient, as in a bounce email.
    """
    action, status = recipient.get("action"), recipient.get("status")
    delayed = (isinstance(action, str) and action.strip().lower() == "delayed") or (
        isinstance(status, str) and status.strip().startswith("4."))
    return TRANSIENT if delayed and bounce_type == PERMANENT else bounce_type


def parse_complaint(complaint):
    """One Complaint per complaining recipient."""
    occurred_at = event_time(complaint.get("timestamp"))
    return [
        Complaint(
            email=recipient_address(recipient),
            feedback_type=text_or_none(complaint.get("complaintFeedbackType"), 50),
            user_agent=text_or_none(complaint.get("userAgent"), 255),
            feedback_id=text_or_none(complaint.get("feedbackId"), 255),
            occurred_at=occurred_at,
        )
        for recipient in recipients(complaint, "complainedRecipients")
    ]


def parse_delivery(delivery):
    """The number of recipients a Delivery reached."""
    return [Deliveries(count=len(recipients(delivery, "recipients")), occurred_at=event_time(delivery.get("timestamp")))]
