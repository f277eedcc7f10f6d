"""Reading delivery status notifications (bounce emails) into the bounce engine's events.

RFC 3464 reports carry a `message/delivery-status` part with one field group per recipient
(Final-Recipient, Action, Status, Diagnostic-Code). Many servers still send only prose; for
those the common forms are read too: Exim's `X-Failed-Recipients` and "SMTP error" lines,
qmail's `<address>:` paragraphs, and any text that pairs an address with an SMTP code.
Status 5.x.x is a Permanent bounce, 4.x.x a Transient one, as SES classifies them.
"""

import re
from dataclasses import replace
from email import message_from_bytes, policy
from email.utils import parseaddr, parsedate_to_datetime

from maillist.bounces.reports import Bounce
from maillist.models.member import normalise_email
from maillist.models.types import reported_time, utcnow
from maillist.vocabulary import PERMANENT, TRANSIENT, UNDETERMINED

ADDRESS = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
BASIC = re.compile(r"\b([45])\d\d\b")
QMAIL_BLOCK = re.compile(rf"^<({ADDRESS})>:\s*\n(.*?)(?=^<{ADDRESS}>:|\Z)", re.M | re.S)
EXIM_BLOCK = re.compile(rf"^\s+({ADDRESS})\s*\n((?:\s{{3,}}.*\n?)+)", re.M)
ADDRESS_THEN_CODE = re.compile(rf"<?({ADDRESS})>?[^\n]{{0,200}}?\b((?:[45]\.\d{{1,3}}\.\d{{1,3}})|(?:[45]\d\d))\b")


class NotABounce(ValueError):
    """The message is not a delivery failure report maillist can read."""


def parse_dsn(raw):
    """The bounced recipients reported by the email `raw` (bytes); raises NotABounce."""
    message = message_from_bytes(raw, policy=policy.default)
    occurred_at = message_time(message)
    subtype = "DSN"
    report = delivery_status_part(message)
    if report is not None:
        bounces = from_delivery_status(report, occurred_at, message.get("Message-ID"))
    else:
        subtype = "DSN (text)"
        bounces = from_text(message, occurred_at)
    if not bounces:
        raise NotABounce("no failed recipient found in the message")
    return [replace(bounce, subtype=bounce.subtype or subtype) for bounce in bounces]


def message_time(message):
    """When the report was written (its Date), as naive UTC; now when it has none."""
    try:
        stamp = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, OverflowError, IndexError):
        return utcnow()
    return reported_time(stamp)


def delivery_status_part(message):
    """The message/delivery-status part, if the report has one."""
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            return part
    return None


def status_type(status):
    """Permanent for 5.x.x, Transient for 4.x.x (and unknown codes), None for success (2.x.x)."""
    if not status:
        return None
    first = status.strip()[0]
    return {"5": PERMANENT, "4": TRANSIENT, "2": None}.get(first, UNDETERMINED)


def from_delivery_status(part, occurred_at, feedback_id):
    """One Bounce per failed recipient in an RFC 3464 report."""
    groups = part.get_payload()
    if isinstance(groups, str):  # some senders put the fields in as text
        groups = [message_from_bytes(block.encode(), policy=policy.default) for block in re.split(r"\n\s*\n", groups)]
    bounces = []
    for group in groups[1:] if len(groups) > 1 else groups:
        recipient = group.get("Final-Recipient") or group.get("Original-Recipient")
        action = (group.get("Action") or "").strip().lower()
        if not recipient or action in ("delivered", "relayed", "expanded", "delayed"):
            continue
        address = normalise_email(parseaddr(recipient.split(";", 1)[-1].strip())[1] or recipient.split(";", 1)[-1].strip())
        status = (group.get("Status") or "").strip()
        match = ENHANCED.search(status)
        status = match.group(0) if match else status[:20]
        bounce_type = status_type(status) or (PERMANENT if action == "failed" else None)
        if bounce_type is None or "@" not in address:
            continue
        diagnostic = " ".join((group.get("Diagnostic-Code") or "").split())[:4000] or None
        bounces.append(Bounce(address, bounce_type, None, diagnostic, action or "failed", status or None,
                              (feedback_id or "")[:255] or None, occurred_at))
    return bounces


def text_body(message):
    """The report's plain text: every text/plain part, joined."""
    parts = [part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"]
    return "\n".join(p if isinstance(p, str) else p.decode("utf-8", "replace") for p in parts)


def code_of(text):
    """The enhanced status code (or SMTP reply code) found in `text`, and the bounce type it means."""
    match = ENHANCED.search(text)
    if match and match.group(1) in "45":
        return match.group(0), status_type(match.group(0))
    match = BASIC.search(text)
    if match:
        return match.group(0), status_type(match.group(0))
    return None, None


def from_text(message, occurred_at):
    """Bounces from the prose forms of bounce messages."""
    body = text_body(message)
    found = {}
    # The report's own sender and recipient (the mailer daemon, our bounce address) are not bounced.
    own = {normalise_email(parseaddr(message.get(name) or "")[1]) for name in ("From", "To", "Return-Path", "Sender")}

    def add(address, text):
        address = normalise_email(address)
        status, bounce_type = code_of(text)
        if bounce_type is None or address in found or address in own:
            return
        found[address] = Bounce(address, bounce_type, None, " ".join(text.split())[:4000] or None, "failed", status,
                                (message.get("Message-ID") or "")[:255] or None, occurred_at)

    for address, text in QMAIL_BLOCK.findall(body):
        add(address, text)
    for address, text in EXIM_BLOCK.findall(body):
        add(address, text)
    failed = [a.strip() for a in (message.get("X-Failed-Recipients") or "").split(",") if a.strip()]
    for address in failed:
        if normalise_email(address) not in found:
            context = body[max(body.find(address) - 50, 0):body.find(address) + 400] if address in body else body
            add(address, context if code_of(context)[1] else "550 5.0.0 " + context)
    if not found:
        for address, _code in ADDRESS_THEN_CODE.findall(body):
            start = body.find(address)
            add(address, body[start:start + 300])
    return list(found.values())
