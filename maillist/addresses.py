"""The one form of an email address maillist stores and compares, whoever hands it over: forms,
CSV files, the command line, Postfix's pipes and policy requests, SES's reports."""

import re

QUOTED_PAIR = re.compile(r"\\(.)")


def normalise_email(address):
    """The one form of an address that maillist stores and compares, as Postfix's tables see it:
    trimmed, angle brackets off, a quoted local part unquoted (`"club"@x` is `club@x`, Postfix's
    internal form), the domain's trailing dots dropped (`x.org.` is `x.org`), all lower-cased.
    `+` tags stay: which list `club+tag@` reaches is the policy's question (maillist.lists.posting)."""
    text = (address or "").strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        local = QUOTED_PAIR.sub(r"\1", local[1:-1])
    return f"{local}@{domain.rstrip('.')}".lower()
