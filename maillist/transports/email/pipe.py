"""Bounce emails piped in by Postfix: a report counts only through a valid member token, for that member.

The address the report came to (`club-bounces+<token>@...`, see `maillist.bounce_addresses`) alone
decides which member; the report decides only whether it is a bounce and of which kind. A report
to the bare bounce address, or with a token that is not ours, is logged and changes nothing.
"""

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from maillist import subscriptions
from maillist.bounce_addresses import BadBounceAddress, check_token, read_bounce_address
from maillist.extensions import db
from maillist.intake import door_counts
from maillist.intake.door import apply_report
from maillist.intake.reports import Bounce, Complaint, Report
from maillist.models import BounceLog, MailingList, Member
from maillist.models.types import utcnow
from maillist.transports.email import relay_refusals
from maillist.transports.email.dsn_parser import parse_report, read_parsed
from maillist.transports.email.readings import BOUNCE, COMPLAINT
from maillist.vocabulary import SOURCE_EMAIL

log = logging.getLogger("maillist.dsn")

OPT_OUT = "opt-out"
# sysexits.h: Postfix keeps a message and retries later on EX_TEMPFAIL; content problems never ask for it.
EX_OK, EX_TEMPFAIL = 0, 75


@dataclass(frozen=True)
class DsnResult:
    """What was done with one bounce email, and the exit code Postfix should see."""

    outcome: str
    detail: str
    exit_code: int = EX_OK


def report_key(raw, member_id, reading):
    """The key that makes a report count once for a member: its Message-ID, or a digest of its bytes."""
    if reading.message_id:
        return f"dsn:{member_id}:{reading.message_id}"[:128]
    return f"dsn-sha256:{member_id}:{hashlib.sha256(raw).hexdigest()}"[:128]


def process_dsn(raw, recipient):
    """Apply the report in `raw`, which came to the bounce address `recipient`, to the member it names."""
    if not current_app.config["ENABLE_EMAIL_BOUNCE_PROCESSING"]:
        return DsnResult("ignored", "ENABLE_EMAIL_BOUNCE_PROCESSING is off")
    try:
        token = read_bounce_address(recipient)
    except BadBounceAddress as error:
        return DsnResult("no-member-token", f"{recipient}: {error}")
    list_address = token.list_address
    member = db.session.get(Member, token.member_id)
    if member is None:
        return DsnResult("unknown-member", f"member {token.member_id} of {list_address} no longer exists")
    try:
        # Signed for this member's address: a later member given a deleted member's id has another.
        check_token(token, member.email)
    except BadBounceAddress as error:
        return DsnResult("no-member-token", f"{recipient}: {error}")
    limit = current_app.config["EMAIL_REPORTS_PER_MINUTE"]
    try:
        flooded = bool(limit) and recent_reports(member.id) >= limit
    except SQLAlchemyError as error:
        db.session.rollback()
        return DsnResult("storage-failed", f"{member.email}: the report history cannot be read: {type(error).__name__}", EX_TEMPFAIL)
    if flooded:
        # Anyone holding a member's bounce address could otherwise write their history for them.
        return DsnResult("rate-limited", f"{member.email}: {limit} reports in the last minute already; this one is dropped")
    message = parse_report(raw)
    refusal = relay_refusals.read_refusal(message, current_app.config)
    if refusal is not None:
        return relay_refused(list_address, refusal)
    reading = read_parsed(message)
    if reading.kind == COMPLAINT and feedback_type(reading) == OPT_OUT:
        return opted_out(list_address, member)
    events = events_for(member.email, reading, current_app.config["ARF_COMPLAINT_TYPES"])
    if not events:
        detail = f"{member.email}: nothing to record"
        if reading.kind == COMPLAINT:
            detail += f" (feedback type {feedback_type(reading) or 'missing'} is not one of ARF_COMPLAINT_TYPES)"
        return DsnResult(reading.kind, detail)
    intake = apply_report(Report(report_key(raw, member.id, reading), SOURCE_EMAIL, "DSN"), events)
    if intake.failed:
        return DsnResult(intake.outcome, intake.detail, EX_TEMPFAIL)
    return DsnResult(intake.outcome, intake.detail)


def named_list(address):
    """The list a bounce address names (read_bounce_address gives it lower-cased), or None."""
    return db.session.scalar(select(MailingList).where(MailingList.address == address))


def recent_reports(member_id):
    """How many reports were recorded for the member in the last minute (bounces and complaints, any door)."""
    since = utcnow() - timedelta(minutes=1)
    return db.session.scalar(select(func.count()).select_from(BounceLog)
                             .where(BounceLog.member_id == member_id, BounceLog.created_at >= since))


def relay_refused(list_address, refusal):
    """The relay refused the post, not the member's address: the owners hear of it; Postfix retries if they cannot yet."""
    mailing_list = named_list(list_address)
    if mailing_list is None:
        return DsnResult("relay-refused", f"{list_address}: no such list; the relay said: {refusal.diagnostic}")
    try:
        relay_refusals.report(mailing_list, refusal, current_app.config)
    except (OSError, smtplib.SMTPException) as error:
        db.session.rollback()
        return DsnResult("relay-refused", f"{list_address}: the owners could not be told yet: {error}", EX_TEMPFAIL)
    return DsnResult("relay-refused", f"{list_address}: post {refusal.post_id or '?'} refused by the relay: {refusal.diagnostic}")


def feedback_type(reading):
    return (reading.feedback_type or "").strip().lower()


def opted_out(list_address, member):
    """An ARF `opt-out` report: the member leaves that list (audited), and nothing else changes."""
    mailing_list = named_list(list_address)
    if mailing_list is None:
        return DsnResult("opt-out", f"{list_address}: no such list")
    done = subscriptions.unsubscribe(mailing_list, member)
    return DsnResult("opt-out", f"{member.email}: {'unsubscribed from' if done else 'was not on'} {list_address}")


def events_for(email, reading, complaint_types):
    """At most one event, for the token's member: the bounce the report describes, or a complaint.

    Only the feedback types in `complaint_types` (ARF_COMPLAINT_TYPES) are complaints: not-spam,
    auth-failure, an unknown type or none is no reason to stop a member's mail (a leaked bounce
    address would otherwise stop it for anyone who cares to write one)."""
    if reading.kind == COMPLAINT:
        if feedback_type(reading) not in complaint_types:
            return []
        return [Complaint(email, reading.feedback_type, reading.user_agent, reading.message_id, reading.occurred_at)]
    if reading.kind != BOUNCE:
        return []
    entry = reading.for_address(email)
    if entry is None:
        return []  # a person's mail naming someone else's failure
    # A server's report may name a forwarding target, or nobody we can read: the token says who it was.
    return [Bounce(email, entry.bounce_type, "DSN", entry.diagnostic, entry.action, entry.status,
                   reading.message_id, reading.occurred_at)]


def log_result(result, recipient=""):
    """One structured line per report, like the webhook's."""
    level = logging.WARNING if result.exit_code else logging.INFO
    log.log(level, "dsn recipient=%s outcome=%s %s", recipient, result.outcome, result.detail)
    door_counts.record(SOURCE_EMAIL, 503 if result.exit_code == EX_TEMPFAIL else 200, result.outcome)
