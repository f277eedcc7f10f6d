"""Reading a report that came to a bounce address: a bounce, a delay, an auto-reply, a complaint, or none.

- RFC 3464 delivery status notifications are read field by field: `Action` (failed, delayed,
  delivered, ...) and `Status` (5.x.x Permanent, 4.x.x Transient), an rfc822
  `Original-Recipient` before `Final-Recipient`, each recipient once.
- RFC 5965 feedback reports (`message/feedback-report`) are complaints.
- Auto-replies (RFC 3834 `Auto-Submitted`, `Precedence: auto_reply/bulk/junk`, `X-Autoreply`,
  vacation subjects) are recognised and change nothing.
- Everything else goes to flufl.bounce, Mailman's detectors for the prose forms mail servers
  send, which says which addresses failed and whether permanently.

Hostile input is expected: the message is cut at MAX_REPORT_BYTES, every field is cut to its
column, unknown charsets and impossible dates fall back, and no pattern here can backtrack.
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.header import decode_header
from email.utils import parseaddr, parsedate_to_datetime
from itertools import islice

from flufl.bounce import all_failures

from maillist.bounce_reasons import ENHANCED, classify, is_dead
from maillist.models.member import normalise_email
from maillist.models.types import reported_time, utcnow
from maillist.vocabulary import PERMANENT, TRANSIENT, UNDETERMINED

log = logging.getLogger("maillist.dsn")

# What kind of report it is.
BOUNCE, DELAY, AUTO_REPLY, COMPLAINT, NOT_A_BOUNCE = "bounce", "delay", "auto-reply", "complaint", "not-a-bounce"
REPORT_KINDS = (BOUNCE, DELAY, AUTO_REPLY, COMPLAINT, NOT_A_BOUNCE)

# A DSN is a few KiB; with the original message attached, the parts that matter come first.
MAX_REPORT_BYTES = 256 * 1024
MAX_RECIPIENTS = 100
DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail.daemon", "maildaemon", "mdaemon")
DAEMON_NAMES = re.compile(r"mail delivery|mailer|postmaster|delivery (status|subsystem)|daemon", re.I)
FAILED_ACTIONS = ("fail", "error", "bounce", "undeliver")
# A report this nested is no bounce: every mail server's fits in a few levels.
MAX_MULTIPARTS = 64
# What one report may hand its readers (see `bound`): parts per container, nesting, characters.
MAX_PARTS, MAX_DEPTH, MAX_PART_TEXT, MAX_LINE = 50, 8, 64 * 1024, 998
# Lines per part: flufl.bounce's SimpleMatch tries every pattern on every line, several times over,
# so 64 KB of one-character lines costs a second of CPU; a real report says what it has to say in
# its first few hundred lines.
MAX_PART_LINES = 1000
# Characters in all parts together: flufl.bounce's Exchange pattern takes quadratic time on each
# long line, and a report of many parts could otherwise bring many of them.
MAX_TEXT = 128 * 1024
BLANK_RUNS = re.compile(rb"\r?\n(?:[ \t]*\r?\n){2,}")
BLOCK_END, MAX_BLOCKS = re.compile(rb"\n[ \t]*\r?\n|\n--"), 1000
LONG_LINE = re.compile(r"[^\n]{%d,}" % (MAX_LINE + 1))
# No address is longer than 254 characters: a longer run without spaces is cut to that, because
# flufl.bounce's address patterns take quadratic time on each one.
MAX_WORD = 254
LONG_WORD = re.compile(r"\S{%d,}" % (MAX_WORD + 1))
AUTO_PRECEDENCE = ("auto_reply", "bulk", "junk")
HTML_TAG = re.compile(r"<[^<>]{0,500}>")
# Where a report starts quoting the message it returns: nothing after it is about the recipient.
ORIGINAL_FOLLOWS = re.compile(r"-{2,} ?below this line|-{2,} ?original message|original message (follows|attached|below)|"
                              r"copy of (the|your) (original )?message|message headers? follows?|"
                              r"header of the original message|-{2,} ?returned mail|-{3,} ?(start|begin)")
# Out-of-office subjects in the languages clubs write in: English, French, German, Spanish, Italian,
# Dutch, Portuguese, Polish, Swedish, Japanese (each word as mail clients spell it at the start).
VACATION_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|auto:|away from|on vacation|vacation|on leave|absence"
    r"|r[ée]ponse automatique|message d'absence|absent|en cong[ée]"
    r"|automatische antwort|abwesenheit|abwesend|urlaub|au(ß|ss)er haus"
    r"|respuesta autom[áa]tica|fuera de la oficina|ausente|ausencia"
    r"|risposta automatica|fuori ufficio|assente|assenza"
    r"|automatisch antwoord|afwezig|buiten kantoor"
    r"|resposta autom[áa]tica|fora do escrit[óo]rio|aus[êe]ncia"
    r"|automatyczna odpowied[źz]|nieobecno[śs][ćc]|poza biurem"
    r"|automatiskt svar|fr[åa]nvarande|fr[åa]nvaro|ej p[åa] kontoret"
    r"|自動応答|自動返信|不在)", re.I)
# A server that gave up after retrying a temporary failure: the address may well work (qmail's
# "in the queue too long", Exim's "retry timeout exceeded"). Read as Transient, never as dead.
GAVE_UP = re.compile(r"retry time ?(out)? ?(exceeded|expired)|in the queue too long|too long in (the )?queue|"
                     r"delivery time expired|could not be delivered within \d|giving up after \d|retry limit (reached|exceeded)", re.I)
AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-MS-Exchange-Inbox-Rules-Loop")
# Parts that hold another message whole: the returned original, or an attachment.
ORIGINALS = ("message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers")
SEVERITY = {PERMANENT: 3, TRANSIENT: 2, UNDETERMINED: 1}


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient a report names, with what it says of them."""

    email: str
    bounce_type: str | None  # None: delayed, or delivered
    status: str | None
    diagnostic: str | None
    action: str | None

    @property
    def reason(self):
        """Why it failed (maillist.bounce_reasons), or None when it did not fail."""
        return classify("DSN", self.status, self.diagnostic) if self.bounce_type else None

    @property
    def deactivates(self):
        """What the engine would do with it under the default HARD_BOUNCE_POLICY=reason."""
        return self.bounce_type == PERMANENT and is_dead(self.reason)


@dataclass(frozen=True)
class Reading:
    """What a report says: its kind, the recipients it names, and when it was written."""

    kind: str
    recipients: tuple = ()
    occurred_at: datetime = field(default_factory=utcnow)
    feedback_type: str | None = None
    user_agent: str | None = None
    message_id: str | None = None
    # Written by a mail server (MAILER-DAEMON, postmaster, ...), not typed or set up by a person.
    from_server: bool = True

    def most_severe(self):
        """The failed recipient whose failure is the most permanent, or None."""
        failed = [r for r in self.recipients if r.bounce_type]
        return max(failed, key=lambda r: SEVERITY[r.bounce_type], default=None)

    def for_address(self, email):
        """The failed entry for `email` if the report names it; else, in a mail server's report, the
        most severe failure (it may name a forwarding target, or nobody readable); else None: a
        person's mail that names someone else's failure says nothing about `email`."""
        named = [r for r in self.recipients if r.email == email and r.bounce_type]
        if named:
            return named[0]
        return self.most_severe() if self.from_server else None

    def as_dict(self):
        """The reading as `flask bounces process-dsn --dry-run --json` prints it."""
        return {
            "kind": self.kind,
            "recipients": [{"email": r.email, "bounce_type": r.bounce_type, "status": r.status,
                            "diagnostic": r.diagnostic, "reason": r.reason, "deactivates": r.deactivates}
                           for r in self.recipients],
        }


def cut(text, limit):
    """`text` on one line and at most `limit` characters, or None when empty."""
    text = " ".join(str(text or "").split())
    return text[:limit] or None


def first_blocks(raw):
    """`raw` up to its MAX_BLOCKS-th blank line or boundary line: a report says what it has to say
    in its first blocks (the original message it quotes comes last), and the email parser makes a
    message of each block of a status part and of each part, at a cost for each."""
    last = next(islice(BLOCK_END.finditer(raw), MAX_BLOCKS - 1, None), None)
    return raw[:last.end()] if last else raw


def parse_report(raw):
    """The report in `raw` (bytes), parsed and cut down to a bounded size (see `bound`), or None when
    it has too many multiparts or too deep a nesting to be one. Every reading of a bounce email
    starts here, so none of them sees unbounded input."""
    # Runs of blank lines read as one: a status part of thousands of empty blocks made the email
    # parser build a message per block, and the readers walk each.
    raw = first_blocks(BLANK_RUNS.sub(b"\n\n", raw[:MAX_REPORT_BYTES]))
    if raw.lower().count(b"multipart/") > MAX_MULTIPARTS:
        return None
    try:
        message = message_from_bytes(raw, policy=policy.compat32)
        # A mail server may pass on another's report as an attachment (a relay wrapping a DSN in
        # multipart/mixed); a person's mail, or a report's returned original, holds nothing to read.
        wrapped = sent_by_a_daemon(message) and message.get_content_type() != "multipart/report"
        return bound(message, drop_originals=not wrapped)
    except RecursionError:
        return None


def read_report(raw):
    """Read the report in `raw` (bytes): never raises for what the bytes contain."""
    return read_parsed(parse_report(raw))


def read_parsed(message):
    """The reading of a report `parse_report` gave (None: not a bounce)."""
    if message is None:
        return Reading(NOT_A_BOUNCE)
    try:
        return read_message(message)
    except RecursionError:
        return Reading(NOT_A_BOUNCE)


def bound(message, depth=0, budget=None, drop_originals=True):
    """Cut a parsed report down, in place, to what any reading needs: at most MAX_PARTS parts per
    container (status groups: MAX_RECIPIENTS * 2), MAX_PART_TEXT characters and MAX_PART_LINES
    lines per part, MAX_TEXT characters in all, MAX_LINE per line and MAX_WORD per run without spaces. Every later step (our
    readers and flufl.bounce's detectors, some of which take quadratic time on long lines or many
    lines) then works on bounded input."""
    budget = budget if budget is not None else [MAX_TEXT]
    if depth and drop_originals and message.get_content_type() in ORIGINALS:
        # The message a report returns, or one a person attached: what it says (a forged DSN inside
        # a list post, bounce prose) is never about the recipient, so no reader gets to see it. Its
        # Message-ID and Subject stay: they name the post a refusal by the relay was about.
        message.set_payload(identity_of(message))
        return message
    if message.is_multipart():
        limit = MAX_RECIPIENTS * 2 + 1 if message.get_content_type() == "message/delivery-status" else MAX_PARTS
        parts = message.get_payload()[:limit]
        message.set_payload(parts)
        for part in parts:
            if depth < MAX_DEPTH:
                bound(part, depth + 1, budget, drop_originals)
            else:
                part.set_payload("")
        return message
    payload = message.get_payload()
    if isinstance(payload, str):
        room = min(MAX_PART_TEXT, budget[0])
        if (len(payload) > room or LONG_LINE.search(payload) or LONG_WORD.search(payload)
                or payload.count("\n", 0, room) > MAX_PART_LINES):
            text = "\n".join(payload[:room].split("\n", MAX_PART_LINES)[:MAX_PART_LINES])
            text = LONG_WORD.sub(lambda m: m.group(0)[:MAX_WORD], text)
            payload = LONG_LINE.sub(lambda m: m.group(0)[:MAX_LINE], text)
            message.set_payload(payload)
        budget[0] -= len(payload)
    return message


def identity_of(original):
    """The Message-ID and Subject lines of a returned or attached message, as header text."""
    payload = original.get_payload()
    if isinstance(payload, list):
        headers = payload[0] if payload and hasattr(payload[0], "get") else {}
    else:
        headers = message_from_bytes(str(payload or "").split("\n\n", 1)[0].encode("utf-8", "replace"),
                                     policy=policy.compat32)
    lines = [f"{name}: {cut(headers.get(name), 200)}" for name in ("Message-ID", "Subject") if cut(headers.get(name), 200)]
    return "".join(line + "\n" for line in lines)


def read_message(message):
    """The reading of a parsed report (cut down by `parse_report`)."""
    occurred_at = report_time(message)
    message_id = cut(message.get("Message-ID"), 120)
    feedback = part_of_type(message, "message/feedback-report")
    if feedback is not None:
        return read_feedback(message, feedback, occurred_at, message_id)
    status_part = part_of_type(message, "message/delivery-status")
    if status_part is not None:
        recipients = read_delivery_status(status_part, " ".join(text_of(message).split()))
        if recipients:
            return Reading(kind_of(recipients), recipients, occurred_at, message_id=message_id)
    if is_auto_reply(message):
        return Reading(AUTO_REPLY, occurred_at=occurred_at, message_id=message_id)
    if is_sns_notification(message):
        # An SNS topic's email subscription mails SES's JSON: about other mail, and the webhook's business.
        return Reading(NOT_A_BOUNCE, occurred_at=occurred_at, message_id=message_id)
    from_server = sent_by_a_daemon(message)
    if not from_server:
        drop_quotes(message)
    recipients = read_prose(message) or (read_other_servers(message) if from_server else ())
    if recipients:
        return Reading(BOUNCE, recipients, occurred_at, message_id=message_id, from_server=from_server)
    # Bulk or auto-generated mail that is no bounce: an answering machine of some kind.
    kind = AUTO_REPLY if looks_automatic(message) else NOT_A_BOUNCE
    return Reading(kind, occurred_at=occurred_at, message_id=message_id)


# Where a person's mail starts quoting another: "-----Original Message-----", "On ... wrote:",
# "> " lines (and ORIGINAL_FOLLOWS's markers).
QUOTE_START = re.compile(r"(?im)^(?:-{2,}\s?original message|.{0,200}\bwrote:\s*$|>)")


def drop_quotes(message):
    """Cut each text part of a person's mail where it starts quoting: bounce prose in a quoted
    post (a forged list post full of qmail's words, quoted by an auto-reply) is not their report."""
    for part in message.walk():
        if part.get_content_type() not in ("text/plain", "text/html"):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        try:
            text = data.decode(part.get_content_charset() or "us-ascii", "replace")
        except LookupError:
            text = data.decode("latin-1")
        cut_at = [m.start() for m in (QUOTE_START.search(text), ORIGINAL_FOLLOWS.search(text.lower())) if m]
        if cut_at:
            # Kept as plain text (no transfer encoding): flufl.bounce's detectors read the payload as it stands.
            del part["Content-Transfer-Encoding"]
            part.set_payload(text[:min(cut_at)])


SNS_JSON = re.compile(r'\A\s*\{\s*"(?:notificationType|eventType|Type)"\s*:')


def is_sns_notification(message):
    """Whether the mail is an SNS notification sent by email: SES's JSON as the whole text."""
    _, address = parseaddr(str(message.get("From") or ""))
    return address.lower().endswith("@sns.amazonaws.com") or bool(SNS_JSON.match(text_of(message, limit=2000)))


def report_time(message):
    """When the report was written (its Date), bounded to now; now when it has none we can read."""
    try:
        return reported_time(parsedate_to_datetime(str(message.get("Date", ""))))
    except (TypeError, ValueError, OverflowError, IndexError):
        return utcnow()


def part_of_type(message, content_type):
    """The first part of `content_type`, if the report has one."""
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def field_groups(part):
    """The header blocks of a delivery-status or feedback-report part, as messages."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [group for group in payload if hasattr(group, "get")]
    text = payload if isinstance(payload, str) else ""
    return [message_from_bytes(block.strip().encode("utf-8", "replace"), policy=policy.compat32)
            for block in re.split(r"\n[ \t]*\r?\n", text.replace("\r\n", "\n")) if block.strip()]


def address_of(value):
    """The address in an `rfc822; someone@example.org` field, or None."""
    if not value:
        return None
    kind, _, address = str(value).partition(";")
    if not address:
        kind, address = "rfc822", kind
    if kind.strip().lower() != "rfc822":
        return None
    address = normalise_email(parseaddr(address.strip())[1] or address.strip())
    return address[:255] if "@" in address else None


def status_type(status, action):
    """Permanent for 5.x.x, Transient for 4.x.x; a failure without a status is Permanent; None otherwise."""
    if action != "failed":
        return None
    if status:
        return {"5": PERMANENT, "4": TRANSIENT}.get(status[0], UNDETERMINED)
    return PERMANENT


def read_delivery_status(part, text=""):
    """One RecipientStatus per recipient group (groups without a recipient are per-message fields).

    A recipient without a Diagnostic-Code gets what the report's readable `text` (on one line) says of it.
    """
    found, lowered = {}, text.lower()
    for group in field_groups(part)[: MAX_RECIPIENTS * 2]:
        # The address our mail was sent to: the rfc822 Original-Recipient, where given, is it;
        # Final-Recipient may be a forwarding target.
        address = address_of(group.get("Original-Recipient")) or address_of(group.get("Final-Recipient"))
        if address is None or address in found:
            continue
        action = cut(group.get("Action"), 50)
        action = action.lower() if action else None
        if action and action.startswith(FAILED_ACTIONS):
            action = "failed"  # "failure", "failed (bad destination ...)", "error": servers' spellings
        match = ENHANCED.search(str(group.get("Status") or "")[:100])
        status = match.group(0) if match else None
        diagnostic = cut(group.get("Diagnostic-Code"), 4000)
        if not (diagnostic or "").strip() and text:
            diagnostic = said_about(text, address, lowered=lowered)
        found[address] = RecipientStatus(address, status_type(status, action), status, diagnostic, action)
        if len(found) >= MAX_RECIPIENTS:
            break
    return tuple(found.values())


def kind_of(recipients):
    """A report with a failure is a bounce; with only delays, a delay; otherwise (delivered, relayed) none."""
    if any(r.bounce_type for r in recipients):
        return BOUNCE
    if any(r.action == "delayed" for r in recipients):
        return DELAY
    return NOT_A_BOUNCE


def sent_by_a_daemon(message):
    """Whether the report comes from a mail server rather than a person's mailbox."""
    name, address = parseaddr(str(message.get("From") or ""))
    return address.partition("@")[0].lower() in DAEMONS or bool(DAEMON_NAMES.search(name[:200]))


def is_auto_reply(message):
    """An out-of-office or other automatic answer from a person's mailbox (RFC 3834 and common forms).

    Mail servers mark their bounces auto-submitted too, so only mail from a person's mailbox counts.
    """
    _, address = parseaddr(str(message.get("From") or ""))
    if address.partition("@")[0].lower() in DAEMONS:
        return False
    # A person's answering machine says so in its headers or its subject, whatever its display name
    # ("Club Postmaster" is a person here): only a daemon's name alone marks a server's report.
    if any(message.get(name) for name in AUTO_REPLY_HEADERS):
        return True
    if str(message.get("Precedence") or "").strip().lower() == "auto_reply":
        return True
    if VACATION_SUBJECT.match(readable_subject(message)):
        return True
    auto_submitted = str(message.get("Auto-Submitted") or "").strip().lower()
    return auto_submitted.startswith("auto-replied") and not sent_by_a_daemon(message)


def readable_subject(message):
    """The Subject as a person reads it: RFC 2047 words decoded (=?utf-8?q?R=C3=A9ponse...?=), and
    eight-bit bytes sent raw read as UTF-8."""
    value = message.get("Subject") or ""
    try:
        pieces = decode_header(value if not isinstance(value, str) else value[:400])
    except (ValueError, LookupError, UnicodeError):
        return str(value)[:200]
    text = []
    for chunk, charset in pieces:
        if isinstance(chunk, str):
            text.append(chunk)
            continue
        try:
            text.append(chunk.decode(charset if charset and charset != "unknown-8bit" else "utf-8", "replace"))
        except LookupError:
            text.append(chunk.decode("utf-8", "replace"))
    return "".join(text)[:200]


def looks_automatic(message):
    """Weaker signs of machine-sent mail, read only when no bounce was found in it."""
    auto_submitted = str(message.get("Auto-Submitted") or "").strip().lower()
    return ((auto_submitted and auto_submitted != "no")
            or str(message.get("Precedence") or "").strip().lower() in AUTO_PRECEDENCE
            or any(message.get(name) for name in ("X-Auto-Response-Suppress", "X-Autogenerated")))


def text_of(message, limit=64 * 1024):
    """The report's plain text, decoded whatever charset it claims (unknown ones read as Latin-1).

    HTML parts follow, tags taken out: some servers say why only there.
    """
    html = HTML_TAG.sub(" ", text_parts(message, "text/html", limit))
    return (text_parts(message, "text/plain", limit) + "\n" + html)[:limit]


def text_parts(message, content_type, limit):
    """The parts of `content_type`, decoded and joined, at most `limit` characters."""
    chunks, total = [], 0
    for part in message.walk():
        if part.get_content_type() != content_type:
            continue
        data = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "us-ascii"
        try:
            chunks.append(data.decode(charset, "replace"))
        except LookupError:
            chunks.append(data.decode("latin-1"))
        total += len(chunks[-1]) + 1
        if total > limit:
            break
    return "\n".join(chunks)[:limit]


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


def read_prose(message):
    """The failed recipients flufl.bounce finds in a prose report, each with what the text says of it."""
    try:
        temporary, permanent = all_failures(message)
    except Exception as error:  # noqa: BLE001 - a detector tripping on odd input must not lose the report
        log.warning("flufl.bounce could not read a report: %s: %s", type(error).__name__, error)
        return ()
    text = " ".join(text_of(message).split())
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


# Reports flufl.bounce has no detector for, each a fixed sentence then the address and what the
# server said (bounded repeats, no nested quantifiers: linear on any input):
OTHER_SERVERS = (
    # DragonFly Mail Agent (dma): "There was an error delivering your mail to <a@b>.", then the error.
    re.compile(r"error delivering your mail to <(?P<address>[^<>\s@]{1,64}@[^<>\s@]{1,255})>\.?\s{0,20}(?P<said>[^\n]{0,1000})"),
    # OpenSMTPD: "... for the following list of recipients:" then "a@b: 550 ..." lines.
    re.compile(r"(?m)^(?P<address>[^\s@:<>]{1,64}@[^\s@:<>]{1,255}): (?P<said>[^\n]{0,1000})"),
    # Lotus Notes / Domino: "was not delivered to:" the address, then "because:" the reason.
    re.compile(r"not delivered to:\s{0,20}(?P<address>[^\s@<>]{1,64}@[^\s@<>]{1,255})\s{0,20}because:\s{0,20}(?P<said>[^\n]{0,1000})"),
)
OTHER_SERVER_OPENINGS = ("error delivering your mail to", "following list of recipients", "was not delivered to:")
SMTP_CODE = re.compile(r"\b([45])\d\d\b")


def read_other_servers(message):
    """The failed recipients of a daemon's report in a form flufl.bounce does not know (see
    OTHER_SERVERS), read before the quoted original message; () when it is none of them."""
    text = text_of(message)
    quoted = ORIGINAL_FOLLOWS.search(text.lower())
    text = text[:quoted.start()] if quoted else text
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


def read_feedback(message, part, occurred_at, message_id):
    """An ARF complaint: who complained (Original-Rcpt-To), the feedback type and user agent."""
    fields = {}
    for group in field_groups(part):
        for name in ("Feedback-Type", "User-Agent", "Original-Rcpt-To"):
            if group.get(name) and name not in fields:
                fields[name] = group.get(name)
    address = address_of(fields.get("Original-Rcpt-To"))
    recipients = (RecipientStatus(address, None, None, None, None),) if address else ()
    return Reading(COMPLAINT, recipients, occurred_at, cut(fields.get("Feedback-Type"), 50),
                   cut(fields.get("User-Agent"), 255), message_id)
