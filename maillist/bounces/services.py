"""Staff actions on bounce records, and reading a member's history."""

from sqlalchemy import func, select

from maillist import audit
from maillist.extensions import db
from maillist.models import BounceLog
from maillist.models.types import utcnow
from maillist.vocabulary import CLEAN, RESET

HISTORY_PAGE_SIZE = 20


def bounce_history(member, page=1, per_page=HISTORY_PAGE_SIZE):
    """A page of a member's bounces, complaints and resets, newest first, with the total."""
    condition = BounceLog.member_id == member.id
    total = db.session.scalar(select(func.count()).select_from(BounceLog).where(condition))
    rows = db.session.scalars(
        select(BounceLog).where(condition)
        .order_by(BounceLog.occurred_at.desc(), BounceLog.id.desc())
        .limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).all()
    return rows, total


def reset_bounce_status(member, actor_email):
    """Clear a member's bounce count and status and reactivate them; the history keeps a record."""
    before = f"status={member.bounce_status} count={member.bounce_count} active={member.active}"
    member.bounce_count = 0
    member.bounce_status = CLEAN
    member.active, member.deactivated_by = True, None
    db.session.add(BounceLog(member_id=member.id, email=member.email, event=RESET, occurred_at=utcnow(),
                             details=f"reset by {actor_email} ({before})"))
    audit.record("member.bounce_reset", member.email, before)
    db.session.commit()
    return member
