"""Applying SES bounces, complaints and deliveries to the database.

Member counters change with single atomic UPDATE statements, never read-modify-write, so
concurrent bounces for one member on several workers all count. The caller commits.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, case, false, insert, select, update
from sqlalchemy.exc import IntegrityError

from maillist.bounces.reasons import LABELS, SUPPRESSED, classify, is_dead
from maillist.bounces.reports import Bounce, Complaint, Deliveries
from maillist.bounces.storm_guard import StormLimits, domain_of, hold_for
from maillist.extensions import db
from maillist.models import BounceLog, DeliveryStat, Member
from maillist.models.types import utcnow
from maillist.vocabulary import BOUNCE, BY_COMPLAINT, BY_HARD_BOUNCE, BY_SOFT_BOUNCE, CLEAN, COMPLAINT, HARD, HELD, PERMANENT, SOFT, TRANSIENT, UNDETERMINED

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


def member_id_for(email):
    """The id of the member with this (normalised) address, or None."""
    return db.session.scalar(select(Member.id).where(Member.email == email))


def later_of_last_bounce(occurred_at):
    """SQL for last_bounce_at moved forward to `occurred_at`, never back (events arrive out of order)."""
    return case(
        (Member.last_bounce_at.is_(None), occurred_at),
        (Member.last_bounce_at < occurred_at, occurred_at),
        else_=Member.last_bounce_at,
    )


def is_stale(stale_before):
    """SQL: the member's last bounce is older than the window (so earlier bounces no longer count)."""
    if stale_before is None:
        return false()
    return and_(Member.last_bounce_at.is_not(None), Member.last_bounce_at < stale_before)


def count_before(stale_before):
    """SQL for the bounces still counting before this one: none when the last is out of the window."""
    return case((is_stale(stale_before), 0), else_=Member.bounce_count) if stale_before is not None else Member.bounce_count


def reaches_soft(threshold, stale_before):
    """SQL: one more counted bounce reaches the soft threshold (for a member not hard)."""
    return and_(Member.bounce_status != HARD, count_before(stale_before) + 1 >= threshold)


def bounce_status_after(bounce_type, threshold, stale_before=None):
    """SQL for the status after one more bounce of `bounce_type` (hard is never downgraded; a soft
    member whose last bounce is out of the window starts from clean)."""
    if bounce_type == PERMANENT:
        return HARD
    unchanged = case((and_(is_stale(stale_before), Member.bounce_status == SOFT), CLEAN), else_=Member.bounce_status)
    if bounce_type == TRANSIENT:
        return case(
            (Member.bounce_status == HARD, HARD),
            (count_before(stale_before) + 1 >= threshold, SOFT),
            else_=unchanged,
        )
    return unchanged


def deactivates(bounce_type, reason, policy):
    """Whether a bounce makes the member hard and inactive: a Permanent one for a dead address
    (HARD_BOUNCE_POLICY=reason), or any Permanent one (HARD_BOUNCE_POLICY=type)."""
    return bounce_type == PERMANENT and (policy == TYPE_POLICY or is_dead(reason))


def apply_to_member(member_id, bounce_type, reason, occurred_at, rules):
    """Count one bounce on the member's record; a dead address also makes them hard and inactive.

    A Permanent bounce for a reason that says nothing about the address (blocked, policy, content)
    is counted like a transient one: towards the soft threshold, never deactivating on its own.
    """
    dead = deactivates(bounce_type, reason, rules.hard_bounce_policy)
    counted_as = PERMANENT if dead else (TRANSIENT if bounce_type == PERMANENT else bounce_type)
    stale_before = rules.stale_before(occurred_at)
    # Columns are listed so each expression reads only columns not yet set: MariaDB evaluates SET
    # left to right with already-updated values, SQLite with the old ones; this order gives the
    # same on both (active, then bounce_status, then bounce_count, then last_bounce_at).
    changes = []
    if dead:
        # deactivated_by first: it reads `active` before this statement changes it (MariaDB's order).
        changes += [(Member.deactivated_by, case((Member.active.is_(True), BY_HARD_BOUNCE), else_=Member.deactivated_by)),
                    (Member.active, False)]
    elif rules.soft_deactivates and counted_as == TRANSIENT:
        # deactivated_by first: it reads `active` before this statement changes it (MariaDB's order).
        soft_now = and_(Member.active.is_(True), reaches_soft(rules.threshold, stale_before))
        changes += [(Member.deactivated_by, case((soft_now, BY_SOFT_BOUNCE), else_=Member.deactivated_by)),
                    (Member.active, case((reaches_soft(rules.threshold, stale_before), False), else_=Member.active))]
    changes += [
        (Member.bounce_status, bounce_status_after(counted_as, rules.threshold, stale_before)),
        (Member.bounce_count, count_before(stale_before) + 1),
        (Member.last_bounce_at, later_of_last_bounce(occurred_at)),
        (Member.updated_at, utcnow()),
    ]
    if reason == SUPPRESSED:
        changes.append((Member.ses_suppressed, True))
    db.session.execute(update(Member).where(Member.id == member_id).ordered_values(*changes))


def record_bounce(bounce: Bounce, report_key, rules):
    """Update the bounced member's record and log the bounce with its reason; returns the member id or None.

    A permanent bounce from a domain in a bounce storm (maillist.bounces.storm_guard) is logged as
    held and changes nothing until an administrator releases it.
    """
    reason = classify(bounce.subtype, bounce.status, bounce.diagnostic_code)
    dead = deactivates(bounce.bounce_type, reason, rules.hard_bounce_policy)
    notes = []
    if bounce.bounce_type == PERMANENT and not dead:
        notes.append(f"{LABELS[reason]}: not a dead address, so counted like a transient bounce")
    member = db.session.execute(
        select(Member.id, Member.bounce_status, Member.active, Member.bounce_count, Member.last_bounce_at)
        .where(Member.email == bounce.email)
    ).first()
    member_id = member.id if member else None
    hold = None
    if member is not None and bounce.bounce_type == PERMANENT:
        hold = hold_for(bounce, member_id, reason, rules.storm)
    if member is not None and hold is None:
        notes += why_status(member, bounce, dead, rules)
        # Lock the member row with the UPDATE before inserting the log row: the log's foreign key
        # check takes a shared lock on the member, and shared-then-exclusive deadlocks on MariaDB.
        apply_to_member(member_id, bounce.bounce_type, reason, bounce.occurred_at, rules)
    details = "; ".join(notes) or None
    db.session.add(
        BounceLog(
            member_id=member_id, email=bounce.email, domain=domain_of(bounce.email), event=BOUNCE,
            bounce_type=bounce.bounce_type, bounce_subtype=bounce.subtype, diagnostic_code=bounce.diagnostic_code,
            action=bounce.action, status=bounce.status, feedback_id=bounce.feedback_id, report_key=report_key,
            occurred_at=bounce.occurred_at, reason=reason, details=details,
            hold_id=hold.id if hold else None, held=HELD if hold else None,
            # What a storm hold needs to undo this deactivation later.
            status_before=member.bounce_status if member is not None and hold is None and dead and member.active else None,
        )
    )
    return member_id


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


def record_complaint(complaint: Complaint, report_key, deactivate):
    """Stop mail to a complaining member when `deactivate`, and log the complaint; returns the member id or None."""
    member_id = member_id_for(complaint.email)
    if member_id is not None and deactivate:
        db.session.execute(update(Member).where(Member.id == member_id).ordered_values(
            (Member.deactivated_by, case((Member.active.is_(True), BY_COMPLAINT), else_=Member.deactivated_by)),
            (Member.active, False), (Member.updated_at, utcnow())))
    db.session.add(
        BounceLog(
            member_id=member_id, email=complaint.email, event=COMPLAINT, feedback_type=complaint.feedback_type,
            domain=domain_of(complaint.email), user_agent=complaint.user_agent, feedback_id=complaint.feedback_id, report_key=report_key,
            occurred_at=complaint.occurred_at,
        )
    )
    return member_id


def count_deliveries(deliveries: Deliveries):
    """Add delivered recipients to their day's count (insert the day's row on first use)."""
    day = deliveries.occurred_at.date()
    bump = update(DeliveryStat).where(DeliveryStat.day == day).values(deliveries=DeliveryStat.deliveries + deliveries.count)
    if db.session.execute(bump).rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.execute(insert(DeliveryStat).values(day=day, deliveries=deliveries.count))
    except IntegrityError:
        # Another worker created the day's row between our UPDATE and INSERT.
        db.session.execute(bump)


def apply_events(events, report_key, rules=Rules()):
    """Apply parsed events under `rules`; returns a short description of what was done."""
    done = []
    # One order for every transaction's row locks: two messages touching the same members
    # then queue behind each other instead of deadlocking.
    for event in sorted(events, key=lambda e: getattr(e, "email", "")):
        if isinstance(event, Bounce):
            found = record_bounce(event, report_key, rules)
            done.append(f"bounce:{event.bounce_type}:{'member' if found else 'unknown'}")
        elif isinstance(event, Complaint):
            found = record_complaint(event, report_key, rules.deactivate_on_complaint)
            done.append(f"complaint:{'member' if found else 'unknown'}")
        elif isinstance(event, Deliveries):
            count_deliveries(event)
            done.append(f"delivery:{event.count}")
        else:
            done.append(f"ignored:{event.kind}")
    return done
