"""What happens to one SNS message: verify, de-duplicate, act, store, and say what was done."""

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from maillist.bounces.engine import apply_events
from maillist.bounces.ledger import record_once
from maillist.bounces.ses_events import MalformedEvent, parse_ses_message
from maillist.extensions import db
from maillist.models import SnsMessage
from maillist.sns.certificates import cache
from maillist.sns.errors import SnsError, TopicNotAllowed
from maillist.sns.subscriptions import confirm_subscription
from maillist.sns.verify import verify_message

log = logging.getLogger("maillist.sns")


@dataclass(frozen=True)
class Result:
    """The HTTP status to answer and a word for what was done."""

    status: int
    outcome: str
    detail: str = ""


def handle_message(message, verify=True, get_certificate=None):
    """Verify and act on one parsed SNS message; never raises for a message problem."""
    config = current_app.config
    kind, message_id, topic = message["Type"], message["MessageId"], message["TopicArn"]
    try:
        check_topic(topic, config["SNS_TOPIC_ARNS"])
        if verify:
            getter = get_certificate or (lambda url: cache.get(url, config["SNS_CERT_TIMEOUT"]))
            verify_message(message, getter, config["SNS_MAX_MESSAGE_AGE"])
        if kind == "Notification":
            result = store_notification(message)
        elif kind == "SubscriptionConfirmation":
            result = store_confirmation(message)
        else:
            result = store_once(message, "unsubscribe-logged", lambda: [])
    except SnsError as error:
        result = Result(error.status, "refused", error.reason)
    except SQLAlchemyError as error:
        db.session.rollback()
        result = Result(503, "storage-failed", type(error).__name__)
    level = logging.INFO if result.status < 400 else logging.WARNING
    log.log(level, "sns type=%s topic=%s message_id=%s outcome=%s status=%s %s",
            kind, topic, message_id, result.outcome, result.status, result.detail)
    return result


def check_topic(topic, allowed):
    """Refuse topics outside SNS_TOPIC_ARNS, when that allow-list is set."""
    if allowed and topic not in allowed:
        raise TopicNotAllowed(f"topic {topic} is not in SNS_TOPIC_ARNS")


def store_notification(message):
    """Apply the SES events in a Notification once, recording its MessageId in the same transaction."""
    config = current_app.config
    if not config["ENABLE_BOUNCE_HANDLING"]:
        return store_once(message, "ignored", lambda: [], detail="ENABLE_BOUNCE_HANDLING is off")
    try:
        events = parse_ses_message(message["Message"])
    except MalformedEvent as error:
        # Retrying a signed message cannot fix its content: keep it for a person, answer 200.
        return store_once(message, "malformed", lambda: [], raw=message["Message"], detail=str(error))

    def apply():
        return apply_events(events, message["MessageId"], config["SOFT_BOUNCE_THRESHOLD"], config["COMPLAINT_ACTION"] == "deactivate")

    return store_once(message, "applied", apply)


def store_confirmation(message):
    """Confirm a subscription unless this MessageId was confirmed already."""
    if db.session.scalar(select(SnsMessage.id).where(SnsMessage.message_id == message["MessageId"])):
        return Result(200, "duplicate")
    # Confirm before storing, outside any transaction: a failed confirmation is not stored, so
    # SNS's retry tries again, and no database lock is held during the HTTP request.
    db.session.rollback()
    confirm_subscription(message, current_app.config["SNS_CERT_TIMEOUT"])
    return store_once(message, "confirmed", lambda: [])


def store_once(message, outcome, apply, raw=None, detail=""):
    """Record the MessageId with the message's effects, once (see `maillist.bounces.ledger`).

    Answers 200 for a repeat and 503 when the database cannot store the message, so SNS retries.
    """
    recorded = record_once(message["MessageId"], message["Type"], message["TopicArn"], outcome, apply, raw)
    if recorded.state == "duplicate":
        return Result(200, "duplicate")
    if recorded.state == "failed":
        return Result(503, "storage-failed", recorded.error)
    return Result(200, outcome, detail or " ".join(recorded.done))
