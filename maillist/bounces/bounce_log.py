"""The bounce log across all members: filtering, paging and CSV export."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select

from maillist.bounce_reasons import REASONS
from maillist.errors import InvalidInput
from maillist.extensions import db
from maillist.models import BounceLog
from maillist.validation import MAX_PAGE, day, whole_number
from maillist.vocabulary import BOUNCE, BOUNCE_TYPES, COMPLAINT, RESET, STAFF_CHANGE

# The dashboard's "type" filter: what SES and the bounce emails reported (the default: staff changes
# after a bulk job would bury them), one choice per bounce type, complaints, resets, or every kind.
REPORTED, EVERY_KIND = "reported", "all"
KINDS = {
    REPORTED: BounceLog.event.in_((BOUNCE, COMPLAINT)),
    BOUNCE: BounceLog.event == BOUNCE,
    **{bounce_type.lower(): (BounceLog.event == BOUNCE) & (BounceLog.bounce_type == bounce_type) for bounce_type in BOUNCE_TYPES},
    COMPLAINT: BounceLog.event == COMPLAINT,
    RESET: BounceLog.event == RESET,
    STAFF_CHANGE: BounceLog.event == STAFF_CHANGE,
}
KIND_LABELS = {REPORTED: "Bounces and complaints", BOUNCE: "All bounces", **{bounce_type.lower(): f"{bounce_type} bounces" for bounce_type in BOUNCE_TYPES},
               COMPLAINT: "Complaints", RESET: "Resets", STAFF_CHANGE: "Staff changes",
               EVERY_KIND: "Every kind, staff changes too"}
PAGE_SIZE = 50
CSV_COLUMNS = ["occurred_at", "event", "email", "bounce_type", "reason", "held", "bounce_subtype", "status", "action",
               "diagnostic_code", "feedback_type", "user_agent", "feedback_id", "report_key", "details"]


@dataclass(frozen=True)
class EventQuery:
    """Which events to show: a kind, a date range (inclusive, UTC days) and a page."""

    kind: str = REPORTED
    reason: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args):
        kind = args.get("type") or REPORTED
        if kind not in KINDS and kind != EVERY_KIND:
            raise InvalidInput(f"Unknown event type {kind!r}.")
        reason = args.get("reason", "")
        if reason and reason not in REASONS:
            raise InvalidInput(f"Unknown bounce reason {reason!r}.")
        return cls(kind, reason, day(args.get("since"), "From"), day(args.get("until"), "To"),
                   whole_number(args.get("page"), "Page", 1, maximum=MAX_PAGE))

    def conditions(self):
        conditions = []
        if self.kind != EVERY_KIND:
            conditions.append(KINDS[self.kind])
        if self.reason:
            conditions.append(BounceLog.reason == self.reason)
        if self.since:
            conditions.append(BounceLog.occurred_at >= datetime.combine(self.since, datetime.min.time()))
        if self.until:
            conditions.append(BounceLog.occurred_at < datetime.combine(self.until + timedelta(days=1), datetime.min.time()))
        return conditions

    def args(self, **changes):
        values = {"type": self.kind, "reason": self.reason, "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else "", "page": self.page}
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None) and (key, value) != ("type", REPORTED)}


def recent_events(query: EventQuery):
    """A page of events, newest first, and whether another page follows."""
    rows = db.session.scalars(
        select(BounceLog).where(*query.conditions())
        .order_by(BounceLog.occurred_at.desc(), BounceLog.id.desc())
        .limit(PAGE_SIZE + 1).offset((query.page - 1) * PAGE_SIZE)
    ).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def event_rows(query: EventQuery, batch=5000):
    """One row of CSV_COLUMNS for every matching event, newest event time first (events arrive out of
    order), read a batch at a time from where the last batch ended."""
    last = None
    while True:
        statement = (select(BounceLog).where(*query.conditions())
                     .order_by(BounceLog.occurred_at.desc(), BounceLog.id.desc()).limit(batch))
        if last is not None:
            occurred_at, row_id = last
            statement = statement.where(or_(BounceLog.occurred_at < occurred_at,
                                            and_(BounceLog.occurred_at == occurred_at, BounceLog.id < row_id)))
        rows = db.session.scalars(statement).all()
        if not rows:
            return
        for row in rows:
            yield [row.occurred_at.isoformat() + "Z"] + [getattr(row, column) for column in CSV_COLUMNS[1:]]
        last = rows[-1].occurred_at, rows[-1].id
        db.session.expunge_all()
