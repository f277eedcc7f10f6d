"""Running a stored SNS message through the current pipeline again: a malformed one (a staff action
on the status page), or the ones kept while ENABLE_BOUNCE_HANDLING was off (`flask sns apply-deferred`)."""

from flask import current_app
from sqlalchemy import select

from maillist import audit, unit_of_work
from maillist.extensions import db
from maillist.intake.door import APPLIED, DEFERRED, IGNORED, MALFORMED
from maillist.intake.effects import Rules, apply_events
from maillist.intake.reports import OtherEvent
from maillist.models import ProcessedReport
from maillist.transports.sns.ses_events import MalformedEvent, parse_ses_message
from maillist.unit_of_work import writes

KEPT = (MALFORMED, DEFERRED)


class NotReprocessable(Exception):
    """The report is not a stored malformed or deferred message (gone, or applied already)."""


@writes
def reprocess(report_id):
    """Run a stored malformed or deferred SNS message through the current pipeline (audited).

    Its key is already in the ledger, so the events are applied here under that key, and the row's
    outcome changes with them in one transaction: a second run finds nothing to do. Returns what
    was done, in words.
    """
    row = db.session.scalar(select(ProcessedReport).where(ProcessedReport.id == report_id).with_for_update())
    if row is None or row.outcome not in KEPT or not row.raw_body:
        raise NotReprocessable(f"report {report_id} is not a stored malformed or deferred message")
    config = current_app.config
    try:
        events = parse_ses_message(row.raw_body)
    except MalformedEvent as error:
        row.outcome = MALFORMED
        said = f"still cannot be read: {error}"
    else:
        if not config["ENABLE_BOUNCE_HANDLING"]:
            said = "readable, but ENABLE_BOUNCE_HANDLING is off: left as it was"
        else:
            done = apply_events(db.session.connection(), events, row.report_key, Rules.from_config(config))
            row.outcome = IGNORED if all(isinstance(event, OtherEvent) for event in events) else APPLIED
            row.raw_body = None
            audit.record("report.reprocess", row.report_key, " ".join(done))
            return "applied: " + " ".join(done)
    audit.record("report.reprocess", row.report_key, said)
    return said


def deferred_ids():
    """The stored messages kept while bounce handling was off, oldest first."""
    return db.session.scalars(select(ProcessedReport.id).where(ProcessedReport.outcome == DEFERRED)
                              .order_by(ProcessedReport.id)).all()


def apply_deferred():
    """Apply every message kept while bounce handling was off, oldest first, each in a unit of its
    own; returns {what was done: how many}. Refuses while ENABLE_BOUNCE_HANDLING is still off."""
    if not current_app.config["ENABLE_BOUNCE_HANDLING"]:
        raise NotReprocessable("ENABLE_BOUNCE_HANDLING is off: turn it on first, then apply what was kept")
    done = {}
    for report_id in deferred_ids():
        try:
            said = unit_of_work.transaction(reprocess, report_id)
        except NotReprocessable:  # applied by another run meanwhile
            continue
        key = said.split(":")[0]
        done[key] = done.get(key, 0) + 1
    return done
