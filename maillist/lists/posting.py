"""Who may post to a list, and the Postfix policy service that asks it while the mail is arriving.

Postfix's `check_policy_service` (the policy delegation protocol, Postfix's standard for this)
sends one request per recipient: attribute lines ending in an empty line. For a list address
whose rule refuses the sender, the answer is `REJECT` with the reason, so the sender's own
server tells them at once and no bounce goes to an address anyone could have forged.
"""

import logging
from email.utils import getaddresses

from maillist.addresses import normalise_email
from maillist.bounce_addresses import BOUNCES_SUFFIX
from maillist.directory import find_list_by_address, readers_of
from maillist.extensions import db
from maillist.models import Member
from maillist.vocabulary import POST_OPEN, POST_SENDERS

log = logging.getLogger("maillist.posting")

MAX_REQUEST_LINES = 100
MAX_LINE = 10_000


def is_member(mailing_list, address):
    """Whether `address` is an active, subscribed member of the list."""
    return db.session.scalar(readers_of(mailing_list, Member.id).where(Member.email == normalise_email(address))) is not None


def refusal(mailing_list, sender):
    """Why `sender` may not post to the list, or None when they may."""
    sender = normalise_email(sender)
    if mailing_list.post_policy == POST_OPEN:
        return None
    if mailing_list.post_policy == POST_SENDERS:
        if sender and sender in mailing_list.sender_list:
            return None
        return f"only its listed senders may post to {mailing_list.address}"
    if sender and is_member(mailing_list, sender):
        return None
    return f"only members may post to {mailing_list.address}"


def list_for_recipient(recipient):
    """The list a recipient address names (club@ or club+anything@), or None (bounce addresses included)."""
    # The canonical form: Postfix takes "club@lists.example.org." and "club"@lists.example.org as the list.
    local, at, domain = normalise_email(recipient).rpartition("@")
    base = local.partition("+")[0]
    if not at or not base or base.endswith(BOUNCES_SUFFIX):
        return None
    return find_list_by_address(f"{base}@{domain}")


def has_readers(mailing_list):
    """Whether anyone would get the list's mail (an active member who is not hard-bounced)."""
    return db.session.scalar(readers_of(mailing_list, Member.id).limit(1)) is not None


def decide(request):
    """The policy answer (`DUNNO` or `REJECT ...`) for one Postfix policy request (a dict).

    Everything that would stop a post is asked here, while the sender's own server is still on the
    line: after Postfix accepts it, a refusal could only be mailed to an envelope sender anyone can
    forge, so the list pipe discards instead (maillist.lists.delivery)."""
    mailing_list = list_for_recipient(request.get("recipient", ""))
    if mailing_list is None or not mailing_list.active:
        return "DUNNO"
    reason = refusal(mailing_list, request.get("sender", ""))
    if reason is None and not has_readers(mailing_list):
        reason = f"{mailing_list.address} has nobody to deliver to"
    db.session.rollback()
    if reason is None:
        return "DUNNO"
    log.info("posting refused: sender=%s list=%s client=%s", request.get("sender") or "<>", mailing_list.address,
             request.get("client_address", ""))
    return f"REJECT 5.7.1 {reason}"


def serve(lines, write):
    """Answer policy requests read from `lines` (text lines) with `write`, until the input ends."""
    request, count = {}, 0
    for line in lines:
        line = line.rstrip("\r\n")[:MAX_LINE]
        if line:
            count += 1
            name, _, value = line.partition("=")
            if count <= MAX_REQUEST_LINES:
                request[name.strip()] = value
            continue
        write(f"action={decide(request)}\n\n")
        request, count = {}, 0


def from_refusal(mailing_list, header_value):
    """Why the From: header may not post (the same rule as the envelope sender), or None."""
    addresses = [address for _, address in getaddresses([header_value or ""]) if "@" in address]
    if not addresses:
        return None if mailing_list.post_policy == POST_OPEN else "the message has no From: address"
    for address in addresses:
        reason = refusal(mailing_list, address)
        if reason:
            return f"From: {normalise_email(address)}: {reason}"
    return None

