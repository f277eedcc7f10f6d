"""A list's footer, with the member's own unsubscribe link, at the end of each copy's text.

The footer goes into the readable text of the post: a text/plain or text/html body, the text
parts of a multipart/alternative, or those of the first part of a multipart/mixed. Anything else
(a signed or encrypted post, a bare attachment) is left whole: changing it would break it.

The body is built once per post with a placeholder where the link goes, each changed part
written as quoted-printable with the placeholder on a line of its own (so no soft line break can
split it); each member's copy then only swaps the placeholder for their link.
"""

import html
import re
import secrets
from email import message_from_bytes, policy
from email.charset import QP, Charset

TEXT_TYPES = ("text/plain", "text/html")
BODY_END = re.compile(r"</body\s*>", re.I)


def placeholder():
    """A marker no post contains by chance (a post that guesses it only gets its reader's own link)."""
    return f"@@unsubscribe-{secrets.token_hex(8)}@@"


def readable_parts(message):
    """The parts a footer goes into, or [] when the post's shape is one to leave alone."""
    def text(part):
        return part.get_content_type() in TEXT_TYPES and part.get_content_disposition() != "attachment"

    if not message.is_multipart():
        return [message] if text(message) else []
    content_type, parts = message.get_content_type(), message.get_payload()
    if content_type == "multipart/alternative":
        return [part for part in parts if not part.is_multipart() and text(part)]
    if content_type == "multipart/mixed" and parts:
        first = parts[0]
        if not first.is_multipart():
            return [first] if text(first) else []
        if first.get_content_type() == "multipart/alternative":
            return [part for part in first.get_payload() if not part.is_multipart() and text(part)]
    return []


def decoded_text(part):
    payload = part.get_payload(decode=True) or b""
    try:
        return payload.decode(part.get_content_charset() or "us-ascii", errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def with_footer(raw, footer, list_name, marker):
    """`raw` (a post's headers and body) with `footer` and the link `marker` in its readable parts, or None."""
    message = message_from_bytes(raw, policy=policy.compat32)
    parts = readable_parts(message)
    if not parts:
        return None
    utf8 = Charset("utf-8")
    utf8.body_encoding = QP
    for part in parts:
        text = decoded_text(part)
        if part.get_content_type() == "text/html":
            addition = (f'\n<div class="list-footer"><hr>\n<p>{html.escape(footer).replace(chr(10), "<br>")}</p>\n'
                        f"<p>\n<a href=\"{marker}\">\nUnsubscribe from {html.escape(list_name)}\n</a>\n</p></div>\n")
            ends = list(BODY_END.finditer(text))
            text = text[: ends[-1].start()] + addition + text[ends[-1].start():] if ends else text + addition
        else:
            text = f"{text.rstrip()}\n\n-- \n{footer}\n\nUnsubscribe from {list_name}:\n{marker}\n"
        del part["Content-Transfer-Encoding"]
        part.set_payload(text, utf8)
    return message.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))


def link_for_body(link):
    """A link as it may stand in a quoted-printable body ("=" is QP's escape)."""
    return link.replace("=", "=3D").encode("ascii")
