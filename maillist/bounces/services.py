"""Staff actions on bounce records, and reading a member's history."""

from sqlalchemy import func, select

from maillist import audit, member_state
from maillist.extensions import db
from maillist.models import BounceLog
from maillist.models.types import utcnow
from maillist.unit_of_work import writes
from maillist.vocabulary import RESET

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


@writes
def reset_bounce_status(member, actor_email):
    """Clear a member's bounce count and status and reactivate them; the history keeps a record."""
    decision = member_state.change_member(db.session, member, member_state.reset, actor_email)
    db.session.add(BounceLog(member_id=member.id, email=member.email, event=RESET, occurred_at=utcnow(),
                             details=decision.why))
    audit.record("member.bounce_reset", member.email, decision.before.describe())
    return member
