"""Applying SES bounces, complaints and deliveries to the database.

Each event locks its member's row, and maillist.member_state decides and writes the change, so
concurrent bounces for one member on several workers queue on that row and all count. Everything
runs on the connection the caller gives, inside its transaction; the caller commits.
"""

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from maillist import member_state
from maillist.bounce_reasons import LABELS, SUPPRESSED, is_dead
from maillist.intake import statements
from maillist.intake.reports import Bounce, Complaint, Deliveries
from maillist.intake.storm_guard import StormLimits, domain_of, hold_for
from maillist.vocabulary import BOUNCE, COMPLAINT, HELD, PERMANENT


@dataclass(frozen=True)
class Rules:
    """The settings that decide what an event does, read once per report (see maillist.intake.door):
    what it does to its member, and when the storm guard holds it."""

    member: member_state.Rules = field(default_factory=member_state.Rules)
    storm: StormLimits = field(default_factory=StormLimits)

    @classmethod
    def from_config(cls, config):
        return cls(member_state.Rules.from_config(config), StormLimits.from_config(config))


def decide_bounce(state, bounce_type, reason, occurred_at, rules):
    """member_state.bounce for a bounce with this reason (maillist.bounce_reasons)."""
    return member_state.bounce(state, bounce_type, is_dead(reason), occurred_at, rules, suppressed=reason == SUPPRESSED,
                               reason_label=LABELS.get(reason, reason or "unknown"))


def record_bounce(connection, bounce: Bounce, report_key, rules):
    """Update the bounced member's record and log the bounce with its reason; returns the member id or None.

    A permanent bounce from a domain in a bounce storm (maillist.intake.storm_guard) is logged as
    held and changes nothing until an administrator releases it.
    """
    reason = bounce.reason
    state = member_state.lock(connection, email=bounce.email)
    hold = decision = None
    if state is not None and bounce.bounce_type == PERMANENT:
        hold = storm_hold(connection, bounce, state.id, reason, rules.storm)
    if state is not None and hold is None:
        decision = decide_bounce(state, bounce.bounce_type, reason, bounce.occurred_at, rules.member)
        member_state.write(connection, decision)
    statements.INSERT_LOG.run(connection, statements.log_row(
        member_id=state.id if state else None, email=bounce.email, domain=domain_of(bounce.email), event=BOUNCE,
        bounce_type=bounce.bounce_type, bounce_subtype=bounce.subtype, diagnostic_code=bounce.diagnostic_code,
        action=bounce.action, status=bounce.status, feedback_id=bounce.feedback_id, report_key=report_key,
        occurred_at=bounce.occurred_at, reason=reason, details=decision.why if decision else None,
        hold_id=hold.id if hold else None, held=HELD if hold else None,
        # What a storm hold needs to undo this deactivation later.
        status_before=decision.before.bounce_status if decision and decision.deactivated_dead_address else None,
    ))
    return state.id if state else None


def storm_hold(connection, bounce, member_id, reason, limits):
    """The storm guard's hold for this permanent bounce, or None: the guard's ORM work runs in a
    session joined to the intake's transaction, flushed before the log row that names the hold."""
    with Session(bind=connection, expire_on_commit=False) as session:
        hold = hold_for(session, bounce, member_id, reason, limits)
        session.flush()
        return hold


def record_complaint(connection, complaint: Complaint, report_key, rules):
    """Stop mail to a complaining member (COMPLAINT_ACTION), and log the complaint; returns the member id or None."""
    decision = member_state.change(connection, member_state.complaint, rules.member, email=complaint.email)
    member_id = decision.before.id if decision else None
    statements.INSERT_LOG.run(connection, statements.log_row(
        member_id=member_id, email=complaint.email, event=COMPLAINT, feedback_type=complaint.feedback_type,
        domain=domain_of(complaint.email), user_agent=complaint.user_agent, feedback_id=complaint.feedback_id,
        report_key=report_key, occurred_at=complaint.occurred_at,
    ))
    return member_id


def count_deliveries(connection, deliveries: Deliveries):
    """Add delivered recipients to their day's count (insert the day's row on first use)."""
    day = deliveries.occurred_at.date()
    bump = {"day": day, "count": deliveries.count}
    if statements.ADD_DELIVERIES.run(connection, bump):
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


def apply_events(connection, events, report_key, rules=Rules()):
    """Apply parsed events under `rules` on `connection`, in its transaction; returns a short
    description of what was done."""
    done = []
    for event in in_lock_order(events):
        if isinstance(event, Bounce):
            found = record_bounce(connection, event, report_key, rules)
            done.append(f"bounce:{event.bounce_type}:{'member' if found else 'unknown'}")
        elif isinstance(event, Complaint):
            found = record_complaint(connection, event, report_key, rules)
            done.append(f"complaint:{'member' if found else 'unknown'}")
        elif isinstance(event, Deliveries):
            count_deliveries(connection, event)
            done.append(f"delivery:{event.count}")
        else:
            done.append(f"ignored:{event.kind}")
    return done
