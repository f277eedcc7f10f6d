"""Applying SES bounces, complaints and deliveries to the database.

Member counters change with single atomic UPDATE statements, never read-modify-write, so
concurrent bounces for one member on several workers all count. The statements are prebuilt
(maillist.bounces.statements) and run on the connection the caller gives, inside its transaction;
the caller commits.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from maillist.bounces import statements
from maillist.bounces.reasons import LABELS, SUPPRESSED, is_dead
from maillist.bounces.reports import Bounce, Complaint, Deliveries
from maillist.bounces.storm_guard import StormLimits, domain_of, hold_for
from maillist.models.types import utcnow
from maillist.vocabulary import BOUNCE, COMPLAINT, HARD, HELD, PERMANENT, SOFT, TRANSIENT, UNDETERMINED

# HARD_BOUNCE_POLICY: deactivate on a dead address only, or on any Permanent bounce.
REASON_POLICY, TYPE_POLICY = "reason", "type"


@dataclass(frozen=True)
class Rules:
    """The settings that decide what an event does, read once per report (see maillist.bounces.intake)."""

    threshold: int = 3
    deactivate_on_complaint: bool = True
    hard_bounce_policy: str = REASON_POLICY
    storm: StormLimits = StormLimits()
    soft_window_days: int = 0  # 0: bounces count forever
    soft_deactivates: bool = False

    @classmethod
    def from_config(cls, config):
        return cls(config["SOFT_BOUNCE_THRESHOLD"], config["COMPLAINT_ACTION"] == "deactivate",
                   config["HARD_BOUNCE_POLICY"], StormLimits.from_config(config),
                   config["SOFT_BOUNCE_WINDOW_DAYS"], config["SOFT_BOUNCE_ACTION"] == "deactivate")

    def stale_before(self, occurred_at):
        """The time before which a member's last bounce is too old to count with one at `occurred_at`, or None."""
        return occurred_at - timedelta(days=self.soft_window_days) if self.soft_window_days else None


def deactivates(bounce_type, reason, policy):
    """Whether a bounce makes the member hard and inactive: a Permanent one for a dead address
    (HARD_BOUNCE_POLICY=reason), or any Permanent one (HARD_BOUNCE_POLICY=type)."""
    return bounce_type == PERMANENT and (policy == TYPE_POLICY or is_dead(reason))


def apply_to_member(connection, member_id, bounce_type, reason, occurred_at, rules):
    """Count one bounce on the member's record; a dead address also makes them hard and inactive.

    A Permanent bounce for a reason that says nothing about the address (blocked, policy, content)
    is counted like a transient one: towards the soft threshold, never deactivating on its own.
    """
    dead = deactivates(bounce_type, reason, rules.hard_bounce_policy)
    counted_as = PERMANENT if dead else (TRANSIENT if bounce_type == PERMANENT else bounce_type)
    stale_before = rules.stale_before(occurred_at)
    parameters = {"member_id": member_id, "occurred_at": occurred_at, "now": utcnow()}
    if stale_before is not None:
        parameters["stale_before"] = stale_before
    if counted_as == TRANSIENT:
        parameters["threshold"] = rules.threshold
    statement = statements.member_update(dead, rules.soft_deactivates and not dead, counted_as, stale_before is not None,
                                         reason == SUPPRESSED)
    statement.run(connection, parameters)


def record_bounce(connection, bounce: Bounce, report_key, rules, members=None):
    """Update the bounced member's record and log the bounce with its reason; returns the member id or None.

    A permanent bounce from a domain in a bounce storm (maillist.bounces.storm_guard) is logged as
    held and changes nothing until an administrator releases it.
    """
    reason = bounce.reason
    dead = deactivates(bounce.bounce_type, reason, rules.hard_bounce_policy)
    notes = []
    if bounce.bounce_type == PERMANENT and not dead:
        notes.append(f"{LABELS[reason]}: not a dead address, so counted like a transient bounce")
    member = read_member(connection, bounce.email, members)
    member_id = member.id if member else None
    hold = None
    if member is not None and bounce.bounce_type == PERMANENT:
        hold = storm_hold(connection, bounce, member_id, reason, rules.storm)
    if member is not None and hold is None:
        notes += why_status(member, bounce, dead, rules)
        # Lock the member row with the UPDATE before inserting the log row: the log's foreign key
        # check takes a shared lock on the member, and shared-then-exclusive deadlocks on MariaDB.
        apply_to_member(connection, member_id, bounce.bounce_type, reason, bounce.occurred_at, rules)
    statements.INSERT_LOG.run(connection, statements.log_row(
        member_id=member_id, email=bounce.email, domain=domain_of(bounce.email), event=BOUNCE,
        bounce_type=bounce.bounce_type, bounce_subtype=bounce.subtype, diagnostic_code=bounce.diagnostic_code,
        action=bounce.action, status=bounce.status, feedback_id=bounce.feedback_id, report_key=report_key,
        occurred_at=bounce.occurred_at, reason=reason, details="; ".join(notes) or None,
        hold_id=hold.id if hold else None, held=HELD if hold else None,
        # What a storm hold needs to undo this deactivation later.
        status_before=member.bounce_status if member is not None and hold is None and dead and member.active else None,
    ))
    return member_id


def storm_hold(connection, bounce, member_id, reason, limits):
    """The storm guard's hold for this permanent bounce, or None: the guard's ORM work runs in a
    session joined to the intake's transaction, flushed before the log row that names the hold."""
    with Session(bind=connection, expire_on_commit=False) as session:
        hold = hold_for(session, bounce, member_id, reason, limits)
        session.flush()
        return hold


def why_status(member, bounce, dead, rules):
    """In plain words, what this bounce does to the member's status (for the history); read from
    the member as it was just before, so it describes the atomic update that follows."""
    if dead:
        return [] if member.bounce_status == HARD else ["the address is dead: marked hard and deactivated"]
    if bounce.bounce_type == UNDETERMINED:
        return []
    notes, counted = [], member.bounce_count
    stale_before = rules.stale_before(bounce.occurred_at)
    if stale_before is not None and member.last_bounce_at is not None and member.last_bounce_at < stale_before:
        notes.append(f"the last bounce was more than {rules.soft_window_days} days earlier, so counting starts again")
        counted = 0
    if member.bounce_status != HARD and counted + 1 >= rules.threshold and (member.bounce_status != SOFT or counted == 0):
        window = f" within {rules.soft_window_days} days" if rules.soft_window_days else ""
        action = " and deactivated (SOFT_BOUNCE_ACTION=deactivate)" if rules.soft_deactivates else ""
        notes.append(f"{counted + 1} bounces{window}: marked soft{action}")
    return notes


def record_complaint(connection, complaint: Complaint, report_key, deactivate, members=None):
    """Stop mail to a complaining member when `deactivate`, and log the complaint; returns the member id or None."""
    member = read_member(connection, complaint.email, members)
    member_id = member.id if member is not None else None
    if member_id is not None and deactivate:
        statements.DEACTIVATE_FOR_COMPLAINT.run(connection, {"member_id": member_id, "now": utcnow()})
    statements.INSERT_LOG.run(connection, statements.log_row(
        member_id=member_id, email=complaint.email, event=COMPLAINT, feedback_type=complaint.feedback_type,
        domain=domain_of(complaint.email), user_agent=complaint.user_agent, feedback_id=complaint.feedback_id,
        report_key=report_key, occurred_at=complaint.occurred_at,
    ))
    return member_id


def count_deliveries(connection, deliveries: Deliveries):
    """Add delivered recipients to their day's count (insert the day's row on first use)."""
    day = deliveries.occurred_at.date()
    bump = {"count_day": day, "count": deliveries.count}
    if statements.ADD_DELIVERIES.run(connection, bump).rowcount:
        return
    try:
        with connection.begin_nested():
            statements.INSERT_DELIVERIES.run(connection, {"day": day, "deliveries": deliveries.count})
    except IntegrityError:
        # Another worker created the day's row between our UPDATE and INSERT.
        statements.ADD_DELIVERIES.run(connection, bump)


def in_lock_order(events):
    """The events in the one order every transaction takes its row locks in (by address): two
    messages touching the same members then queue behind each other instead of deadlocking."""
    return sorted(events, key=lambda e: getattr(e, "email", ""))


def first_member_email(events):
    """The address of the first member `apply_events` will read, or None (the ledger can read that
    member in the round trip that records the report: maillist.bounces.ledger.record_once)."""
    return next((event.email for event in in_lock_order(events) if isinstance(event, (Bounce, Complaint))), None)


def read_member(connection, email, members=None):
    """The member's state before this event changes it: taken from `members` (read already, and
    used once: a later event for the same address reads afresh), else read now."""
    if members and email in members:
        return members.pop(email)
    return statements.READ_MEMBER.run(connection, {"email": email}).first()


def apply_events(connection, events, report_key, rules=Rules(), members=None):
    """Apply parsed events under `rules` on `connection`, in its transaction; returns a short
    description of what was done. `members`: states read already ({address: state or None})."""
    done = []
    members = dict(members or {})
    for event in in_lock_order(events):
        if isinstance(event, Bounce):
            found = record_bounce(connection, event, report_key, rules, members)
            done.append(f"bounce:{event.bounce_type}:{'member' if found else 'unknown'}")
        elif isinstance(event, Complaint):
            found = record_complaint(connection, event, report_key, rules.deactivate_on_complaint, members)
            done.append(f"complaint:{'member' if found else 'unknown'}")
        elif isinstance(event, Deliveries):
            count_deliveries(connection, event)
            done.append(f"delivery:{event.count}")
        else:
            done.append(f"ignored:{event.kind}")
    return done
