"""Keeping the bounce tables small (deleting old rows in short batches), and letting soft members
whose bounces have gone stale return to clean."""

from datetime import timedelta

from sqlalchemy import delete, func, select, text

from maillist import member_state, unit_of_work
from maillist.extensions import db
from maillist.models import BounceLog, IntakeCount, Member, ProcessedReport
from maillist.models.types import utcnow
from maillist.vocabulary import RESET, SOFT

CLEANUP_BATCH = 5000
# SQLite has one writer: smaller batches keep each hold of the write lock short.
SQLITE_CLEANUP_BATCH = 500


def count_older(model, column, cutoff):
    return db.session.scalar(select(func.count()).select_from(model).where(column < cutoff))


def cleanup(days, dry_run=False, batch=None, on_batch=lambda deleted: None):
    """Delete bounce logs, processed-message records and intake counts older than `days` days; returns counts.

    Each batch is its own short transaction, so the webhook never waits long for a lock;
    `on_batch(rows deleted)` is called after each (the command's progress bar).
    """
    batch = batch or (SQLITE_CLEANUP_BATCH if db.engine.dialect.name == "sqlite" else CLEANUP_BATCH)
    cutoff = utcnow() - timedelta(days=days)
    targets = ((BounceLog, BounceLog.occurred_at), (ProcessedReport, ProcessedReport.received_at),
               (IntakeCount, IntakeCount.hour))
    if dry_run:
        return {model.__tablename__: count_older(model, column, cutoff) for model, column in targets}
    removed = {}
    for model, column in targets:
        removed[model.__tablename__] = 0
        while deleted := unit_of_work.transaction(delete_batch, model, column, cutoff, batch):
            checkpoint()
            removed[model.__tablename__] += deleted
            on_batch(deleted)
    return removed


def delete_batch(model, column, cutoff, batch):
    """Delete up to `batch` of the oldest rows of `model` from before `cutoff`; how many."""
    ids = db.session.scalars(select(model.id).where(column < cutoff).order_by(model.id).limit(batch)).all()
    if ids:
        db.session.execute(delete(model).where(model.id.in_(ids)))
    return len(ids)


def soft_candidates(window_days, now=None):
    """The ids of soft members with no bounce for `window_days`."""
    cutoff = (now or utcnow()) - timedelta(days=window_days)
    return db.session.scalars(select(Member.id).where(Member.bounce_status == SOFT, Member.last_bounce_at < cutoff)).all()


def expire_soft(window_days, dry_run=False, now=None, on_member=lambda: None):
    """Return to clean every soft member with no bounce for `window_days` (SOFT_BOUNCE_WINDOW_DAYS),
    each with a history entry saying so; returns how many. Whether they are active is left alone.
    `on_member()` is called after each candidate (the command's progress bar)."""
    if not window_days:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=window_days)
    ids = soft_candidates(window_days, now)
    if dry_run:
        return len(ids)
    # Candidates read first; each is decided again on its locked row, in a unit of its own.
    returned = 0
    for member_id in ids:
        returned += unit_of_work.transaction(expire_one, member_id, cutoff, window_days)
        on_member()
    return returned


def expire_one(member_id, cutoff, window_days):
    """Return one member to clean, decided on their locked row: a bounce that arrived meanwhile keeps them soft."""
    decision = member_state.change(db.session.connection(), member_state.soft_expired, cutoff, window_days,
                                   member_id=member_id)
    if decision is None or not decision.changed:
        return False
    db.session.add(BounceLog(member_id=member_id, email=decision.before.email, event=RESET,
                             occurred_at=utcnow(), details=decision.why))
    return True


def checkpoint():
    """On SQLite, fold the write-ahead log back into the database after each batch, outside the
    writer queue: writers carry on meanwhile, and no webhook commit inherits a large automatic
    checkpoint (measured in bench/cleanup_stall.py). Other databases need nothing."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
        db.session.rollback()  # ends the session's transaction: there is nothing to commit


def totals():
    """Counts for `flask bounces stats`: members by status, events by kind, processed messages."""
    from maillist.models import Member

    members = dict(db.session.execute(select(Member.bounce_status, func.count()).group_by(Member.bounce_status)).all())
    inactive = db.session.scalar(select(func.count()).select_from(Member).where(Member.active.is_(False)))
    events = db.session.execute(
        select(BounceLog.event, BounceLog.bounce_type, func.count()).group_by(BounceLog.event, BounceLog.bounce_type)
    ).all()
    processed = db.session.scalar(select(func.count()).select_from(ProcessedReport))
    return {"members": members, "inactive": inactive, "events": events, "processed": processed}
