"""`flask bounces notify`: a digest to list owners of the members their lists lost to hard bounces and complaints.

Each deactivation is told once: the events a digest covered are marked (`BounceLog.notified_at`)
after every recipient's mail was accepted by the SMTP server (SMTP_HOST, SMTP_PORT: the local
Postfix in docker-compose); when the server fails part-way, nothing is marked and the next run
sends again (so a recipient whose mail went through may hear of a member twice then). A member's owners are the owners of the lists they are on; members on
no list with an owner go to NOTIFY_ADMIN. Run it from cron, after `flask bounces cleanup`.
"""

import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import and_, or_, select, update

from maillist.bounce_reasons import LABELS
from maillist.extensions import db
from maillist.models import BounceLog, MailingList, Member, Subscription
from maillist.models.types import utcnow
from maillist.unit_of_work import writes
from maillist.vocabulary import BOUNCE, COMPLAINT, HARD, HOLD_RELEASED, PERMANENT


class NoticeFailed(Exception):
    """The SMTP server did not take a digest; nothing was marked as told."""


@dataclass
class Digest:
    """What one recipient is told: the members, each with why and on which lists."""

    recipient: str
    members: dict = field(default_factory=dict)  # member id -> (email, why, lists)


def pending_events():
    """Deactivating events not yet told of, whose member is still inactive."""
    deactivating = or_(
        and_(BounceLog.event == BOUNCE, BounceLog.bounce_type == PERMANENT, Member.bounce_status == HARD,
             or_(BounceLog.held.is_(None), BounceLog.held == HOLD_RELEASED)),
        BounceLog.event == COMPLAINT,
    )
    return db.session.execute(
        select(BounceLog, Member).join(Member, BounceLog.member_id == Member.id)
        .where(BounceLog.notified_at.is_(None), Member.active.is_(False), deactivating)
        .order_by(BounceLog.occurred_at, BounceLog.id)
    ).all()


def why(event):
    if event.event == COMPLAINT:
        return f"complained ({event.feedback_type or 'no feedback type'})"
    return f"hard bounce: {LABELS.get(event.reason, 'reason not given')}" + (f" ({event.status})" if event.status else "")


def digests(admin):
    """{recipient: Digest} for every pending event, and the events with no one to tell."""
    found, events_for, untold = {}, defaultdict(list), []
    for event, member in pending_events():
        lists = db.session.scalars(select(MailingList).join(Subscription).where(Subscription.member_id == member.id)).all()
        recipients = sorted({owner for mailing_list in lists for owner in mailing_list.owner_list}) or ([admin] if admin else [])
        if not recipients:
            untold.append(event)
            continue
        for recipient in recipients:
            digest = found.setdefault(recipient, Digest(recipient))
            digest.members.setdefault(member.id, (member.email, why(event), sorted(lst.address for lst in lists)))
            events_for[recipient].append(event)
    return found, events_for, untold


def message_for(digest, config):
    """The digest as an email."""
    base = (config.get("PUBLIC_URL") or "").rstrip("/")
    count = len(digest.members)
    lines = [f"maillist stopped sending to {count} member{'s' if count != 1 else ''} since the last notice:", ""]
    for member_id, (email, reason, lists) in sorted(digest.members.items(), key=lambda item: item[1][0]):
        lines.append(f"- {email}: {reason}; lists: {', '.join(lists) or 'none'}")
        if base:
            lines.append(f"  history: {base}/members/{member_id}/bounces")
    lines += ["", "A hard bounce means the address is gone; a complaint means the person marked list mail as spam.",
              "Staff can reactivate a member (Reset Bounce Status) once the address works again."]
    message = EmailMessage()
    message["From"] = config["NOTIFY_FROM"]
    message["To"] = digest.recipient
    message["Subject"] = f"maillist: {count} member{'s' if count != 1 else ''} deactivated"
    message["Message-ID"] = make_msgid(domain=config["NOTIFY_FROM"].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join(lines))
    return message


def notify(dry_run=False):
    """Send every digest due; returns ({recipient: members told}, events with no one to tell). Raises NoticeFailed."""
    config = current_app.config
    found, events_for, untold = digests(config["NOTIFY_ADMIN"])
    told = {recipient: len(digest.members) for recipient, digest in found.items()}
    if dry_run or not found:
        return told, len(untold)
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
            for recipient, digest in sorted(found.items()):
                smtp.send_message(message_for(digest, config), to_addrs=[recipient])
    except (OSError, smtplib.SMTPException) as error:
        raise NoticeFailed(f"the SMTP server at {config['SMTP_HOST']}:{config['SMTP_PORT']} did not take the digests: "
                           f"{type(error).__name__}: {error}") from None
    mark_notified([event.id for events in events_for.values() for event in events])
    return told, len(untold)


@writes
def mark_notified(event_ids):
    """Mark the events the digests told of as told (after the mail server took them: no lock is held across SMTP)."""
    for start in range(0, len(event_ids), 1000):
        db.session.execute(update(BounceLog).where(BounceLog.id.in_(event_ids[start:start + 1000]))
                           .values(notified_at=utcnow()))
