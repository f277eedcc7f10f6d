"""What happens to one SNS message: verify, act, record it once, and say what was done."""

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from config import ANY_TOPIC
from maillist import availability
from maillist.extensions import db
from maillist.intake import door_counts
from maillist.intake.door import APPLIED, IGNORED, MALFORMED, apply_report
from maillist.intake.reports import OtherEvent, Report
from maillist.models import ProcessedReport
from maillist.transports.sns.certificates import cache
from maillist.transports.sns.confirmations import confirm_subscription
from maillist.transports.sns.errors import SnsError, TopicNotAllowed
from maillist.transports.sns.reprocess import KEPT_WHILE_OFF, NotReprocessable, reprocess
from maillist.transports.sns.ses_events import MalformedEvent, parse_ses_message
from maillist.transports.sns.verify import check_fields, verify_message
from maillist.vocabulary import SOURCE_SNS

log = logging.getLogger("maillist.transports.sns")


@dataclass(frozen=True)
class Result:
    """The HTTP status to answer and a word for what was done."""

    status: int
    outcome: str
    detail: str = ""
    code: str = ""  # why it was refused (maillist.transports.sns.errors), for the counts


def handle_message(message, verify=True, get_certificate=None, source=SOURCE_SNS):
    """Verify and act on one parsed SNS message; never raises for a message problem.

    `source` says which door it came in by (the webhook, or an SQS queue); either way one
    MessageId is applied once.
    """
    config = current_app.config
    kind, message_id, topic = message["Type"], message["MessageId"], message["TopicArn"]
    if availability.database.is_open():
        # The database was just found unreachable: answer at once, SNS retries.
        result = Result(503, "storage-failed", "database unavailable")
        log_result(result, kind, topic, message_id, source)
        return result
    try:
        check_fields(message)
        check_topic(topic, config["SNS_TOPIC_ARNS"])
        if verify:
            getter = get_certificate or (lambda url: cache.get(url, config["SNS_CERT_TIMEOUT"]))
            verify_message(message, getter, config["SNS_MAX_MESSAGE_AGE"])
        if kind == "Notification":
            result = store_notification(message, source)
        elif kind == "SubscriptionConfirmation":
            result = store_confirmation(message, source)
        else:
            result = store(message, source, "unsubscribe-logged")
    except SnsError as error:
        result = Result(error.status, "refused", error.reason, error.code)
    except SQLAlchemyError as error:
        db.session.rollback()
        if availability.is_unavailable(error):
            availability.database.trip()
        result = Result(503, "storage-failed", type(error).__name__)
    log_result(result, kind, topic, message_id, source)
    return result


def log_result(result, kind="-", topic="-", message_id="-", source=SOURCE_SNS):
    """The one log line (and count, see maillist.intake.door_counts) per answer; fields not known
    (a body refused unread) are `-`."""
    level = logging.INFO if result.status < 400 else logging.WARNING
    log.log(level, "%s type=%s topic=%s message_id=%s outcome=%s status=%s %s",
            source, kind, topic, message_id, result.outcome, result.status, result.detail)
    door_counts.record(source, result.status, result.outcome, result.code)


def check_topic(topic, allowed):
    """Refuse topics outside SNS_TOPIC_ARNS; an empty list refuses all, `*` accepts any."""
    if ANY_TOPIC not in allowed and topic not in allowed:
        raise TopicNotAllowed(f"topic {topic} is not in SNS_TOPIC_ARNS")


def store_notification(message, source=SOURCE_SNS):
    """Apply the SES events in a Notification once, recording its MessageId in the same transaction."""
    if not current_app.config["ENABLE_BOUNCE_HANDLING"]:
        # Verified, and kept whole: nothing is lost while handling is off (flask bounces apply-ignored).
        return store(message, source, IGNORED, raw=message["Message"],
                     detail="ENABLE_BOUNCE_HANDLING is off: kept, to apply with `flask bounces apply-ignored` once it is on")
    try:
        events = parse_ses_message(message["Message"])
    except MalformedEvent as error:
        # Retrying a signed message cannot fix its content: keep it for a person, answer 200.
        return store(message, source, MALFORMED, raw=message["Message"], detail=str(error))
    if all(isinstance(event, OtherEvent) for event in events):
        # Send, Open, Click, DeliveryDelay, ...: recorded once, acted on never.
        return store(message, source, IGNORED, detail=" ".join(f"ignored:{event.kind}" for event in events))
    return store(message, source, APPLIED, events)


def store_confirmation(message, source=SOURCE_SNS):
    """Confirm a subscription unless this MessageId was confirmed already."""
    if db.session.scalar(select(ProcessedReport.id).where(ProcessedReport.report_key == message["MessageId"])):
        return Result(200, "duplicate")
    # Confirm before storing, outside any transaction: a failed confirmation is not stored, so
    # SNS's retry tries again, and no database lock is held during the HTTP request.
    db.session.rollback()
    confirm_subscription(message, current_app.config["SNS_CERT_TIMEOUT"])
    return store(message, source, "confirmed")


def store(message, source, outcome, events=(), raw=None, detail=""):
    """Hand the message to the one intake; 200 for a repeat, 503 when it cannot be stored so SNS retries."""
    report = Report(message["MessageId"], source, message["Type"], message["TopicArn"][:255])
    intake = apply_report(report, events, outcome, raw, detail)
    if intake.state == "duplicate":
        kept = waiting(report.key) if outcome == APPLIED else None
        if kept is not None:
            # Kept while handling was off, and sent again now that it is on (a replay): apply it.
            return Result(200, APPLIED, apply_kept(kept))
        return Result(200, "duplicate")
    return Result(503 if intake.failed else 200, intake.outcome, intake.detail)


def waiting(key):
    """The id of the stored message with this key when it was kept while handling was off, else None."""
    return db.session.scalar(select(ProcessedReport.id).where(ProcessedReport.report_key == key, *KEPT_WHILE_OFF))


def apply_kept(report_id):
    """Apply the kept message stored as `report_id`; what was done, in words."""
    try:
        return reprocess(report_id)
    except NotReprocessable:
        return "applied already"
