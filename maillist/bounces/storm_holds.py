"""Closing the bounce-storm guard's holds: an administrator releases (applies) or dismisses what a hold kept.

Release applies each held bounce as the engine would have on arrival (counting it, deactivating a
dead address under the HARD_BOUNCE_POLICY in force now) and deactivates again the members whose
deactivation the guard undid. Dismiss leaves every member as they are; the bounces stay in the
history, marked dismissed. Both are audited.
"""

from collections import Counter

from flask import current_app
from sqlalchemy import select

from maillist import audit, member_state
from maillist.bounce_reasons import is_dead
from maillist.extensions import db
from maillist.intake.effects import decide_bounce
from maillist.models import StormHold
from maillist.models.types import utcnow
from maillist.unit_of_work import writes
from maillist.vocabulary import HELD, HOLD_DISMISSED, HOLD_OPEN, HOLD_RELEASED, UNDONE


class HoldClosed(Exception):
    """The hold was released or dismissed already (another administrator, another tab)."""


def open_holds():
    """Every open hold, oldest first, with the bounces it keeps."""
    return db.session.scalars(select(StormHold).where(StormHold.state == HOLD_OPEN).order_by(StormHold.opened_at)).all()


def held_rows(hold):
    """The bounces of `hold` still waiting for a decision."""
    return [row for row in hold.bounces if row.held in (HELD, UNDONE)]


def summary(hold):
    """What the banner says about `hold`: members who bounced, the addresses held (sorted), reasons by count."""
    held = sorted({row.email for row in held_rows(hold)})
    reasons = Counter(row.reason for row in hold.bounces)
    return {"bounced": len({row.member_id for row in hold.bounces}), "held": held, "reasons": reasons.most_common()}


def lock_open_hold(hold_id):
    """The hold with this id, locked for the decision; HoldClosed when it is not open (or not there)."""
    hold = db.session.scalar(select(StormHold).where(StormHold.id == hold_id).with_for_update())
    if hold is None or not hold.is_open:
        raise HoldClosed(f"hold {hold_id} is not open")
    return hold


def close(hold, state):
    """Mark `hold` released or dismissed, by whom (audited)."""
    hold.state, hold.open_domain, hold.closed_at = state, None, utcnow()
    hold.closed_by = audit.record(f"bounce_storm.{'release' if state == HOLD_RELEASED else 'dismiss'}", hold.domain,
                                  describe(hold)).actor


def describe(hold):
    """The audit entry's details for `hold`."""
    facts = summary(hold)
    reasons = ", ".join(f"{reason or 'unknown'} x{count}" for reason, count in facts["reasons"])
    return f"{facts['bounced']} members bounced, {len(facts['held'])} held ({reasons})"


@writes
def release(hold_id):
    """Apply every bounce the hold kept; returns the hold. Raises HoldClosed."""
    hold = lock_open_hold(hold_id)
    rules = member_state.Rules.from_config(current_app.config)
    connection = db.session.connection()
    for row in sorted(held_rows(hold), key=lambda r: (r.member_id or 0, r.id)):
        if row.member_id is not None:
            if row.held == HELD:
                decision = member_state.change(connection, decide_bounce, row.bounce_type, row.reason, row.occurred_at, rules,
                                               member_id=row.member_id)
                if decision is not None and decision.why:
                    row.details = decision.why
            elif member_state.deactivates(row.bounce_type, is_dead(row.reason), rules.hard_bounce_policy):
                member_state.change(connection, member_state.storm_redone, member_id=row.member_id)
        row.held = HOLD_RELEASED
    close(hold, HOLD_RELEASED)
    return hold


@writes
def dismiss(hold_id):
    """Leave every member as they are; the hold's bounces stay in the history. Raises HoldClosed."""
    hold = lock_open_hold(hold_id)
    for row in held_rows(hold):
        row.held = HOLD_DISMISSED
    close(hold, HOLD_DISMISSED)
    return hold
