"""Figures for the bounce dashboard: windows of 24 hours, 7 and 30 days, and a daily series."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, distinct, func, or_, select, true

from maillist.bounce_reasons import DEAD_REASONS
from maillist.extensions import db
from maillist.models import AuditLog, BounceLog, DeliveryStat
from maillist.models.types import utcnow
from maillist.vocabulary import BOUNCE, BOUNCE_TYPES, COMPLAINT, HOLD_RELEASED, ONE_CLICK_UNSUBSCRIBE, PERMANENT

# SES puts an account under review above these rates.
BOUNCE_RATE_LIMIT = 0.05
COMPLAINT_RATE_LIMIT = 0.001
WINDOWS = (("Last 24 hours", timedelta(hours=24)), ("Last 7 days", timedelta(days=7)), ("Last 30 days", timedelta(days=30)))


@dataclass(frozen=True)
class WindowFigures:
    """What happened in one time window."""

    label: str
    permanent: int
    transient: int
    undetermined: int
    complaints: int
    deactivated: int
    deliveries: int | None  # None: no Delivery events were recorded, so the sent count is unknown
    unsubscribes: int = 0  # members who left a list with the one-click link or address in list mail

    @property
    def bounces(self):
        return self.permanent + self.transient + self.undetermined

    @property
    def sent(self):
        """Messages SES accepted for delivery: delivered plus bounced (when deliveries are known)."""
        return None if self.deliveries is None else self.deliveries + self.bounces

    @property
    def bounce_rate(self):
        return self.bounces / self.sent if self.sent else None

    @property
    def complaint_rate(self):
        return self.complaints / self.sent if self.sent else None

    @property
    def bounce_rate_alarm(self):
        return self.bounce_rate is not None and self.bounce_rate > BOUNCE_RATE_LIMIT

    @property
    def complaint_rate_alarm(self):
        return self.complaint_rate is not None and self.complaint_rate > COMPLAINT_RATE_LIMIT


def window_figures(label, length, deactivating_complaints=True, now=None, hard_bounce_policy="reason"):
    """Count the events of the last `length` of time."""
    since = (now or utcnow()) - length
    in_window = BounceLog.occurred_at >= since
    count_if = lambda condition: func.sum(case((condition, 1), else_=0))  # noqa: E731
    row = db.session.execute(
        select(
            *(count_if(and_(BounceLog.event == BOUNCE, BounceLog.bounce_type == kind)) for kind in BOUNCE_TYPES),
            count_if(BounceLog.event == COMPLAINT),
        ).where(in_window)
    ).one()
    # A Permanent bounce deactivated when its address was dead (rows from before reasons were read
    # have none, and deactivated on the type alone), or always under HARD_BOUNCE_POLICY=type;
    # never while a bounce-storm hold kept it, nor once the hold was dismissed.
    dead = true() if hard_bounce_policy == "type" else or_(BounceLog.reason.is_(None), BounceLog.reason.in_(sorted(DEAD_REASONS)))
    deactivating = and_(BounceLog.bounce_type == PERMANENT, dead,
                        or_(BounceLog.held.is_(None), BounceLog.held == HOLD_RELEASED))
    if deactivating_complaints:
        deactivating = or_(deactivating, BounceLog.event == COMPLAINT)
    deactivated = db.session.scalar(
        select(func.count(distinct(BounceLog.member_id))).where(in_window, BounceLog.member_id.is_not(None), deactivating)
    )
    days = db.session.execute(
        select(func.count(), func.sum(DeliveryStat.deliveries)).where(DeliveryStat.day >= since.date())
    ).one()
    deliveries = int(days[1]) if days[0] else None
    return WindowFigures(label, *(int(value or 0) for value in row), int(deactivated or 0), deliveries,
                         one_click_unsubscribes(since))


def one_click_unsubscribes(since):
    """Members who left a list with the one-click link or address in list mail since `since` (from the audit log)."""
    return db.session.scalar(select(func.count()).select_from(AuditLog)
                             .where(AuditLog.action == ONE_CLICK_UNSUBSCRIBE, AuditLog.created_at >= since))


def dashboard_figures(deactivating_complaints=True, now=None, hard_bounce_policy="reason"):
    """The figures for every window."""
    return [window_figures(label, length, deactivating_complaints, now, hard_bounce_policy) for label, length in WINDOWS]


def daily_series(days=30, now=None):
    """Bounces and complaints per UTC day for the last `days` days, oldest first."""
    today = (now or utcnow()).date()
    first = today - timedelta(days=days - 1)
    day = func.date(BounceLog.occurred_at)
    rows = db.session.execute(
        select(day, BounceLog.event, func.count())
        .where(BounceLog.occurred_at >= first, BounceLog.event.in_((BOUNCE, COMPLAINT)))
        .group_by(day, BounceLog.event)
    ).all()
    counts = {}
    for when, event, number in rows:
        when = when if isinstance(when, date) else date.fromisoformat(str(when))
        counts.setdefault(when, {BOUNCE: 0, COMPLAINT: 0})[event] = number
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), {BOUNCE: 0, COMPLAINT: 0})) for i in range(days)]
