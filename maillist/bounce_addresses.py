"""Signed per-member bounce addresses (VERP): `club-bounces+<token>@lists.example.org`.

List mail leaves with one envelope per member, whose sender names that member and carries a MAC
under a server key. A bounce report then counts only through a valid token, and only for the
member the token names: no one can write a report that bounces somebody else.

The token is `<member id in base 36>.<MAC>`: 13 characters of lower-case base 32 for 65 bits
of HMAC-SHA256 over the list address and the member id, so it survives mail systems that
lower-case local parts, and keeps the local part well under 64 characters.
"""

import base64
import hashlib
import hmac
import string

from flask import current_app

BOUNCES_SUFFIX = "-bounces"
DELIMITER = "+"
MAC_LENGTH = 13
LOCAL_PART_LIMIT = 64
DIGITS = string.digits + string.ascii_lowercase


class BadBounceAddress(ValueError):
    """The address a report came to carries no token, or one that is not ours."""


def bounce_key():
    """The key tokens are signed with: BOUNCE_ADDRESS_KEY, or one derived from SECRET_KEY."""
    key = current_app.config.get("BOUNCE_ADDRESS_KEY")
    if key:
        return key.encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"maillist bounce addresses", hashlib.sha256).digest()


def base36(number):
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = DIGITS[digit] + text
        if not number:
            return text


def mac(list_address, member_id):
    digest = hmac.new(bounce_key(), f"{list_address.lower()}\0{member_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:MAC_LENGTH]


def list_bounce_address(list_address):
    """The list's bare bounce address: `club-bounces@lists.example.org`."""
    local, _, domain = list_address.lower().rpartition("@")
    return f"{local}{BOUNCES_SUFFIX}@{domain}"


def bounce_address(list_address, member_id):
    """The signed envelope sender for list mail from `list_address` to member `member_id`."""
    local, _, domain = list_bounce_address(list_address).rpartition("@")
    address = f"{local}{DELIMITER}{base36(member_id)}.{mac(list_address, member_id)}@{domain}"
    if len(address.rpartition("@")[0]) > LOCAL_PART_LIMIT:
        raise ValueError(f"the bounce address of {list_address} would be longer than an address may be")
    return address


def read_bounce_address(recipient):
    """The (list address, member id) a signed bounce address names; raises BadBounceAddress."""
    local, at, domain = (recipient or "").strip().strip("<>").lower().rpartition("@")
    base, plus, token = local.partition(DELIMITER)
    if not at or not plus or not base.endswith(BOUNCES_SUFFIX) or not token:
        raise BadBounceAddress("the report came to the bare bounce address, without a member token")
    list_address = f"{base[: -len(BOUNCES_SUFFIX)]}@{domain}"
    member_part, dot, signature = token.partition(".")
    if not dot or not member_part or len(member_part) > 8 or any(c not in DIGITS for c in member_part):
        raise BadBounceAddress("the member token is malformed")
    member_id = int(member_part, 36)
    if not hmac.compare_digest(signature, mac(list_address, member_id)):
        raise BadBounceAddress("the member token's signature does not match")
    return list_address, member_id
