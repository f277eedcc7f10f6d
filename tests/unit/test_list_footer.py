"""A list's subject prefix and footer: into the readable text of a post, with each member's own link,
never breaking what cannot be changed."""

from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from maillist.lists.footer import link_for_body, placeholder, with_footer
from maillist.lists.headers import list_mail_headers

LINK = "https://lists.example.org/unsubscribe/1.2.abcdefghijklmnop"


def personal(raw, marker, link=LINK):
    return raw.replace(marker.encode(), link_for_body(link))


def parsed(raw):
    """The message as a reader sees it (line ends as LF, as the email package reads them)."""
    return message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)


def plain(text="Hello, members.\n", charset="utf-8", cte=None):
    message = EmailMessage()
    message["From"] = "a@example.org"
    message["Subject"] = "News"
    message.set_content(text, charset=charset, cte=cte)
    return message


def test_a_text_post_gets_the_footer_and_the_members_link():
    marker = placeholder()
    raw = with_footer(plain().as_bytes(), "Club news, monthly.\nReply to reach the author.", "Club", marker)
    body = parsed(personal(raw, marker)).get_content()
    assert body.startswith("Hello, members.\n\n-- \nClub news, monthly.\nReply to reach the author.\n")
    assert body.endswith(f"Unsubscribe from Club:\n{LINK}\n")


@pytest.mark.parametrize("cte", ["base64", "quoted-printable", "8bit"])
def test_any_transfer_encoding_and_charset(cte):
    marker = placeholder()
    original = plain("Grüße aus der Schule. " * 10 + "\n", charset="utf-8", cte=cte)
    raw = with_footer(original.as_bytes(), "École — Élèves", "École", marker)
    body = parsed(personal(raw, marker)).get_content()
    assert body.startswith("Grüße aus der Schule. ") and "École — Élèves" in body and LINK in body


def test_html_and_alternative_parts_both_get_it_before_the_body_ends():
    message = plain("Text version\n")
    message.add_alternative("<html><body><p>HTML version</p></body></html>", subtype="html")
    marker = placeholder()
    raw = personal(with_footer(message.as_bytes(), "<b>not markup</b> & more", "Club <Friends>", marker), marker)
    text, html_part = parsed(raw).get_payload()
    assert LINK in text.get_content()
    markup = html_part.get_content()
    assert markup.index(f'<a href="{LINK}">') < markup.index("</body>")
    assert "&lt;b&gt;not markup&lt;/b&gt; &amp; more" in markup and "Club &lt;Friends&gt;" in markup


def test_an_attachment_is_left_alone_and_the_first_part_gets_it():
    message = plain("See the attached agenda.\n")
    message.add_attachment(b"%PDF-1.4 binary \x00\xff", maintype="application", subtype="pdf", filename="agenda.pdf")
    marker = placeholder()
    raw = personal(with_footer(message.as_bytes(), "Footer", "Club", marker), marker)
    first, attachment = parsed(raw).iter_parts()
    assert LINK in first.get_content()
    assert attachment.get_content() == b"%PDF-1.4 binary \x00\xff"


@pytest.mark.parametrize("content_type", ["multipart/signed; protocol=\"application/pgp-signature\"; boundary=b",
                                          "multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b",
                                          "application/pdf"])
def test_signed_encrypted_or_bare_attachments_are_not_touched(content_type):
    raw = f"From: a@example.org\r\nContent-Type: {content_type}\r\n\r\n--b\r\nx\r\n--b--\r\n".encode()
    assert with_footer(raw, "Footer", "Club", placeholder()) is None


def test_a_long_public_url_and_an_equals_sign_survive_quoted_printable():
    link = "https://a-very-long-host-name.example.org/with/a/path/prefix?x=1/unsubscribe/zz.zz.abcdefghijklmnop"
    marker = placeholder()
    raw = with_footer(plain().as_bytes(), "F", "Club", marker)
    assert link in parsed(personal(raw, marker, link)).get_content()


def test_a_post_that_guesses_a_marker_gets_nothing_but_its_own_readers_link():
    first, second = placeholder(), placeholder()
    assert first != second and len(first) < 40


CLUB = SimpleNamespace(name="Club", address="club@lists.example.org", subject_prefix="[Club]")


def subject_of(head, mailing_list=CLUB):
    front, rest = list_mail_headers(head + b"\r\nbody\r\n", mailing_list, {"FROM_REWRITE": "never"})
    return parsed(front + rest)["Subject"]


@pytest.mark.parametrize("subject, expected", [
    (b"Subject: Meeting", "[Club] Meeting"),
    (b"Subject: Re: [Club] Meeting", "Re: [Club] Meeting"),
    (b"Subject: RE: [club] Meeting", "RE: [club] Meeting"),
    (b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=", "[Club] Grüße"),
    (b"", "[Club]"),
])
def test_the_subject_prefix(subject, expected):
    head = b"From: a@lists.example.org\r\n" + (subject + b"\r\n" if subject else b"")
    assert str(subject_of(head)) == expected


def test_a_non_ascii_prefix_is_encoded():
    ecole = SimpleNamespace(name="École", address="parents@ecole.example", subject_prefix="[École]")
    head = b"From: a@ecole.example\r\nSubject: Sortie\r\n"
    front, _ = list_mail_headers(head + b"\r\n", ecole, {"FROM_REWRITE": "never"})
    assert front.isascii() and str(subject_of(head, ecole)) == "[École] Sortie"
