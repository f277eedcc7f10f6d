"""A report cut down to what any reading needs, and its parts read: hostile input is expected.

The message is cut at MAX_REPORT_BYTES, runs of blank lines read as one, parts, lines and words
cut (see `bound`), so no reader, ours or flufl.bounce's, sees unbounded input."""

import re
from email import message_from_bytes, policy
from itertools import islice

# A DSN is a few KiB; with the original message attached, the parts that matter come first.
MAX_REPORT_BYTES = 256 * 1024
MAX_RECIPIENTS = 100
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
HTML_TAG = re.compile(r"<[^<>]{0,500}>")
# Where a report starts quoting the message it returns: nothing after it is about the recipient.
ORIGINAL_FOLLOWS = re.compile(r"-{2,} ?below this line|-{2,} ?original message|original message (follows|attached|below)|"
                              r"copy of (the|your) (original )?message|message headers? follows?|"
                              r"header of the original message|-{2,} ?returned mail|-{3,} ?(start|begin)")
# Parts that hold another message whole: the returned original, or an attachment.
ORIGINALS = ("message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers")


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
    return groups_in(payload if isinstance(payload, str) else "")


def groups_in(text):
    """The blocks of `text` (separated by blank lines), each read as a header block."""
    return [message_from_bytes(block.strip().encode("utf-8", "replace"), policy=policy.compat32)
            for block in re.split(r"\n[ \t]*\r?\n", text.replace("\r\n", "\n")) if block.strip()]


def before_original(text):
    """`text` up to where it starts quoting the message it returns (ORIGINAL_FOLLOWS)."""
    quoted = ORIGINAL_FOLLOWS.search(text.lower())
    return text[:quoted.start()] if quoted else text


def text_of(message, limit=64 * 1024):
    """The report's plain text, decoded whatever charset it claims (unknown ones read as Latin-1).

    HTML parts follow, tags taken out: some servers say why only there.
    """
    html = HTML_TAG.sub(" ", text_parts(message, "text/html", limit))
    return (text_parts(message, "text/plain", limit) + "\n" + html)[:limit]


def decoded_text(part):
    """A leaf part's text, decoded whatever charset it claims (an unknown one read as Latin-1)."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    try:
        return data.decode(part.get_content_charset() or "us-ascii", "replace")
    except LookupError:
        return data.decode("latin-1")


def unsplit(part):
    """Whether `part` says it is multipart but its boundary never appears (some servers send these):
    its body is then text to read, like a text/plain part."""
    return part.get_content_maintype() == "multipart" and isinstance(part.get_payload(), str)


def text_parts(message, content_type, limit):
    """The parts of `content_type`, decoded and joined, at most `limit` characters."""
    chunks, total = [], 0
    for part in message.walk():
        if part.get_content_type() != content_type and not (content_type == "text/plain" and unsplit(part)):
            continue
        chunks.append(decoded_text(part))
        total += len(chunks[-1]) + 1
        if total > limit:
            break
    return "\n".join(chunks)[:limit]
