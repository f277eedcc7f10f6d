"""Why a bounce happened, in a small vocabulary, so only addresses that are really dead get deactivated.

The reason comes from SES's bounce subtype where it is specific, then from the enhanced status code
(RFC 3463), then, where the code is generic (5.0.0, 5.5.0, a bare 550), from the diagnostic text.
A provider that refuses us (a blocklist, a policy, a content filter) says nothing about whether
the address exists: only `no-such-user`, `no-such-domain`, `moved` and `suppressed` are dead.
"""

import re

NO_SUCH_USER, NO_SUCH_DOMAIN, MOVED, MAILBOX_FULL = "no-such-user", "no-such-domain", "moved", "mailbox-full"
BLOCKED, CONTENT_REJECTED, POLICY, AUTHENTICATION = "blocked", "content-rejected", "policy", "authentication"
EXPIRED, SUPPRESSED, UNKNOWN = "expired", "suppressed", "unknown"
REASONS = (NO_SUCH_USER, NO_SUCH_DOMAIN, MOVED, MAILBOX_FULL, BLOCKED, CONTENT_REJECTED, POLICY, AUTHENTICATION,
           EXPIRED, SUPPRESSED, UNKNOWN)
DEAD_REASONS = frozenset({NO_SUCH_USER, NO_SUCH_DOMAIN, MOVED, SUPPRESSED})
LABELS = {
    NO_SUCH_USER: "no such user", NO_SUCH_DOMAIN: "no such domain", MOVED: "address moved", MAILBOX_FULL: "mailbox full",
    BLOCKED: "blocked by the receiver", CONTENT_REJECTED: "content rejected", POLICY: "receiver's policy",
    AUTHENTICATION: "sender authentication (SPF, DKIM, DMARC)", EXPIRED: "delivery timed out", SUPPRESSED: "on SES's suppression list",
    UNKNOWN: "reason not given",
}

SES_SUBTYPES = {
    "noemail": NO_SUCH_USER, "suppressed": SUPPRESSED, "onaccountsuppressionlist": SUPPRESSED,
    "mailboxfull": MAILBOX_FULL, "messagetoolarge": CONTENT_REJECTED, "contentrejected": CONTENT_REJECTED,
    "attachmentrejected": CONTENT_REJECTED, "unsubscribedrecipient": POLICY,
}
STATUS_CODES = {
    "1.1": NO_SUCH_USER, "1.10": NO_SUCH_USER, "1.3": NO_SUCH_USER, "2.1": NO_SUCH_USER,
    "1.2": NO_SUCH_DOMAIN, "4.4": NO_SUCH_DOMAIN, "1.6": MOVED,
    "2.2": MAILBOX_FULL, "2.3": CONTENT_REJECTED, "3.4": CONTENT_REJECTED, "6.0": CONTENT_REJECTED,
    "4.7": EXPIRED, "7.23": AUTHENTICATION, "7.24": AUTHENTICATION, "7.25": POLICY, "7.26": AUTHENTICATION,
    "7.27": AUTHENTICATION,
}
# Read in this order where the code is generic: the first that matches names the reason.
TEXT = [
    (BLOCKED, r"block ?list|black ?list|blocked|(?<!not )listed (at|in|on|by)|spamhaus|spamcop|\brbl\b|\bdnsbl\b|reputation|"
              r"banned|not accepting mail from"),
    (AUTHENTICATION, r"\bdmarc\b|\bspf\b|\bdkim\b|authenticat"),
    (POLICY, r"\bptr\b|reverse dns|\brdns\b|policy|not allowed|access denied|relay(ing)? (denied|not permitted)|"
             r"unable to relay|rate limit|too many"),
    (CONTENT_REJECTED, r"\bspam\b|content (rejected|filter|not accepted)|message content|virus|malware|phish|"
                       r"message (was )?rejected|too (large|big)|message size|size limit|exceed\w* (the )?(maximum )?\w* ?size"),
    (MAILBOX_FULL, r"quota|mailbox (is )?full|mail ?folder is full|over ?quota|insufficient (storage|space)"),
    (NO_SUCH_DOMAIN, r"host (or domain name )?not found|domain (not found|does not exist)|no such domain|unknown host|"
                     r"host unknown|unrouteable|nxdomain|no mx|null mx"),
    (MOVED, r"has moved|no longer (at|with)|changed (his|her|their) address"),
    (NO_SUCH_USER, r"user unknown|unknown user|no such (user|recipient|mailbox|address|account)|does ?n[o']t exist|"
                   r"mailbox (unavailable|not found|disabled)|recipient (address )?rejected|"
                   r"invalid (final )?(delivery )?(recipient|mailbox|address|user ?id|user)|"
                   r"unknown (recipient|mailbox|address)|addressee unknown|(user|recipient) not known|not a valid (user|mailbox|recipient)|"
                   r"account (has been |is )?(disabled|discontinued|deactivated|closed|terminated|inactive)|disabled or discontinued|"
                   r"(does ?n[o']t|does not) have an? [\w.-]+ account|(does ?n[o']t|does not) have a final (e-?mail )?delivery point|"
                   r"no match(es)? (to|for|in) [\w ]{0,20}(query|directory)|not (listed|found) in [\w ]{0,30}directory|"
                   r"did not (exactly )?match (an?|any) [\w ]{0,30}address|no longer (valid|active|in use|exists)|"
                   r"bad destination mailbox|address rejected|(user|recipient) not found|no mailbox|undeliverable address|"
                   r"n'existe pas|existiert nicht|unbekannt|no existe|"
                   # Japanese servers: "not in the directory's list" (Lotus Notes), "address not found".
                   r"ディレクトリのリストにありません|アドレスが見つかりません"),
]
TEXT = [(reason, re.compile(pattern, re.I)) for reason, pattern in TEXT]
# An RFC 3463 enhanced status code: class, subject, detail (the bounce-email reader uses it too).
ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


# A refusal of our envelope sender, given before the recipient was even named ("after MAIL FROM",
# "in reply to MAIL FROM command", 5.1.7 and 5.1.8 are the sender's address): whatever words follow
# ("No such domain", "user unknown"), they are about the sender, never the member's address.
SENDER_REFUSED = re.compile(r"after mail from|in reply to mail from|\b5\.1\.[78]\b", re.I)


def classify(subtype=None, status=None, diagnostic=None):
    """The reason for one bounce, from SES's subtype, the status code and the diagnostic text."""
    by_subtype = SES_SUBTYPES.get((subtype or "").replace(" ", "").lower())
    if by_subtype:
        return by_subtype
    if SENDER_REFUSED.search(f"{status or ''} {(diagnostic or '')[:2000]}"):
        return POLICY
    code = ENHANCED.search(status or "") or ENHANCED.search(diagnostic or "")
    if code:
        detail = f"{int(code.group(2))}.{int(code.group(3))}"
        if detail in STATUS_CODES:
            # A 4.x.x failure is temporary by definition: it never proves the address dead.
            if code.group(1) == "4" and STATUS_CODES[detail] in DEAD_REASONS:
                return UNKNOWN
            return STATUS_CODES[detail]
    text = (diagnostic or "")[:2000]
    for reason, pattern in TEXT:
        if pattern.search(text):
            return reason
    if code and code.group(2) == "7":
        return POLICY
    return UNKNOWN


def is_dead(reason):
    """Whether the reason says the address itself is gone."""
    return reason in DEAD_REASONS
