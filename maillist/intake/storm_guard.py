"""The bounce-storm guard: a burst of permanent bounces from one receiving domain pauses deactivations there.

A provider that blocklists SES's sending addresses for an hour, or our own broken DKIM key, makes
every recipient at that provider bounce at once. Acting on each bounce alone would deactivate all
of them. So when the members of one domain whose permanent bounces fall within a window (of event
time, either side of the new bounce) reach a count (BOUNCE_STORM_COUNT) or a share of the domain's
members (BOUNCE_STORM_SHARE percent, at least SHARE_FLOOR members), the guard opens a hold on
that domain:

- the deactivations the window's earlier bounces made are undone (the member is active again,
  with the bounce status it had), and those bounces are marked `undone`;
- every later permanent bounce from that domain is logged and marked `held`, with no effect on
  its member, until an administrator releases (applies) or dismisses the hold
  (maillist.bounces.storm_holds).

Called inside the intake's transaction, by maillist.intake.effects only, with an ORM session
joined to that transaction's connection.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from maillist import member_state
from maillist.models import BounceLog, Member, StormHold
from maillist.vocabulary import BOUNCE, PERMANENT, UNDONE

log = logging.getLogger(__name__)

# The share rule needs this many members bouncing: two of a three-person company is no storm.
SHARE_FLOOR = 5


@dataclass(frozen=True)
class StormLimits:
    """When the guard opens a hold: `count` members, or `share` percent of the domain's (0 turns either off)."""

    count: int = 10
    share: int = 50
    window: int = 3600

    @classmethod
    def from_config(cls, config):
        return cls(config["BOUNCE_STORM_COUNT"], config["BOUNCE_STORM_SHARE"], config["BOUNCE_STORM_WINDOW"])

    @property
    def off(self):
        return not self.count and not self.share


def domain_of(email):
    """The receiving domain of an address, lower case ('' when there is none)."""
    return email.rpartition("@")[2].lower()


def open_hold(session, domain):
    """The open hold on `domain`, or None."""
    return session.scalar(select(StormHold).where(StormHold.open_domain == domain))


def permanent_bounces_near(session, domain, occurred_at, window):
    """The permanent bounces of members at `domain` within `window` seconds of `occurred_at`, not yet in a hold."""
    span = timedelta(seconds=window)
    return session.scalars(
        select(BounceLog).where(
            BounceLog.domain == domain,
            BounceLog.event == BOUNCE,
            BounceLog.bounce_type == PERMANENT,
            BounceLog.member_id.is_not(None),
            BounceLog.hold_id.is_(None),
            BounceLog.occurred_at.between(occurred_at - span, occurred_at + span),
        )
    ).all()


def members_at(session, domain):
    """How many members have an address at `domain`."""
    return session.scalar(select(func.count()).select_from(Member).where(
        func.lower(Member.email).endswith(f"@{domain}", autoescape=True)))


def is_storm(session, bouncing, domain, limits):
    """Whether `bouncing` members of `domain` within one window are a storm under `limits`."""
    if limits.count and bouncing >= limits.count:
        return True
    if limits.share and bouncing >= SHARE_FLOOR:
        return bouncing * 100 >= limits.share * members_at(session, domain)
    return False


def hold_for(session, bounce, member_id, reason, limits):
    """The hold this permanent bounce falls into (an open one, or one it opens now), or None.

    Opening a hold undoes the deactivations of the bounces before it in the window.
    """
    if limits.off:
        return None
    domain = domain_of(bounce.email)
    hold = open_hold(session, domain)
    if hold is not None:
        return hold
    earlier = permanent_bounces_near(session, domain, bounce.occurred_at, limits.window)
    bouncing = {row.member_id for row in earlier} | {member_id}
    if not is_storm(session, len(bouncing), domain, limits):
        return None
    reasons = Counter(row.reason for row in earlier)
    reasons[reason] += 1
    hold = open_new_hold(session, domain, reasons.most_common(1)[0][0])
    for row in earlier:
        row.hold_id = hold.id
        if row.status_before is not None and undo_deactivation(session, row):
            row.held = UNDONE
    log.warning("bounce storm: %d members at %s bounced within %ds (%s); deactivations there are held",
                len(bouncing), domain, limits.window, hold.reason)
    return hold


def open_new_hold(session, domain, reason):
    """Insert the open hold on `domain`; when another worker opened it a moment ago, that one."""
    try:
        with session.begin_nested():
            hold = StormHold(domain=domain, open_domain=domain, reason=reason)
            session.add(hold)
    except IntegrityError:
        return open_hold(session, domain)
    return hold


def undo_deactivation(session, row):
    """Make the member `row` deactivated active again with its earlier status, unless staff changed them since."""
    decision = member_state.change(session.connection(), member_state.storm_undone, row.status_before, member_id=row.member_id)
    return decision is not None and decision.changed
