"""The headers list mail leaves with: a From that SES accepts, and the list's own List-* headers.

SES refuses a message whose From, Sender or Return-Path is not a verified identity of the account,
and a receiver applying DMARC refuses an author's domain that SES did not sign for. So a post from
an author outside the verified identities leaves as Mailman's DMARC mitigation sends it:

    From: "Alice Example via Club" <club@lists.example.org>
    Reply-To: Alice Example <alice@gmail.com>
    X-Original-From: Alice Example <alice@gmail.com>

The message's body and every other header stay byte for byte as they came; only the header
lines named here are taken out and written anew.
"""

import re
from email.header import Header, decode_header, make_header
from email.utils import formataddr, getaddresses, make_msgid

from maillist.addresses import normalise_email

REWRITE_UNVERIFIED, REWRITE_ALWAYS, REWRITE_NEVER = "unverified", "always", "never"
FROM_REWRITE_CHOICES = (REWRITE_UNVERIFIED, REWRITE_ALWAYS, REWRITE_NEVER)
# Headers SES checks against the verified identities besides From, and headers the list writes itself.
DROPPED = {"sender", "return-path", "list-id", "list-post", "list-help", "list-archive", "list-unsubscribe",
           "list-unsubscribe-post", "list-subscribe", "list-owner", "x-original-from"}
HEADER_NAME = re.compile(rb"^([!-9;-~]+):")


def split_message(raw):
    """(header lines grouped per header as (lower-case name, bytes), the blank line and body) of a message with LF or CRLF ends."""
    match = re.search(rb"\r?\n\r?\n", raw)
    # The body keeps the blank line that ends the headers (each header line keeps its own line end).
    head, body = (raw[: match.start()], b"\r\n" + raw[match.end():]) if match else (raw, b"")
    fields = []
    for line in re.split(rb"(?<=\n)", head + b"\n"):
        if not line.strip(b"\r\n") and not line.startswith((b" ", b"\t")):
            continue
        if line.startswith((b" ", b"\t")) and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + line)
            continue
        name = HEADER_NAME.match(line)
        fields.append(((name.group(1).decode("ascii").lower() if name else ""), line))
    return fields, body


def covered(address, identities):
    """Whether SES may send from `address`: it, its domain or a parent domain is a verified identity."""
    address = normalise_email(address)
    labels = address.rpartition("@")[2].split(".")
    return address in identities or any(".".join(labels[i:]) in identities for i in range(len(labels)))


def verified_identities(config, mailing_list):
    """SES_VERIFIED_IDENTITIES with the list's own domain, lower-cased."""
    identities = {identity.lower() for identity in config.get("SES_VERIFIED_IDENTITIES", [])}
    identities.add(mailing_list.address.rpartition("@")[2].lower())
    return identities


def needs_rewrite(from_value, mailing_list, config):
    """Whether the post must leave with the list's address in From (FROM_REWRITE and the identities decide)."""
    mode = config.get("FROM_REWRITE", REWRITE_UNVERIFIED)
    if mode == REWRITE_ALWAYS:
        return True
    if mode == REWRITE_NEVER:
        return False
    addresses = [address for _, address in getaddresses([from_value]) if "@" in address]
    identities = verified_identities(config, mailing_list)
    return not addresses or not all(covered(address, identities) for address in addresses)


def readable(value):
    """A header value with RFC 2047 words decoded, as a person reads it."""
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError):
        return value


def rewritten_from(from_value, mailing_list):
    """`"<author> via <list name>" <list address>`, RFC 2047-encoded where the name needs it."""
    pairs = getaddresses([readable(from_value)])
    name, address = pairs[0] if pairs else ("", "")
    author = " ".join((name or address or "someone").split())
    display = f"{author} via {' '.join(mailing_list.name.split())}"
    if display.isascii():
        # Quoted always, so "@" or "," in an author's name can never read as an address.
        quoted = display.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{mailing_list.address}>'
    return formataddr((display, mailing_list.address), charset="utf-8")


def fold(name, value):
    """One header line (value already ASCII-safe), CRLF-ended."""
    return f"{name}: {value}\r\n".encode("utf-8")


def unfolded(line):
    """A raw header line's value, continuation lines joined."""
    return re.sub(rb"\r?\n[ \t]+", b" ", line.partition(b":")[2]).strip().decode("utf-8", "replace")


def prefixed_subject(subject, prefix):
    """The Subject with the list's prefix in front, or None when it is there already (a reply's "Re: [Club] ...")."""
    if prefix.lower() in readable(subject).lower():
        return None
    encoded = prefix if prefix.isascii() else Header(prefix, "utf-8").encode()
    return f"{encoded} {subject}".rstrip()


def list_mail_headers(raw, mailing_list, config):
    """(header lines to put in front, the message with the lines they replace taken out) for one post.

    The lines to put in front are the same for every member; the personal ones are added by the caller.
    """
    fields, body = split_message(raw)
    from_lines = [line for name, line in fields if name == "from"]
    # Every From header counts (SES refuses a message with two): each address is checked, and
    # a post with more than one From leaves with one, the list's.
    from_value = ", ".join(unfolded(line) for line in from_lines)
    front = []
    drop = set(DROPPED)
    if len(from_lines) > 1 or needs_rewrite(from_value, mailing_list, config):
        drop |= {"from", "reply-to"}
        front.append(fold("From", rewritten_from(from_value, mailing_list)))
        replies = [unfolded(line) for name, line in fields if name == "reply-to"]
        authors = {normalise_email(address) for _, address in getaddresses(replies)}
        if from_value and not all(normalise_email(a) in authors for _, a in getaddresses([from_value]) if a):
            replies.append(from_value)
        if replies:
            front.append(fold("Reply-To", ", ".join(replies)))
        if from_value:
            front.append(fold("X-Original-From", from_value))
    prefix = getattr(mailing_list, "subject_prefix", "")
    if prefix:
        subjects = [unfolded(line) for name, line in fields if name == "subject"]
        subject = prefixed_subject(subjects[0] if subjects else "", prefix)
        if subject is not None:
            drop.add("subject")
            front.append(fold("Subject", subject))
    name = " ".join(mailing_list.name.replace('"', "").split())
    local, _, domain = mailing_list.address.rpartition("@")
    front.append(fold("List-Id", f"{formataddr((name, f'{local}.{domain}'), charset='utf-8')}"))
    front.append(fold("List-Post", f"<mailto:{mailing_list.address}>"))
    if not any(name == "message-id" for name, _ in fields):
        # One id for every copy of the post (Postfix would give each re-injected copy its own), so
        # replies thread and a refusal of the post by the relay is told to the owners once.
        front.append(fold("Message-ID", make_msgid(domain=domain)))
    kept = b"".join(line for name, line in fields if name not in drop)
    return b"".join(front), kept + body
