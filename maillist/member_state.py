"""A member's mail state, and the one place that changes it.

The state is the columns that decide whether list mail reaches a member and why not: `active`,
`bounce_status`, `bounce_count`, `last_bounce_at`, `deactivated_by` and `ses_suppressed`. Every
change to them comes through here: a bounce, a complaint, staff activating, deactivating or
resetting, the bounce-storm guard undoing and re-applying deactivations, stale soft members
returning to clean, SES's suppression list being cleared, and the bulk forms of these.

Each change is two steps. A rule below (`bounce`, `complaint`, `staff_active`, ...) is a plain
function from the member's `State` to a `Decision`: the state after, and in words why (the notes
the member's history shows, taken from the same decision, never predicted a second time). Then
`change` or `change_many` read the members' rows locked (SELECT ... FOR UPDATE on MariaDB; SQLite
has one writer, whose queue the caller holds), decide on each, and write plain values. A test
(tests/unit/test_member_state_writer.py) fails if any other module writes these columns.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, select, update

from maillist.errors import InvalidInput
from maillist.models import Member
from maillist.models.types import UTCDateTime, utcnow
from maillist.plain_sql import Statement
from maillist.vocabulary import (BY_COMPLAINT, BY_HARD_BOUNCE, BY_SOFT_BOUNCE, BY_STAFF, CLEAN, HARD, PERMANENT, SOFT,
                                 UNDETERMINED)

COLUMNS = ("active", "bounce_status", "bounce_count", "last_bounce_at", "deactivated_by", "ses_suppressed")
# A bulk change locks and writes this many members per statement.
CHUNK = 1000
# HARD_BOUNCE_POLICY: deactivate on a dead address only, or on any Permanent bounce.
REASON_POLICY, TYPE_POLICY = "reason", "type"

member = Member.__table__


@dataclass(frozen=True)
class State:
    """One member's mail state as read from their (locked) row."""

    id: int
    email: str
    active: bool = True
    bounce_status: str = CLEAN
    bounce_count: int = 0
    last_bounce_at: datetime | None = None
    deactivated_by: str | None = None
    ses_suppressed: bool = False

    def values(self):
        return {name: getattr(self, name) for name in COLUMNS}

    def describe(self):
        """The state as the audit log records it: status=hard count=2 active=False."""
        return f"status={self.bounce_status} count={self.bounce_count} active={self.active}"

    def in_words(self):
        """The state as a member's history says it: hard, 2 bounces counted, inactive."""
        counted = f"{self.bounce_count} bounce{'' if self.bounce_count == 1 else 's'} counted"
        return f"{self.bounce_status}, {counted}, {'active' if self.active else 'inactive'}"


@dataclass(frozen=True)
class Decision:
    """What a rule decided for one member: the state before and after, and why, in words."""

    before: State
    after: State
    notes: tuple = ()

    @property
    def changes(self):
        """The columns this decision changes, with their new values."""
        was = self.before.values()
        return {name: value for name, value in self.after.values().items() if was[name] != value}

    @property
    def changed(self):
        return bool(self.changes)

    @property
    def why(self):
        """The notes joined for the history, or None."""
        return "; ".join(self.notes) or None

    @property
    def deactivated_dead_address(self):
        """This bounce stopped mail to a member who was receiving it because the address is dead (the
        storm guard may undo exactly this, back to `before.bounce_status`)."""
        return self.before.active and not self.after.active and self.after.deactivated_by == BY_HARD_BOUNCE


@dataclass(frozen=True)
class Rules:
    """The settings that decide what a bounce or complaint does to a member (see `from_config`)."""

    threshold: int = 3
    soft_window_days: int = 0  # 0: bounces count forever
    soft_deactivates: bool = False
    hard_bounce_policy: str = REASON_POLICY
    deactivate_on_complaint: bool = True

    @classmethod
    def from_config(cls, config):
        return cls(config["SOFT_BOUNCE_THRESHOLD"], config["SOFT_BOUNCE_WINDOW_DAYS"],
                   config["SOFT_BOUNCE_ACTION"] == "deactivate", config["HARD_BOUNCE_POLICY"],
                   config["COMPLAINT_ACTION"] == "deactivate")

    def stale_before(self, occurred_at):
        """The time before which a member's last bounce is too old to count with one at `occurred_at`, or None."""
        return occurred_at - timedelta(days=self.soft_window_days) if self.soft_window_days else None


class HardBounced(InvalidInput):
    """Activating alone would send nothing to a hard-bounced member: Postfix skips them."""

    def __init__(self, email):
        super().__init__(f"{email} is hard-bounced, so activating alone would send nothing: "
                         "open Bounces and use Reset Bounce Status once the address works again.")


# The rules.

def deactivates(bounce_type, dead_reason, policy):
    """Whether a bounce makes the member hard and inactive: a Permanent one for a dead address
    (HARD_BOUNCE_POLICY=reason), or any Permanent one (HARD_BOUNCE_POLICY=type)."""
    return bounce_type == PERMANENT and (policy == TYPE_POLICY or dead_reason)


def bounce(state, bounce_type, dead_reason, occurred_at, rules, suppressed=False, reason_label=""):
    """One more bounce on the member's record.

    A dead address (under the policy) makes the member hard and inactive. Any other bounce counts
    towards the soft threshold (a Permanent one for a reason that says nothing about the address,
    such as blocked or policy, counts like a transient one), within SOFT_BOUNCE_WINDOW_DAYS when
    it is set; reaching it marks the member soft, and deactivates them under SOFT_BOUNCE_ACTION.
    Undetermined bounces count but never change the status. Hard is never downgraded here.
    """
    dead = deactivates(bounce_type, dead_reason, rules.hard_bounce_policy)
    notes = []
    if bounce_type == PERMANENT and not dead:
        notes.append(f"{reason_label}: not a dead address, so counted like a transient bounce")
    stale_before = rules.stale_before(occurred_at)
    stale = stale_before is not None and state.last_bounce_at is not None and state.last_bounce_at < stale_before
    counted = 1 if stale else state.bounce_count + 1
    after = replace(state, bounce_count=counted, last_bounce_at=max(filter(None, (state.last_bounce_at, occurred_at))),
                    ses_suppressed=state.ses_suppressed or suppressed)
    if dead:
        if state.bounce_status != HARD:
            notes.append("the address is dead: marked hard and deactivated")
        return Decision(state, stopped(replace(after, bounce_status=HARD), BY_HARD_BOUNCE), tuple(notes))
    if stale:
        notes.append(f"the last bounce was more than {rules.soft_window_days} days earlier, so counting starts again")
        if state.bounce_status == SOFT:
            after = replace(after, bounce_status=CLEAN)
    if bounce_type != UNDETERMINED and state.bounce_status != HARD and counted >= rules.threshold:
        if after.bounce_status != SOFT:
            window = f" within {rules.soft_window_days} days" if rules.soft_window_days else ""
            action = " and deactivated (SOFT_BOUNCE_ACTION=deactivate)" if rules.soft_deactivates else ""
            notes.append(f"{counted} bounces{window}: marked soft{action}")
        after = replace(after, bounce_status=SOFT)
        if rules.soft_deactivates:
            after = stopped(after, BY_SOFT_BOUNCE)
    return Decision(state, after, tuple(notes))


def stopped(state, by):
    """`state` no longer receiving mail; who stopped it stays as it was when it was stopped already."""
    return replace(state, active=False, deactivated_by=by if state.active else state.deactivated_by)


def complaint(state, rules):
    """A complaint stops mail to the member (COMPLAINT_ACTION=deactivate), or changes nothing."""
    return Decision(state, stopped(state, BY_COMPLAINT) if rules.deactivate_on_complaint else state)


def can_activate(state):
    """Whether staff may activate the member: not a hard-bounced one (a reset is the way back)."""
    return state.bounce_status != HARD


def can_activate_sql():
    """`can_activate` as a condition on the member table (to count and select members it allows)."""
    return member.c.bounce_status != HARD


def staff_active(state, active, actor):
    """Staff start or stop mail to the member; HardBounced when activating a hard-bounced one."""
    if active and not state.active and not can_activate(state):
        raise HardBounced(state.email)
    after = replace(state, active=True, deactivated_by=None) if active else replace(state, active=False, deactivated_by=BY_STAFF)
    return Decision(state, after, (f"{'reactivated' if active else 'deactivated'} by {actor}",))


def reset(state, actor):
    """Staff clear the bounce record and reactivate the member (SES's own suppression list is
    untouched: see `suppression_cleared`)."""
    after = replace(state, bounce_status=CLEAN, bounce_count=0, active=True, deactivated_by=None)
    return Decision(state, after, (f"reset by {actor}; it was {state.in_words()}",))


def soft_expired(state, cutoff, window_days):
    """A soft member with no bounce since `cutoff` returns to clean; whether they are active stays."""
    if state.bounce_status != SOFT or state.last_bounce_at is None or state.last_bounce_at >= cutoff:
        return Decision(state, state)
    note = (f"back to clean on its own: no bounce for {window_days} days "
            f"(SOFT_BOUNCE_WINDOW_DAYS; {state.bounce_count} counted before)")
    return Decision(state, replace(state, bounce_status=CLEAN, bounce_count=0), (note,))


def storm_undone(state, status_before):
    """The storm guard gives back mail to a member a dead-address bounce stopped, with the status
    they had; a member staff changed since (active again, or no longer hard) is left alone."""
    if state.active or state.bounce_status != HARD:
        return Decision(state, state)
    return Decision(state, replace(state, active=True, bounce_status=status_before, deactivated_by=None))


def storm_redone(state):
    """Releasing a storm hold stops mail again to a member whose deactivation the guard undid."""
    return Decision(state, stopped(replace(state, bounce_status=HARD), BY_HARD_BOUNCE))


def suppression_cleared(state):
    """The address is off SES's account-level suppression list: SES delivers to it again."""
    return Decision(state, replace(state, ses_suppressed=False))


# Reading locked rows and writing decisions.

# One member's row is read and written with plain SQL on the driver's cursor (maillist.plain_sql):
# every report does it, and SQLAlchemy's set-up per statement costs more than the statement. Many
# members (bulk actions) go through Core.
NAMES = ("id", "email", *COLUMNS)
STATE_COLUMNS = tuple(member.c[name] for name in NAMES)
STATE_TYPES = tuple(column.type for column in STATE_COLUMNS)
LOCK_BY_ID = Statement(f'SELECT {", ".join(NAMES)} FROM "member" WHERE id = :member_id FOR UPDATE', columns=STATE_TYPES)
LOCK_BY_EMAIL = Statement(f'SELECT {", ".join(NAMES)} FROM "member" WHERE email = :email FOR UPDATE', columns=STATE_TYPES)
LOCK_MANY = (select(*STATE_COLUMNS).where(member.c.id.in_(bindparam("ids", expanding=True)))
             .order_by(member.c.id).with_for_update())


def lock(connection, member_id=None, email=None):
    """The member's State, their row locked until the transaction ends; None when there is none."""
    if member_id is not None:
        rows = LOCK_BY_ID.run(connection, {"member_id": member_id})
    else:
        rows = LOCK_BY_EMAIL.run(connection, {"email": email})
    return State(*rows[0]) if rows else None


def lock_many(connection, ids):
    """The States of the members in `ids` (at most CHUNK), by id, their rows locked."""
    return [State(*row) for row in connection.execute(LOCK_MANY, {"ids": list(ids)})]


@lru_cache(maxsize=None)
def writing_one(names):
    """The UPDATE that sets the columns `names` (and updated_at) of one member."""
    settings = ", ".join(f"{name} = :new_{name}" for name in names)
    types = {f"new_{name}": member.c[name].type for name in names}
    return Statement(f'UPDATE "member" SET {settings}, updated_at = :now WHERE id = :member_id',
                     {**types, "now": member.c.updated_at.type})


@lru_cache(maxsize=None)
def writing_many(names):
    """The UPDATE that sets the columns `names` (and updated_at) of the members whose ids are given."""
    values = {member.c[name]: bindparam(f"new_{name}", type_=member.c[name].type) for name in names}
    values[member.c.updated_at] = bindparam("now", type_=UTCDateTime)
    return update(member).where(member.c.id.in_(bindparam("ids", expanding=True))).values(values)


def write(connection, decision):
    """Write what `decision` changes (nothing when it changes nothing)."""
    changes = decision.changes
    if changes:
        parameters = {f"new_{name}": value for name, value in changes.items()}
        writing_one(tuple(changes)).run(connection, {**parameters, "member_id": decision.before.id, "now": utcnow()})


def write_many(connection, decisions):
    """Write many decisions: one UPDATE for each set of identical changes (a bulk action's are all
    alike), over the ids that share it."""
    alike = {}
    for decision in decisions:
        alike.setdefault(tuple(sorted(decision.changes.items(), key=lambda item: item[0])), []).append(decision.before.id)
    now = utcnow()
    for changes, ids in alike.items():
        parameters = {f"new_{name}": value for name, value in changes}
        statement = writing_many(tuple(name for name, _ in changes))
        for start in range(0, len(ids), CHUNK):
            connection.execute(statement, {**parameters, "ids": ids[start:start + CHUNK], "now": now})


def change(connection, decide, *arguments, member_id=None, email=None):
    """Lock one member (by id or address), decide with `decide(state, *arguments)` and write it;
    returns the Decision, or None when there is no such member."""
    state = lock(connection, member_id=member_id, email=email)
    if state is None:
        return None
    decision = decide(state, *arguments)
    write(connection, decision)
    return decision


def change_many(connection, ids, decide, *arguments):
    """`change` for many members, CHUNK at a time, in id order (the lock order of every bulk
    change); returns the Decisions that changed something."""
    ids = sorted(ids)
    done = []
    for start in range(0, len(ids), CHUNK):
        decisions = [decide(state, *arguments) for state in lock_many(connection, ids[start:start + CHUNK])]
        changed = [decision for decision in decisions if decision.changed]
        write_many(connection, changed)
        done += changed
    return done


def change_member(session, member_object, decide, *arguments):
    """`change` for a Member object of an ORM session, which then shows the state written."""
    decision = change(session.connection(), decide, *arguments, member_id=member_object.id)
    session.expire(member_object, [*COLUMNS, "updated_at"])
    return decision
