"""Acting on many members at once: activate, deactivate, delete, subscribe, unsubscribe, reset.

Each action is one transaction over a `Selection`. The members it will change are read first (and
locked, where the database can lock rows), then changed a chunk at a time with set-based
statements, writing one audit entry per member changed, so all 100,000 members of a large
organisation take seconds, not the minutes one ORM object at a time would (bench/members_page.py).
"""

from dataclasses import dataclass, field

from sqlalchemy import Integer, delete, insert, literal, or_, select, update

from maillist import audit, member_state
from maillist.errors import InvalidInput
from maillist.extensions import db
from maillist.models import AuditLog, BounceLog, Member, Subscription
from maillist.models.types import UTCDateTime, utcnow
from maillist.unit_of_work import writes
from maillist.vocabulary import CLEAN, RESET, STAFF_CHANGE

ACTIVATE, DEACTIVATE, DELETE, SUBSCRIBE, UNSUBSCRIBE, RESET_BOUNCES = (
    "activate", "deactivate", "delete", "subscribe", "unsubscribe", "reset")
# The bulk form's choices, in the order it shows them.
ACTION_LABELS = {
    DEACTIVATE: "Deactivate",
    ACTIVATE: "Activate",
    SUBSCRIBE: "Subscribe to list",
    UNSUBSCRIBE: "Unsubscribe from list",
    RESET_BOUNCES: "Reset bounce status",
    DELETE: "Delete",
}
LIST_ACTIONS = (SUBSCRIBE, UNSUBSCRIBE)
# The action that undoes each one exactly, where there is one. Activating has none: it would mark
# members stopped by a complaint as stopped by staff. Deleting and resetting lose what was there.
UNDO = {DEACTIVATE: ACTIVATE, SUBSCRIBE: UNSUBSCRIBE, UNSUBSCRIBE: SUBSCRIBE}
CHUNK = 1000
# Deleting a member unlinks their whole bounce history (ten rows each in a busy year), so one
# bulk delete is held to a size that finishes well inside a request (bench/members_page.py).
MAX_DELETE = 10_000


@dataclass
class BulkResult:
    """What a bulk action did: how many members it changed (their ids) and what it left alone, in words."""

    action: str
    changed: list = field(default_factory=list)
    note: str = ""


def check_action(action, mailing_list):
    """Refuse an unknown action, or a list action without a list."""
    if action not in ACTION_LABELS:
        raise InvalidInput("Choose what to do with the selected members.")
    if action in LIST_ACTIONS and mailing_list is None:
        raise InvalidInput("Choose the list to subscribe the members to or unsubscribe them from.")


def changing(action, mailing_list=None):
    """The extra conditions that pick, among the selected members, those the action would change."""
    if action == DEACTIVATE:
        return [Member.active.is_(True)]
    if action == ACTIVATE:  # a hard-bounced member is reactivated by a reset, not by activating
        return [Member.active.is_(False), member_state.can_activate_sql()]
    if action == RESET_BOUNCES:
        return [or_(Member.bounce_status != CLEAN, Member.bounce_count > 0, Member.active.is_(False))]
    on_list = Member.id.in_(select(Subscription.member_id).where(Subscription.list_id == mailing_list.id)) if mailing_list else None
    if action == SUBSCRIBE:
        return [~on_list]
    if action == UNSUBSCRIBE:
        return [on_list]
    return []


def preview(action, selection, mailing_list=None):
    """How many selected members the action would change, and what it would leave alone, before it runs."""
    check_action(action, mailing_list)
    count = selection.count(*changing(action, mailing_list))
    check_size(action, count)
    return count, left_alone(action, selection)


def check_size(action, count):
    """Refuse a delete of more than MAX_DELETE members at once."""
    if action == DELETE and count > MAX_DELETE:
        raise InvalidInput(f"At most {MAX_DELETE:,} members can be deleted at once ({count:,} selected): narrow the "
                           "filters, or deactivate them instead (that keeps their history linked).")


def left_alone(action, selection):
    """What the action deliberately does not do to some of the selection, in words (or empty)."""
    if action == ACTIVATE:
        hard = selection.count(Member.active.is_(False), ~member_state.can_activate_sql())
        if hard:
            return (f"{hard:,} hard-bounced member{'s stay' if hard != 1 else ' stays'} inactive: Postfix would not "
                    "deliver to them anyway; Reset Bounce Status is the way back once an address works again.")
    if action == RESET_BOUNCES:
        suppressed = selection.count(Member.ses_suppressed.is_(True))
        if suppressed:
            return (f"{suppressed:,} of them {'are' if suppressed != 1 else 'is'} on SES's suppression list, so SES "
                    "keeps dropping their mail until they are removed there (flask ses suppression remove).")
    return ""


@writes
def apply(action, selection, mailing_list=None):
    """Run `action` on the selected members in one unit of work; returns a BulkResult."""
    check_action(action, mailing_list)
    note = left_alone(action, selection)
    ids = db.session.scalars(
        select(Member.id).where(*selection.conditions(), *changing(action, mailing_list))
        .order_by(Member.id).with_for_update()
    ).all()
    check_size(action, len(ids))
    actor, now = audit.current_actor(), utcnow()
    for start in range(0, len(ids), CHUNK):
        CHANGES[action](ids[start:start + CHUNK], mailing_list, actor, now)
    return BulkResult(action, ids, note)


# Each change below takes a chunk of member ids and is set-based: the audit entries and history
# rows are INSERT ... SELECT from those members' rows, so no Python object is made per member.

def _audit(ids, action, actor, now, target=None, details=None):
    """One audit entry per member in `ids` (target: the member's address, or `target`)."""
    columns = select(literal(actor.user_id, Integer), literal(actor.name), literal(action),
                     literal(target) if target else Member.email,
                     details if details is not None else literal("bulk"), literal(now, UTCDateTime)).where(Member.id.in_(ids))
    db.session.execute(insert(AuditLog).from_select(["user_id", "actor", "action", "target", "details", "created_at"], columns))


def _history(decisions, event, now):
    """One history row per decision, saying why (the decision's own words)."""
    if decisions:
        db.session.execute(insert(BounceLog), [
            {"member_id": d.before.id, "email": d.before.email, "event": event, "occurred_at": now, "created_at": now,
             "details": d.why} for d in decisions])


def _audit_each(decisions, action, actor, now, details=lambda decision: "bulk"):
    """One audit entry per decision's member."""
    if decisions:
        db.session.execute(insert(AuditLog), [
            {"user_id": actor.user_id, "actor": actor.name, "action": action, "target": d.before.email,
             "details": details(d), "created_at": now} for d in decisions])


def _staff_active(ids, active, actor, now):
    decisions = member_state.change_many(db.session.connection(), ids, member_state.staff_active, active,
                                         f"{actor.name} (bulk)")
    _audit_each(decisions, "member.activate" if active else "member.deactivate", actor, now)
    _history(decisions, STAFF_CHANGE, now)


def _deactivate(ids, mailing_list, actor, now):
    _staff_active(ids, False, actor, now)


def _activate(ids, mailing_list, actor, now):
    _staff_active(ids, True, actor, now)


def _reset(ids, mailing_list, actor, now):
    decisions = member_state.change_many(db.session.connection(), ids, member_state.reset, f"{actor.name} (bulk)")
    _audit_each(decisions, "member.bounce_reset", actor, now, lambda decision: decision.before.describe())
    _history(decisions, RESET, now)


def _delete(ids, mailing_list, actor, now):
    _audit(ids, "member.delete", actor, now)
    # What the foreign keys would do row by row, done for the chunk at once: the history stays,
    # unlinked; the subscriptions go.
    db.session.execute(update(BounceLog).where(BounceLog.member_id.in_(ids)).values(member_id=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(Subscription).where(Subscription.member_id.in_(ids))
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(Member).where(Member.id.in_(ids)).execution_options(synchronize_session=False))


def _subscribe(ids, mailing_list, actor, now):
    db.session.execute(insert(Subscription).from_select(
        ["member_id", "list_id", "created_at"],
        select(Member.id, literal(mailing_list.id, Integer), literal(now, UTCDateTime)).where(Member.id.in_(ids))))
    _audit(ids, "list.subscribe", actor, now, target=mailing_list.address, details=Member.email)


def _unsubscribe(ids, mailing_list, actor, now):
    db.session.execute(delete(Subscription).where(Subscription.list_id == mailing_list.id,
                                                  Subscription.member_id.in_(ids))
                       .execution_options(synchronize_session=False))
    _audit(ids, "list.unsubscribe", actor, now, target=mailing_list.address, details=Member.email)


CHANGES = {DEACTIVATE: _deactivate, ACTIVATE: _activate, RESET_BOUNCES: _reset, DELETE: _delete,
           SUBSCRIBE: _subscribe, UNSUBSCRIBE: _unsubscribe}
