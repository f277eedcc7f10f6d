"""One-click unsubscribe (RFC 8058): a personal, signed link and mail address on every list copy.

The token names the list and the member and carries a MAC over both and the member's address,
under a key derived from the bounce-address key: nothing secret is stored, a token cannot be
turned into another member's or list's, and a member id reused after a deletion does not make an
old token unsubscribe the newcomer (their address differs).

    List-Unsubscribe: <https://lists.example.org/unsubscribe/2.k.x3c...>, <mailto:club-unsubscribe+2.k.x3c...@lists.example.org>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click
"""

import base64
import hashlib
import hmac

from sqlalchemy import delete

from maillist import audit
from maillist.addresses import normalise_email
from maillist.bounce_addresses import DIGITS, base36, bounce_key, every_key
from maillist.extensions import db
from maillist.models import MailingList, Member, Subscription
from maillist.unit_of_work import writes
from maillist.vocabulary import ONE_CLICK_UNSUBSCRIBE

UNSUBSCRIBE_SUFFIX = "-unsubscribe"
MAC_LENGTH = 16
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
AUDIT_ACTION = ONE_CLICK_UNSUBSCRIBE


class BadUnsubscribeToken(ValueError):
    """The token is malformed, or not one this server signed for that member and list."""


def mac(list_id, member_id, email, bounce_key_=None):
    """The token's MAC under the current bounce-address key, or under `bounce_key_` (a retired one)."""
    key = hmac.new(bounce_key_ or bounce_key(), b"maillist one-click unsubscribe", hashlib.sha256).digest()
    digest = hmac.new(key, f"{list_id}\0{member_id}\0{email.lower()}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:MAC_LENGTH]


def token(list_id, member_id, email):
    """`<list id>.<member id>.<MAC>`, lower-case letters and digits only (safe in a URL and a local part)."""
    return f"{base36(list_id)}.{base36(member_id)}.{mac(list_id, member_id, email)}"


def unsubscribe_address(list_address, value):
    local, _, domain = list_address.lower().rpartition("@")
    return f"{local}{UNSUBSCRIBE_SUFFIX}+{value}@{domain}"


def personal_headers(mailing_list, member_id, email, public_url):
    """The List-Unsubscribe lines for one member's copy, as bytes with CRLF ends."""
    value = token(mailing_list.id, member_id, email)
    targets = [f"<mailto:{unsubscribe_address(mailing_list.address, value)}>"]
    lines = []
    if public_url:
        # RFC 8058 one-click needs an https URI; without PUBLIC_URL the mailto alone is offered.
        targets.insert(0, f"<{public_url.rstrip('/')}/unsubscribe/{value}>")
        lines.append(f"List-Unsubscribe-Post: {ONE_CLICK_BODY}\r\n")
    return (f"List-Unsubscribe: {', '.join(targets)}\r\n" + "".join(lines)).encode()


def unsubscribe_link(mailing_list, member_id, email, public_url):
    """The link a footer shows the member: the https page, or the mail address without PUBLIC_URL."""
    value = token(mailing_list.id, member_id, email)
    if public_url:
        return f"{public_url.rstrip('/')}/unsubscribe/{value}"
    return f"mailto:{unsubscribe_address(mailing_list.address, value)}"


def read_token(value):
    """(mailing list, member) a token names, or raises BadUnsubscribeToken. Reads, never writes."""
    parts = (value or "").strip().lower().split(".")
    if len(parts) != 3 or len(parts[2]) != MAC_LENGTH:
        raise BadUnsubscribeToken("malformed")
    list_part, member_part, signature = parts
    for part in (list_part, member_part):
        if not part or len(part) > 8 or any(c not in DIGITS for c in part):
            raise BadUnsubscribeToken("malformed")
    mailing_list = db.session.get(MailingList, int(list_part, 36))
    member = db.session.get(Member, int(member_part, 36))
    # Links in mail sent before a key was retired (BOUNCE_ADDRESS_OLD_KEYS) keep working.
    if mailing_list is None or member is None or not any(
            hmac.compare_digest(signature, mac(mailing_list.id, member.id, member.email, key)) for key in every_key()):
        raise BadUnsubscribeToken("not a token of ours")
    return mailing_list, member


def read_mail_address(recipient):
    """(mailing list, member) named by a `<list>-unsubscribe+<token>@<domain>` address, or raises BadUnsubscribeToken."""
    local, at, domain = normalise_email(recipient).rpartition("@")
    base, plus, value = local.partition("+")
    if not at or not plus or not base.endswith(UNSUBSCRIBE_SUFFIX):
        raise BadUnsubscribeToken("not an unsubscribe address")
    mailing_list, member = read_token(value)
    if mailing_list.address.lower() != f"{base[: -len(UNSUBSCRIBE_SUFFIX)]}@{domain}":
        raise BadUnsubscribeToken("the token is for another list")
    return mailing_list, member


@writes
def unsubscribe(mailing_list, member, via):
    """Take `member` off `mailing_list` (and off it only), audited; False when they were not on it.

    One DELETE decides: of two requests at once (a mail client's POST and the member's click),
    exactly one removes the row and is audited; the other finds nothing to do."""
    removed = db.session.execute(delete(Subscription).where(
        Subscription.list_id == mailing_list.id, Subscription.member_id == member.id)).rowcount
    if not removed:
        db.session.rollback()
        return False
    audit.record(AUDIT_ACTION, mailing_list.address, f"{member.email} via {via}", actor="member")
    return True
