"""List mail, one envelope per member: what Postfix's list pipe hands to `flask lists deliver`.

Each active, not hard-bounced subscriber gets their own SMTP transaction on Postfix's loopback
re-injection listener, with their own signed bounce address as envelope sender (see
`maillist.bounce_addresses`), as Mailman does for VERP. The list headers, and a From that SES
accepts (`maillist.lists.headers`), are written once, here.
"""

import logging
import re
import smtplib
import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser

from flask import current_app

from maillist.bounce_addresses import bounce_address
from maillist.directory import find_list_by_address, readers_of
from maillist.extensions import db
from maillist.lists import footer
from maillist.lists.headers import list_mail_headers
from maillist.lists.posting import from_refusal
from maillist.lists.unsubscribe import personal_headers, unsubscribe_link
from maillist.models import Member

log = logging.getLogger("maillist.delivery")

# sysexits.h, as Postfix's pipe(8) reads them: 0 done, 75 try again later. Nothing this pipe
# decides after Postfix accepted a post is returned to its envelope sender, whom anyone can forge
# on an open list (backscatter): what the policy service could not refuse at SMTP time is
# discarded and logged instead.
EX_OK, EX_TEMPFAIL = 0, 75
CONNECTION_ATTEMPTS = 3
MAX_HEADER_BYTES = 256 * 1024


@dataclass(frozen=True)
class Delivery:
    """What became of one list message, and the exit code Postfix should see."""

    exit_code: int
    sent: int = 0
    refused: tuple = ()
    reason: str = ""


def discard(list_address, reason, sent=0, refused=()):
    """A post that goes no further, logged and never returned to its envelope sender."""
    log.warning("post to %s discarded: %s", list_address, reason)
    return Delivery(EX_OK, sent, tuple(refused), f"discarded: {reason}")


def recipients(mailing_list):
    """(member id, address) of every subscriber who should get list mail, by id."""
    return db.session.execute(readers_of(mailing_list, Member.id, Member.email).order_by(Member.id)).all()


def deliver(list_address, raw, host, port):
    """Send `raw` to every member of the list at `list_address`, each with their own bounce address."""
    mailing_list = find_list_by_address(list_address)
    if mailing_list is None or not mailing_list.active:
        # Postfix's tables take only active lists: one was switched off or removed since.
        return discard(list_address, "no such list")
    froms = BytesHeaderParser().parsebytes(raw[:MAX_HEADER_BYTES]).get_all("From", [])
    if len(froms) != 1:
        return discard(list_address, f"the post has {len(froms)} From headers, not one")
    refused = from_refusal(mailing_list, froms[0])
    if refused:
        # The envelope sender passed the rule at SMTP time; the From a reader sees did not.
        return discard(list_address, refused)
    members = recipients(mailing_list)
    if not members:
        # The policy service refuses a list with nobody to deliver to at SMTP time: the last left since.
        return discard(list_address, "this list has nobody to deliver to")
    message, marker = list_copy(raw, mailing_list, current_app.config)
    envelopes = personal_envelopes(mailing_list, members, current_app.config.get("PUBLIC_URL", ""), marker)
    db.session.rollback()  # no transaction held open while mail is sent
    pacer = Pacer(current_app.config.get("SES_MAX_SEND_RATE", 0))
    return send_all(envelopes, message, host, port, pacer, marker.encode() if marker else None, mailing_list.address)


def list_copy(raw, mailing_list, config):
    """(the copy every member shares, as CRLF bytes; the marker its footer's link stands in for, or None)."""
    front, rest = list_mail_headers(raw, mailing_list, config)
    marker = footer.placeholder() if mailing_list.footer else None
    body = footer.with_footer(rest, mailing_list.footer, mailing_list.name, marker) if marker else None
    if body is None:
        marker, body = None, rest
    # Postfix pipes the message with bare LF line ends; SMTP wants CRLF.
    return re.sub(rb"\r?\n", b"\r\n", front + body), marker


def personal_envelopes(mailing_list, members, public_url, marker):
    """(bounce address, recipient, personal header lines, footer link) for each (member id, address)."""
    return [(bounce_address(mailing_list.address, member_id, email), email,
             personal_headers(mailing_list, member_id, email, public_url),
             footer.link_for_body(unsubscribe_link(mailing_list, member_id, email, public_url)) if marker else b"")
            for member_id, email in members]


class Pacer:
    """Spaces sends evenly just under `rate` per second (0: no pacing), so the relay to SES never
    outruns its maximum send rate: Postfix's own rate settings count whole seconds per destination,
    too coarse. The 10% margin absorbs the jitter of Postfix's queue between re-injection and relay."""

    MARGIN = 0.9

    def __init__(self, rate, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1 / (rate * self.MARGIN) if rate else 0
        self.clock, self.sleep = clock, sleep
        self.next_at = None

    def wait(self):
        if not self.interval:
            return
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def send_all(envelopes, message, host, port, pacer=None, marker=None, list_address=""):
    """One SMTP transaction per (sender, recipient, personal header lines, link) over one connection, reconnecting
    where it drops; the link takes the place of `marker` in the body."""
    pacer = pacer or Pacer(0)
    sent, refused, pending = 0, [], list(envelopes)
    for attempt in range(1, CONNECTION_ATTEMPTS + 1):
        try:
            with smtplib.SMTP(host, port, timeout=60) as smtp:
                while pending:
                    sender, recipient, personal, link = pending[0]
                    pacer.wait()
                    try:
                        smtp.sendmail(sender, [recipient], personal + (message.replace(marker, link) if marker else message))
                        sent += 1
                    except smtplib.SMTPRecipientsRefused as error:
                        code, reason = error.recipients[recipient]
                        refused.append(recipient)
                        log.warning("delivery to %s refused: %s %s", recipient, code, reason.decode(errors="replace"))
                        smtp.rset()
                    pending.pop(0)
            break
        except smtplib.SMTPResponseException as error:
            if 500 <= error.smtp_code < 600:
                # Refused for what the message is (too large, a line too long): trying again cannot help.
                reason = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
                return discard(list_address, f"the message was refused: {error.smtp_code} {reason}", sent, refused)
            log.warning("re-injection failed (attempt %d, %d left to send): %s", attempt, len(pending), error)
        except (OSError, smtplib.SMTPException) as error:
            log.warning("re-injection failed (attempt %d, %d left to send): %s", attempt, len(pending), error)
    if pending:
        return Delivery(EX_TEMPFAIL, sent, tuple(refused), f"re-injection failed with {len(pending)} left to send")
    return Delivery(EX_OK, sent, tuple(refused))
