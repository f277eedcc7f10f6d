"""The one door every bounce report comes in by: the SNS webhook, `flask sns replay` and bounce emails.

Each intake verifies and parses in its own module, then hands the report's key and events to
`apply_report`, which records the key with the events' effects in one transaction.
"""

from dataclasses import dataclass

from flask import current_app

from maillist import audit
from maillist.bounces.engine import Rules, apply_events
from maillist.bounces.ledger import record_once
from maillist.bounces.ses_notifications import MalformedEvent, parse_ses_message
from maillist.extensions import db
from maillist.models import ProcessedReport
from maillist.unit_of_work import writes

APPLIED, MALFORMED = "applied", "malformed"


@dataclass(frozen=True)
class Intake:
    """What became of a report: `stored`, `duplicate` or `failed`, with the outcome and a detail."""

    state: str
    outcome: str
    detail: str = ""

    @property
    def failed(self):
        """The database could not store the report; the sender should try again later."""
        return self.state == "failed"


def apply_report(report, events=(), outcome=APPLIED, raw=None, detail=""):
    """Record `report` with the effects of `events` once; a repeat of its key changes nothing.

    `outcome` names what is stored for the report (`applied`, `ignored`, `malformed`, ...);
    `raw` keeps the body for a person to inspect when it could not be understood.
    """
    rules = Rules.from_config(current_app.config)
    events = list(events)
    for event in events:  # read each bounce's reason now, before the writer lock (see Bounce.reason)
        getattr(event, "reason", None)

    def apply(connection):
        return apply_events(connection, events, report.key, rules) if events else []

    recorded = record_once(report, outcome, apply, raw)
    if recorded.state == "duplicate":
        return Intake("duplicate", "duplicate", report.key)
    if recorded.state == "failed":
        return Intake("failed", "storage-failed", recorded.error)
    return Intake("stored", outcome, detail or " ".join(recorded.done))


class NotReprocessable(Exception):
    """The report is not a stored malformed message (gone, or already reprocessed)."""


@writes
def reprocess(report_id):
    """Run a stored malformed SNS message through the current pipeline again (a staff action, audited).

    Its key is already in the ledger, so the events are applied here under that key, and the row's
    outcome changes with them in one transaction. Returns what was done, in words.
    """
    row = db.session.get(ProcessedReport, report_id)
    if row is None or row.outcome != MALFORMED or not row.raw_body:
        raise NotReprocessable(f"report {report_id} is not a stored malformed message")
    config = current_app.config
    try:
        events = parse_ses_message(row.raw_body)
    except MalformedEvent as error:
        said = f"still cannot be read: {error}"
    else:
        if not config["ENABLE_BOUNCE_HANDLING"]:
            said = "readable now, but ENABLE_BOUNCE_HANDLING is off: left as it was"
        else:
            done = apply_events(db.session.connection(), events, row.report_key, Rules.from_config(config))
            row.outcome, row.raw_body = APPLIED, None
            audit.record("report.reprocess", row.report_key, " ".join(done))
            return "applied: " + " ".join(done)
    audit.record("report.reprocess", row.report_key, said)
    return said
