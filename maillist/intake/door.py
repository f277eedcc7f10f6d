"""The one door every bounce report comes in by: the SNS webhook, `flask sns replay` and bounce emails.

Each transport (maillist.transports) verifies and parses in its own modules, then hands the report's key and events to
`apply_report`, which records the key with the events' effects in one transaction.
"""

from dataclasses import dataclass

from flask import current_app

from maillist.intake.effects import Rules, apply_events
from maillist.intake.ledger import record_once

# `ignored` with a stored body: a verified notification that came while ENABLE_BOUNCE_HANDLING was
# off, kept to apply once it is on (maillist.transports.sns.reprocess); without one, events (Send,
# Open, ...) maillist never acts on.
APPLIED, MALFORMED, IGNORED = "applied", "malformed", "ignored"


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
