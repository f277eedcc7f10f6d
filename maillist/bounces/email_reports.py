"""Bounce emails (for SES sandbox users without SNS): parse a DSN and apply it once."""

import hashlib
import logging
from dataclasses import dataclass
from email import message_from_bytes, policy

from flask import current_app

from maillist.bounces.dsn import NotABounce, parse_dsn
from maillist.bounces.engine import apply_events
from maillist.bounces.ledger import record_once

log = logging.getLogger("maillist.dsn")

# sysexits.h: Postfix keeps a message and retries later on EX_TEMPFAIL.
EX_OK, EX_TEMPFAIL = 0, 75


@dataclass(frozen=True)
class DsnResult:
    """What was done with one bounce email, and the exit code Postfix should see."""

    outcome: str
    detail: str
    exit_code: int = EX_OK


def report_key(raw):
    """The key that makes a report count once: its Message-ID, or a digest of its bytes."""
    message_id = message_from_bytes(raw, policy=policy.compat32).get("Message-ID", "").strip()
    if message_id:
        return "dsn:" + message_id[:120]
    return "dsn-sha256:" + hashlib.sha256(raw).hexdigest()[:100]


def process_dsn(raw):
    """Apply the bounces in the bounce email `raw` through the same engine as the SNS webhook."""
    config = current_app.config
    if not config["ENABLE_EMAIL_BOUNCE_PROCESSING"]:
        return DsnResult("ignored", "ENABLE_EMAIL_BOUNCE_PROCESSING is off")
    try:
        bounces = parse_dsn(raw)
    except NotABounce as error:
        # Bouncing or retrying a message that is not a bounce would help nobody.
        return DsnResult("not-a-bounce", str(error))
    key = report_key(raw)

    def apply():
        return apply_events(bounces, key, config["SOFT_BOUNCE_THRESHOLD"], config["COMPLAINT_ACTION"] == "deactivate")

    recorded = record_once(key, "DSN", "email", "applied", apply)
    if recorded.state == "failed":
        return DsnResult("storage-failed", recorded.error, EX_TEMPFAIL)
    if recorded.state == "duplicate":
        return DsnResult("duplicate", key)
    return DsnResult("applied", " ".join(recorded.done))


def log_result(result, key=""):
    """One structured line per report, like the webhook's."""
    level = logging.WARNING if result.exit_code else logging.INFO
    log.log(level, "dsn key=%s outcome=%s %s", key, result.outcome, result.detail)
