"""Signed per-member bounce addresses (VERP): `club-bounces+<token>@lists.example.org`.

List mail leaves with one envelope per member, whose sender names that member and carries a MAC
under a server key. A bounce report then counts only through a valid token, and only for the
member the token names: no one can write a report that bounces somebody else.

The token is `<member id>.<day>.<MAC>`: the member id and the day the mail was sent (days since
2020-01-01) in base 36, then 13 characters of lower-case base 32 for 65 bits of HMAC-SHA256 over
the list address, the member id, the member's address and that day. So it survives mail systems
that lower-case local parts and keeps the local part well under 64 characters, and:

- it names one member for ever: a member who later gets the same id (SQLite reuses the ids of
  deleted rows) has another address, so a late bounce for the old member matches nobody;
- it counts for BOUNCE_ADDRESS_MAX_AGE_DAYS after its day and no longer: a leaked address does
  not control its member for ever;
- keys rotate: a key retired on a day (BOUNCE_ADDRESS_OLD_KEYS) still verifies the addresses it
  signed up to that day, for as long as they count.
"""

import base64
import hashlib
import hmac
import string
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import current_app

from maillist.addresses import normalise_email

BOUNCES_SUFFIX = "-bounces"
DELIMITER = "+"
MAC_LENGTH = 13
LOCAL_PART_LIMIT = 64
DIGITS = string.digits + string.ascii_lowercase
EPOCH = date(2020, 1, 1)
# A mail server's clock may run ahead of ours: a token dated this far in the future still counts.
CLOCK_SLACK = timedelta(days=1)


class BadBounceAddress(ValueError):
    """The address a report came to carries no token, or one that is not ours."""


@dataclass(frozen=True)
class BounceToken:
    """What a bounce address says, before its signature is checked (see `check_token`)."""

    list_address: str
    member_id: int
    sent_on: date
    signature: str


def today_utc():
    return datetime.now(timezone.utc).date()


def bounce_key():
    """The key tokens are signed with: BOUNCE_ADDRESS_KEY, or one derived from SECRET_KEY."""
    key = current_app.config.get("BOUNCE_ADDRESS_KEY")
    if key:
        return key.encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"maillist bounce addresses", hashlib.sha256).digest()


def retired_keys():
    """(day retired, key) for each key in BOUNCE_ADDRESS_OLD_KEYS."""
    return tuple((retired_on, key.encode()) for retired_on, key in current_app.config.get("BOUNCE_ADDRESS_OLD_KEYS", ()))


def every_key():
    """The current key, then the retired ones: what one-click unsubscribe links are checked with."""
    return (bounce_key(),) + tuple(key for _, key in retired_keys())


def base36(number):
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = DIGITS[digit] + text
        if not number:
            return text


def mac(key, list_address, member_id, email, sent_on):
    said = f"{list_address.lower()}\0{member_id}\0{email.lower()}\0{sent_on.isoformat()}"
    digest = hmac.new(key, said.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:MAC_LENGTH]


def list_bounce_address(list_address):
    """The list's bare bounce address: `club-bounces@lists.example.org`."""
    local, _, domain = list_address.lower().rpartition("@")
    return f"{local}{BOUNCES_SUFFIX}@{domain}"


def bounce_address(list_address, member_id, email, sent_on=None):
    """The signed envelope sender for list mail from `list_address` to member `member_id` at `email`, sent today."""
    sent_on = sent_on or today_utc()
    local, _, domain = list_bounce_address(list_address).rpartition("@")
    token = f"{base36(member_id)}.{base36((sent_on - EPOCH).days)}.{mac(bounce_key(), list_address, member_id, email, sent_on)}"
    address = f"{local}{DELIMITER}{token}@{domain}"
    if len(address.rpartition("@")[0]) > LOCAL_PART_LIMIT:
        raise ValueError(f"the bounce address of {list_address} would be longer than an address may be")
    return address


def number(text):
    """A base-36 number of at most 8 digits, or None."""
    if not text or len(text) > 8 or any(c not in DIGITS for c in text):
        return None
    return int(text, 36)


def read_bounce_address(recipient):
    """The BounceToken a bounce address carries, its signature not yet checked; raises BadBounceAddress."""
    local, at, domain = normalise_email(recipient).rpartition("@")
    base, plus, token = local.partition(DELIMITER)
    if not at or not plus or not base.endswith(BOUNCES_SUFFIX) or not token:
        raise BadBounceAddress("the report came to the bare bounce address, without a member token")
    list_address = f"{base[: -len(BOUNCES_SUFFIX)]}@{domain}"
    parts = token.split(".")
    member_id, day = (number(parts[0]), number(parts[1])) if len(parts) == 3 else (None, None)
    if member_id is None or day is None or len(parts[2]) != MAC_LENGTH or day > (date.max - EPOCH).days:
        raise BadBounceAddress("the member token is malformed")
    return BounceToken(list_address, member_id, EPOCH + timedelta(days=day), parts[2])


def check_token(token, email, today=None):
    """Raise BadBounceAddress unless `token` was signed for the member at `email`, under a key that
    signed on its day, and still counts (BOUNCE_ADDRESS_MAX_AGE_DAYS)."""
    today = today or today_utc()
    max_age = current_app.config["BOUNCE_ADDRESS_MAX_AGE_DAYS"]
    if token.sent_on > today + CLOCK_SLACK:
        raise BadBounceAddress(f"the member token is dated {token.sent_on}, in the future")
    if (today - token.sent_on).days > max_age:
        raise BadBounceAddress(f"the member token is from {token.sent_on}, more than {max_age} days ago")
    keys = [bounce_key()] + [key for retired_on, key in retired_keys() if token.sent_on <= retired_on]
    expected = [mac(key, token.list_address, token.member_id, email, token.sent_on) for key in keys]
    if not any(hmac.compare_digest(token.signature, value) for value in expected):
        raise BadBounceAddress("the member token's signature does not match")
