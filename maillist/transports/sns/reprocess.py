"""Running a stored SNS message through the current pipeline again: a malformed one (a staff action
on the status page), or the ones kept while ENABLE_BOUNCE_HANDLING was off (`flask bounces
apply-ignored`, or the status page's button for administrators)."""

from datetime import date, datetime

from flask import current_app
from sqlalchemy import and_, func, or_, select

from maillist import audit, unit_of_work
from maillist.extensions import db
from maillist.intake.door import APPLIED, IGNORED, MALFORMED
from maillist.intake.effects import Rules, apply_events
from maillist.intake.reports import OtherEvent
from maillist.models import ProcessedReport
from maillist.transports.sns.ses_events import MalformedEvent, parse_ses_message
from maillist.unit_of_work import writes

# An ignored message with its body kept came while bounce handling was off; one without a body
# was an event maillist never acts on.
KEPT_WHILE_OFF = (ProcessedReport.outcome == IGNORED, ProcessedReport.raw_body.is_not(None))
REPROCESSABLE = or_(and_(*KEPT_WHILE_OFF), ProcessedReport.outcome == MALFORMED)


class NotReprocessable(Exception):
    """The report is not a stored malformed message or one kept while handling was off (gone, or applied already)."""


@writes
def reprocess(report_id):
    """Run a stored malformed or kept SNS message through the current pipeline (audited).

    Its key is already in the ledger, so the events are applied here under that key, and the row's
    outcome changes with them in one transaction: a second run finds nothing to do. Returns what
    was done, in words.
    """
    row = db.session.scalar(select(ProcessedReport).where(ProcessedReport.id == report_id, REPROCESSABLE)
                            .with_for_update())
    if row is None:
        raise NotReprocessable(f"report {report_id} is not a stored malformed or ignored message")
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


def count_kept_while_off():
    """How many messages kept while bounce handling was off wait to be applied."""
    return db.session.scalar(select(func.count()).select_from(ProcessedReport).where(*KEPT_WHILE_OFF))


def kept_while_off(since=None):
    """The ids of the messages kept while bounce handling was off (received on or after `since`), oldest first."""
    conditions = list(KEPT_WHILE_OFF)
    if since is not None:
        conditions.append(ProcessedReport.received_at >= datetime.combine(since, datetime.min.time()))
    return db.session.scalars(select(ProcessedReport.id).where(*conditions).order_by(ProcessedReport.id)).all()


def apply_ignored(since: date | None = None, on_message=lambda: None):
    """Apply every message kept while bounce handling was off, oldest first, each in a unit of its
    own; returns {what was done: how many}. Refuses while ENABLE_BOUNCE_HANDLING is still off. The
    run is audited (each message's reprocessing too), a refused one as well. `on_message()` is
    called after each (the command's progress bar)."""
    scope = since.isoformat() if since else "all"
    if not current_app.config["ENABLE_BOUNCE_HANDLING"]:
        unit_of_work.transaction(audit.record, "report.apply_ignored", scope, "refused: ENABLE_BOUNCE_HANDLING is off")
        raise NotReprocessable("ENABLE_BOUNCE_HANDLING is off: turn it on first, then apply what was kept")
    done = {}
    for report_id in kept_while_off(since):
        try:
            said = unit_of_work.transaction(reprocess, report_id)
        except NotReprocessable:  # applied by another run meanwhile
            continue
        finally:
            on_message()
        key = said.split(":")[0]
        done[key] = done.get(key, 0) + 1
    unit_of_work.transaction(audit.record, "report.apply_ignored", scope, in_words(done))
    return done


def in_words(done):
    """What apply_ignored did, in one line."""
    if not done:
        return "Nothing was waiting: no notification was kept while bounce handling was off."
    return "Applied the kept notifications: " + ", ".join(f"{what} {count}" for what, count in sorted(done.items())) + "."
