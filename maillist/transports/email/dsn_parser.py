"""Reading a report that came to a bounce address: a bounce, a delay, an auto-reply, a complaint, or none.

- RFC 3464 delivery status notifications are read field by field: `Action` (failed, delayed,
  delivered, ...) and `Status` (5.x.x Permanent, 4.x.x Transient), an rfc822
  `Original-Recipient` before `Final-Recipient`, each recipient once.
- RFC 5965 feedback reports (`message/feedback-report`) are complaints.
- Auto-replies, SES's JSON mailed by SNS, and what a person quotes or attaches change nothing
  (maillist.transports.email.automatic_mail).
- Everything else is prose: flufl.bounce's detectors, and the forms they lack
  (maillist.transports.email.prose).

Hostile input is expected: the report is cut down before anything reads it
(maillist.transports.email.report_parts), every field is cut to its column, unknown charsets and
impossible dates fall back, and no pattern here can backtrack.
"""

import re
from email import message_from_bytes, policy
from email.utils import parseaddr, parsedate_to_datetime

from maillist.addresses import normalise_email
from maillist.bounce_reasons import ENHANCED
from maillist.models.types import reported_time, utcnow
from maillist.transports.email.automatic_mail import (drop_quotes, is_auto_reply, is_sns_notification, looks_automatic,
                                                      sent_by_a_daemon)
from maillist.transports.email.prose import read_other_servers, read_prose, said_about
from maillist.transports.email.readings import (AUTO_REPLY, BOUNCE, COMPLAINT, DELAY, NOT_A_BOUNCE, Reading,
                                                RecipientStatus)
from maillist.transports.email.report_parts import (BLANK_RUNS, MAX_MULTIPARTS, MAX_RECIPIENTS, MAX_REPORT_BYTES,
                                                    before_original, bound, cut, field_groups, first_blocks, groups_in,
                                                    part_of_type, text_of)
from maillist.vocabulary import PERMANENT, TRANSIENT, UNDETERMINED

FAILED_ACTIONS = ("fail", "error", "bounce", "undeliver")
# RFC 3464's recipient fields written into a report's text rather than a delivery-status part.
INLINE_FIELDS = re.compile(r"(?im)^(final|original)-recipient:")
# A domain that publishes a null MX (RFC 7505) accepts no mail at all: whatever status a server
# gives the failure (Gmail gives 4.0.0), the address is gone.
NULL_MX = re.compile(r"null mx|rfc ?7505", re.I)


def parse_report(raw):
    """The report in `raw` (bytes), parsed and cut down to a bounded size (see `bound`), or None when
    it has too many multiparts or too deep a nesting to be one. Every reading of a bounce email
    starts here, so none of them sees unbounded input."""
    # Runs of blank lines read as one: a status part of thousands of empty blocks made the email
    # parser build a message per block, and the readers walk each.
    raw = first_blocks(BLANK_RUNS.sub(b"\n\n", raw[:MAX_REPORT_BYTES]))
    if raw.lower().count(b"multipart/") > MAX_MULTIPARTS:
        return None
    try:
        message = message_from_bytes(raw, policy=policy.compat32)
        # A mail server may pass on another's report as an attachment (a relay wrapping a DSN in
        # multipart/mixed); a person's mail, or a report's returned original, holds nothing to read.
        wrapped = sent_by_a_daemon(message) and message.get_content_type() != "multipart/report"
        return bound(message, drop_originals=not wrapped)
    except RecursionError:
        return None


def read_report(raw):
    """Read the report in `raw` (bytes): never raises for what the bytes contain."""
    return read_parsed(parse_report(raw))


def read_parsed(message):
    """The reading of a report `parse_report` gave (None: not a bounce)."""
    if message is None:
        return Reading(NOT_A_BOUNCE)
    try:
        return read_message(message)
    except RecursionError:
        return Reading(NOT_A_BOUNCE)


def read_message(message):
    """The reading of a parsed report (cut down by `parse_report`)."""
    occurred_at = report_time(message)
    message_id = cut(message.get("Message-ID"), 120)
    feedback = part_of_type(message, "message/feedback-report")
    if feedback is not None:
        return read_feedback(message, feedback, occurred_at, message_id)
    text = text_of(message)  # read once, and again only where the message changes
    status_part = part_of_type(message, "message/delivery-status")
    if status_part is not None:
        recipients = read_delivery_status(status_part, " ".join(text.split()))
        if recipients:
            return Reading(kind_of(recipients), recipients, occurred_at, message_id=message_id)
    if is_auto_reply(message):
        return Reading(AUTO_REPLY, occurred_at=occurred_at, message_id=message_id)
    if is_sns_notification(message, text):
        # An SNS topic's email subscription mails SES's JSON: about other mail, and the webhook's business.
        return Reading(NOT_A_BOUNCE, occurred_at=occurred_at, message_id=message_id)
    from_server = sent_by_a_daemon(message)
    report = before_original(text) if from_server else ""
    recipients = read_inline_fields(report) if from_server else ()
    if recipients:
        return Reading(kind_of(recipients), recipients, occurred_at, message_id=message_id, from_server=True)
    if not from_server:
        drop_quotes(message)
        text = text_of(message)
    recipients = read_prose(message, text) or (read_other_servers(report) if from_server else ())
    if recipients:
        return Reading(BOUNCE, recipients, occurred_at, message_id=message_id, from_server=from_server)
    # Bulk or auto-generated mail that is no bounce: an answering machine of some kind.
    kind = AUTO_REPLY if looks_automatic(message) else NOT_A_BOUNCE
    return Reading(kind, occurred_at=occurred_at, message_id=message_id)


def report_time(message):
    """When the report was written (its Date), bounded to now; now when it has none we can read."""
    try:
        return reported_time(parsedate_to_datetime(str(message.get("Date", ""))))
    except (TypeError, ValueError, OverflowError, IndexError):
        return utcnow()


def address_of(value):
    """The address in an `rfc822; someone@example.org` field, or None."""
    if not value:
        return None
    kind, _, address = str(value).partition(";")
    if not address:
        kind, address = "rfc822", kind
    if kind.strip().lower() != "rfc822":
        return None
    address = normalise_email(parseaddr(address.strip())[1] or address.strip())
    return address[:255] if "@" in address else None


def status_type(status, action):
    """Permanent for 5.x.x, Transient for 4.x.x; a failure without a status is Permanent; None otherwise."""
    if action != "failed":
        return None
    if status:
        return {"5": PERMANENT, "4": TRANSIENT}.get(status[0], UNDETERMINED)
    return PERMANENT


def read_delivery_status(part, text=""):
    """One RecipientStatus per recipient group of a message/delivery-status part."""
    return read_recipient_groups(field_groups(part), text)


def read_recipient_groups(groups, text=""):
    """One RecipientStatus per recipient group (groups without a recipient are per-message fields).

    A recipient without a Diagnostic-Code gets what the report's readable `text` (on one line) says of it.
    """
    found, lowered = {}, text.lower()
    for group in groups[: MAX_RECIPIENTS * 2]:
        # The address our mail was sent to: the rfc822 Original-Recipient, where given, is it;
        # Final-Recipient may be a forwarding target.
        address = address_of(group.get("Original-Recipient")) or address_of(group.get("Final-Recipient"))
        if address is None or address in found:
            continue
        action = cut(group.get("Action"), 50)
        action = action.lower() if action else None
        if action and action.startswith(FAILED_ACTIONS):
            action = "failed"  # "failure", "failed (bad destination ...)", "error": servers' spellings
        match = ENHANCED.search(str(group.get("Status") or "")[:100])
        status = match.group(0) if match else None
        diagnostic = cut(group.get("Diagnostic-Code"), 4000)
        if not (diagnostic or "").strip() and text:
            diagnostic = said_about(text, address, lowered=lowered)
        bounce_type = status_type(status, action)
        if bounce_type and NULL_MX.search(diagnostic or ""):
            bounce_type = PERMANENT
        found[address] = RecipientStatus(address, bounce_type, status, diagnostic, action)
        if len(found) >= MAX_RECIPIENTS:
            break
    return tuple(found.values())


def read_inline_fields(report):
    """A mail server's report that writes RFC 3464's fields into its text instead of a
    message/delivery-status part (Amazon WorkMail; Sun Messaging Server when the report's MIME
    boundaries are missing): its recipient groups; () when it has none. `report` is the text
    before the returned original."""
    if not INLINE_FIELDS.search(report):
        return ()
    return read_recipient_groups(groups_in(report), " ".join(report.split()))


def kind_of(recipients):
    """A report with a failure is a bounce; with only delays, a delay; otherwise (delivered, relayed) none."""
    if any(r.bounce_type for r in recipients):
        return BOUNCE
    if any(r.action == "delayed" for r in recipients):
        return DELAY
    return NOT_A_BOUNCE


def read_feedback(message, part, occurred_at, message_id):
    """An ARF complaint: who complained (Original-Rcpt-To), the feedback type and user agent."""
    fields = {}
    for group in field_groups(part):
        for name in ("Feedback-Type", "User-Agent", "Original-Rcpt-To"):
            if group.get(name) and name not in fields:
                fields[name] = group.get(name)
    address = address_of(fields.get("Original-Rcpt-To"))
    recipients = (RecipientStatus(address, None, None, None, None),) if address else ()
    return Reading(COMPLAINT, recipients, occurred_at, cut(fields.get("Feedback-Type"), 50),
                   cut(fields.get("User-Agent"), 255), message_id)
