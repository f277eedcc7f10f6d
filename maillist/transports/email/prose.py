"""Prose reports: flufl.bounce's detectors (Mailman's), and the forms of servers it has none for."""

import logging
import re
from itertools import islice

from flufl.bounce import all_failures

from maillist.addresses import normalise_email
from maillist.bounce_reasons import ENHANCED
from maillist.transports.email.readings import RecipientStatus
from maillist.transports.email.report_parts import MAX_RECIPIENTS, ORIGINAL_FOLLOWS, cut
from maillist.vocabulary import PERMANENT, TRANSIENT

log = logging.getLogger("maillist.dsn")

# A server that gave up after retrying a temporary failure: the address may well work (qmail's
# "in the queue too long", Exim's "retry timeout exceeded", Sendmail's "could not be delivered for
# 8 hours", Gmail's "did not accept our requests to connect"). Read as Transient, never as dead.
GAVE_UP = re.compile(r"retry time ?(out)? ?(exceeded|expired)|in the queue too long|too long in (the )?queue|"
                     r"delivery time expired|could not be delivered (within|for) (\d|too long)|giving up after \d|"
                     r"retry limit (reached|exceeded)|did not accept our requests to connect", re.I)
# Reports flufl.bounce has no detector for, each a fixed sentence then the address and what the
# server said (bounded repeats, no nested quantifiers: linear on any input):
OTHER_SERVERS = (
    # DragonFly Mail Agent (dma): "There was an error delivering your mail to <a@b>.", then the
    # error, which may run over several lines (a multi-line SMTP reply).
    re.compile(r"error delivering your mail to <(?P<address>[^<>\s@]{1,64}@[^<>\s@]{1,255})>\.?\s{0,20}(?P<said>[^\n]{0,1000}(?:\n[^\n]{1,1000}){0,10})"),
    # OpenSMTPD: "... for the following list of recipients:" then "a@b: 550 ..." lines.
    re.compile(r"(?m)^(?P<address>[^\s@:<>]{1,64}@[^\s@:<>]{1,255}): (?P<said>[^\n]{0,1000})"),
    # Lotus Notes' SMTP gateway: "------- Failure Reasons --------", the reason, then the address.
    re.compile(r"(?i)failure reasons\s{0,5}-{3,}\s{0,20}(?P<said>[^\n]{1,1000})\n\s{0,20}(?P<address>[^\s@<>]{1,64}@[^\s@<>]{1,255})"),
    # Lotus Notes / Domino: "was not delivered to:" the address, then "because:" the reason.
    re.compile(r"not delivered to:\s{0,20}(?P<address>[^\s@<>]{1,64}@[^\s@<>]{1,255})\s{0,20}because:\s{0,20}(?P<said>[^\n]{0,1000})"),
    # Exchange's Internet Mail Connector: "could not be reached:", the address "on" a date, then the reason.
    re.compile(r"could not be reached:\s{0,20}(?P<address>[^\s@<>]{1,64}@[^\s@<>]{1,255}) on [^\n]{0,100}\n\s{0,40}(?P<said>[^\n]{1,1000})"),
    # Postfix's own text (where flufl.bounce misses it): "<a@b>: host x said: 550 ...", continued on indented lines.
    re.compile(r"(?m)^<(?P<address>[^<>\s@]{1,64}@[^<>\s@]{1,255})>: (?P<said>[^\n]{0,1000}(?:\n[ \t]{1,20}[^\n]{1,1000}){0,10})"),
    # Sendmail's session transcript without a status part: "554 <a@b>... 550 Host unknown".
    re.compile(r"(?m)^[45]\d\d <(?P<address>[^<>\s@]{1,64}@[^<>\s@]{1,255})>\.\.\. (?P<said>[^\n]{0,1000})"),
    # au/ezweb: the reason ("The user(s) account is disabled."), a blank line, then "<a@b>" on a line of its own.
    re.compile(r"(?m)^(?P<said>[^\n<>]{1,1000})\n[ \t]*\n<(?P<address>[^<>\s@]{1,64}@[^<>\s@]{1,255})>[ \t]*$"),
    # Sendmail-style text without a status part (Active!Hunter): the failed address under "had
    # permanent fatal errors", the server's reply under "Transcript of session follows".
    re.compile(r"(?is)had permanent fatal errors -{0,10}\s{0,20}(?:>>> )?(?P<address>[^\s<>@]{1,64}@[^\s<>@]{1,255})"
               r"[^\n]{0,300}\n.{0,300}?transcript of session follows -{0,10}\s{0,20}(?P<said>[^\n]{1,1000})"),
    # au/ezweb's other form: "Recipient: <a@b>", the RCPT TO line, then the reply after "<<<".
    re.compile(r"(?m)^[ \t]{0,20}Recipient: <(?P<address>[^<>\s@]{1,64}@[^<>\s@]{1,255})>[ \t]*\n"
               r"(?:[ \t]{0,20}>>> [^\n]{0,1000}\n)?[ \t]{0,20}<<< (?P<said>[^\n]{1,1000})"),
    # Verizon's vtext gateway: "Error message below:", the reply, then the message details' "RCPT TO: a@b".
    re.compile(r"(?is)error message below:\s{0,20}(?P<said>[^\n]{1,1000})\n.{0,1000}?rcpt to:\s{0,5}<?(?P<address>[^<>\s@]{1,64}@[^<>\s@]{1,255}?)>?\s"),
)
OTHER_SERVER_OPENINGS = ("error delivering your mail to", "following list of recipients", "was not delivered to:",
                         "failure reasons", "could not be reached:", "the postfix program", "the mail system",
                         "transcript of session follows", "the user(s) ", "error message below:",
                         "had permanent fatal errors", "recipients was rejected by a remote")
SMTP_CODE = re.compile(r"\b([45])\d\d\b")


def said_about(flat, email, others=(), lowered=None, before=60, after=400):
    """What the report's text (`flat`: on one line; `lowered`: the same in lower case, when the
    caller has it for several recipients) says around its first mention of `email`: the few words
    before it and the stretch after it, never reaching into another recipient's mention. None when
    the text does not name `email`.

    A prose report lists each failed address with its reason ("<a@b>: no such user", "Invalid
    userid: a@b"; the words before count only where no other recipient stands there); reading
    only that stretch keeps one recipient's reason (or the quoted original message) from being
    read as another's.
    """
    lowered, email = flat.lower() if lowered is None else lowered, email.lower()
    found = lowered.find(email)
    if found < 0:
        return None
    start, end = max(found - before, 0), found + len(email) + after
    for other in {other.lower() for other in others} - {email}:
        ahead = lowered.find(other, found + len(email), end)
        if ahead >= 0:
            end = ahead
        if lowered.rfind(other, max(start - len(other), 0), found) >= 0:
            start = found  # the words before are the previous recipient's

    quoted = ORIGINAL_FOLLOWS.search(lowered, found + len(email), end)
    if quoted:
        end = quoted.start()
    return flat[start:end].strip() or None


def read_prose(message, text):
    """The failed recipients flufl.bounce finds in a prose report, each with what its `text` says of it."""
    try:
        temporary, permanent = all_failures(message)
    except Exception as error:  # noqa: BLE001 - a detector tripping on odd input must not lose the report
        log.warning("flufl.bounce could not read a report: %s: %s", type(error).__name__, error)
        return ()
    text = " ".join(text.split())
    whole = cut(text, 4000)
    addresses = []
    for group, bounce_type in ((permanent, PERMANENT), (temporary, TRANSIENT)):
        for address in sorted(group):
            email = normalise_email(address.decode("utf-8", "replace") if isinstance(address, bytes) else address)
            if "@" in email and email not in dict(addresses) and len(addresses) < MAX_RECIPIENTS:
                addresses.append((email, bounce_type))
    others, lowered = [email for email, _ in addresses], text.lower()
    found = []
    for email, bounce_type in addresses:
        # The text's words about this recipient, with a status code only from them; where the text
        # never names the recipient, all of it.
        said = said_about(text, email, others, lowered)
        diagnostic = said or whole
        match = ENHANCED.search(said) if said else ENHANCED.search(text)
        status = match.group(0) if match and match.group(1) in "45" else None
        if (status or "").startswith("4") or GAVE_UP.search(diagnostic or ""):
            bounce_type = TRANSIENT  # a 4.x.x failure, or one given up on after retrying, is no dead address
        found.append(RecipientStatus(email[:255], bounce_type, status, diagnostic, "failed"))
    return tuple(found)


def read_other_servers(text):
    """The failed recipients of a daemon's report in a form flufl.bounce does not know (see
    OTHER_SERVERS); () when it is none of them. `text` is the report before the returned original."""
    lowered = text.lower()
    if not any(opening in lowered for opening in OTHER_SERVER_OPENINGS):
        return ()
    found = {}
    for pattern in OTHER_SERVERS:
        for match in islice(pattern.finditer(text), MAX_RECIPIENTS):
            email, said = normalise_email(match.group("address")), cut(match.group("said"), 4000)
            if email in found or "@" not in email:
                continue
            status = ENHANCED.search(said or "")
            status = status.group(0) if status and status.group(1) in "45" else None
            code = (status or "")[:1] or (SMTP_CODE.search(said or "") or [None, "5"])[1]
            transient = code == "4" or GAVE_UP.search(said or "")
            found[email] = RecipientStatus(email[:255], TRANSIENT if transient else PERMANENT, status, said, "failed")
    return tuple(found.values())[:MAX_RECIPIENTS]
