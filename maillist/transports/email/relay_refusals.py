"""List copies SES refused at SMTP time: told to the list's owners, never counted against a member.

Postfix returns a copy SES refused (`554 Message rejected: ...`, `554 Transaction failed: ...`)
to that copy's envelope sender, the member's bounce address, so the report arrives through the
bounce pipe like any bounce. But SES refused the post (its From, its content, its size), not the
member's address: counting it would deactivate every member for one bad post. A report written
by this mail server (Reporting-MTA is POSTFIX_MYHOSTNAME) about the relay (Remote-MTA is SES's
endpoint or POSTFIX_RELAYHOST) is such a refusal: the list's owners hear of it once per post.
"""

import logging
import smtplib
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import delete, select

from maillist import audit, unit_of_work
from maillist.extensions import db
from maillist.models import AuditLog, MailingList
from maillist.transports.email.report_parts import cut, field_groups, part_of_type

log = logging.getLogger("maillist.delivery")

AUDIT_ACTION = "list.relay-refused"


@dataclass(frozen=True)
class RelayRefusal:
    """What the relay said about one list copy, and which post it was."""

    diagnostic: str
    post_id: str
    subject: str


def mta_name(value):
    """The host in a `dns; host` MTA field, lower-cased, or ''."""
    return str(value or "").partition(";")[2].strip().strip("[]").lower()


def relay_host(config):
    """The relay list mail leaves through: POSTFIX_RELAYHOST's host, else SES_SMTP_HOST."""
    relay = config.get("POSTFIX_RELAYHOST") or config.get("SES_SMTP_HOST") or ""
    host = relay.strip()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    else:
        host = host.partition(":")[0]
    return host.lower()


def read_refusal(message, config):
    """The RelayRefusal a bounce email (as `parse_report` gave it) reports, or None when it is no
    report of this server about the relay."""
    own, relay = (config.get("POSTFIX_MYHOSTNAME") or "").lower(), relay_host(config)
    if message is None or not own or not relay:
        return None
    status = part_of_type(message, "message/delivery-status")
    if status is None:
        return None
    groups = field_groups(status)
    if not groups or mta_name(groups[0].get("Reporting-MTA")) != own:
        return None
    for group in groups[1:]:
        if mta_name(group.get("Remote-MTA")) == relay and str(group.get("Action", "")).strip().lower() == "failed":
            original = part_of_type(message, "text/rfc822-headers") or part_of_type(message, "message/rfc822")
            headers = original_headers(original)
            return RelayRefusal(cut(group.get("Diagnostic-Code"), 1000) or "refused",
                                cut(headers.get("Message-ID"), 200) or "", cut(headers.get("Subject"), 200) or "")
    return None


def original_headers(part):
    if part is None:
        return {}
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return payload[0]
    text = payload if isinstance(payload, str) else ""
    return message_from_bytes(text.encode("utf-8", "replace"), policy=policy.compat32)


def already_reported(mailing_list, refusal):
    return db.session.scalar(select(AuditLog.id).where(
        AuditLog.action == AUDIT_ACTION, AuditLog.target == mailing_list.address[:255],
        # autoescape: a Message-ID holding % or _ must not match another post's entry.
        AuditLog.details.startswith(f"{refusal.post_id} ", autoescape=True) if refusal.post_id else AuditLog.id.is_(None))) is not None


def report(mailing_list, refusal, config):
    """Tell the list's owners (or NOTIFY_ADMIN) once per post; audited. Raises OSError/SMTPException if mail fails.

    The audit entry is the claim: written first, in a unit of work that locks the list's row (and
    holds SQLite's writer queue), so of the refused copies' reports arriving together exactly one
    tells the owners; no lock is held while mailing them. If the mail fails the claim is taken
    back, and Postfix's retry of that report tells them then.
    """
    claim = unit_of_work.transaction(claim_report, mailing_list.id, refusal)
    if claim is None:
        return False
    recipients = mailing_list.owner_list or ([config["NOTIFY_ADMIN"]] if config.get("NOTIFY_ADMIN") else [])
    try:
        if recipients:
            with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
                smtp.send_message(notice(mailing_list, refusal, config), to_addrs=recipients)
        else:
            log.warning("relay refused a post to %s and the list has no owner: %s", mailing_list.address, refusal.diagnostic)
    except (OSError, smtplib.SMTPException):
        unit_of_work.transaction(lambda: db.session.execute(delete(AuditLog).where(AuditLog.id == claim)))
        raise
    return True


def claim_report(list_id, refusal):
    """The id of the audit entry that claims telling the owners of this post, or None when told already."""
    mailing_list = db.session.scalar(select(MailingList).where(MailingList.id == list_id).with_for_update())
    if mailing_list is None or already_reported(mailing_list, refusal):
        return None
    entry = audit.record(AUDIT_ACTION, mailing_list.address, f"{refusal.post_id} {refusal.diagnostic}"[:2000], actor="relay")
    db.session.flush()
    return entry.id


def notice(mailing_list, refusal, config):
    message = EmailMessage()
    message["From"] = config["NOTIFY_FROM"]
    message["To"] = ", ".join(mailing_list.owner_list) or config["NOTIFY_ADMIN"]
    message["Subject"] = f"maillist: a post to {mailing_list.address} was refused by the mail relay"
    message["Message-ID"] = make_msgid(domain=config["NOTIFY_FROM"].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join([
        f"The mail relay (Amazon SES) refused the copies of a post to {mailing_list.name} ({mailing_list.address}).",
        "No member's bounce record changed: the refusal is about the post, not their addresses.",
        "",
        f"Subject: {refusal.subject or '(none)'}",
        f"Message-ID: {refusal.post_id or '(none)'}",
        f"The relay said: {refusal.diagnostic}",
        "",
        "Common causes: the author's address is not verified in SES and FROM_REWRITE is never; the post is",
        "larger than SES takes; SES found its content unacceptable.",
    ]))
    return message
