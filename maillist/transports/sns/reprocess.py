"""Running a stored malformed SNS message through the current pipeline again: a staff action on the status page."""

from flask import current_app

from maillist import audit
from maillist.extensions import db
from maillist.intake.door import APPLIED, MALFORMED
from maillist.intake.effects import Rules, apply_events
from maillist.models import ProcessedReport
from maillist.transports.sns.ses_events import MalformedEvent, parse_ses_message
from maillist.unit_of_work import writes


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
