"""Bounce emails piped in by Postfix (for SES sandbox users without SNS): read one, hand it to the intake."""

import hashlib
import logging
from dataclasses import dataclass
from email import message_from_bytes, policy

from flask import current_app

from maillist.bounces.dsn_parser import NotABounce, parse_dsn
from maillist.bounces.intake import apply_report
from maillist.bounces.reports import Report
from maillist.vocabulary import SOURCE_EMAIL

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
    """Apply the bounces in the bounce email `raw` through the one intake, as the SNS webhook does."""
    if not current_app.config["ENABLE_EMAIL_BOUNCE_PROCESSING"]:
        return DsnResult("ignored", "ENABLE_EMAIL_BOUNCE_PROCESSING is off")
    try:
        bounces = parse_dsn(raw)
    except NotABounce as error:
        # Bouncing or retrying a message that is not a bounce would help nobody.
        return DsnResult("not-a-bounce", str(error))
    intake = apply_report(Report(report_key(raw), SOURCE_EMAIL, "DSN"), bounces)
    if intake.failed:
        return DsnResult(intake.outcome, intake.detail, EX_TEMPFAIL)
    return DsnResult(intake.outcome, intake.detail)


def log_result(result, key=""):
    """One structured line per report, like the webhook's."""
    level = logging.WARNING if result.exit_code else logging.INFO
    log.log(level, "dsn key=%s outcome=%s %s", key, result.outcome, result.detail)
