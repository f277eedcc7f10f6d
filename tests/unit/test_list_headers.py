"""From rewriting for SES (maillist.lists.headers): what SES would refuse leaves From the list,
with the author in Reply-To; names of every kind survive; the body is untouched."""

from email import message_from_bytes, policy
from email.header import decode_header, make_header
from types import SimpleNamespace

import pytest

from maillist.lists.headers import covered, list_mail_headers
from tests.ses_relay import Rules

CLUB = SimpleNamespace(name="Club", address="club@lists.example.org")
BODY = b"\r\nLine one\r\n\r\n--\r\nFrom: not a header, a line of the body\r\n"


def config(mode="unverified", identities=()):
    return {"FROM_REWRITE": mode, "SES_VERIFIED_IDENTITIES": list(identities)}


def deliver(head, mailing_list=CLUB, **options):
    front, rest = list_mail_headers(head + BODY, mailing_list, config(**options))
    return front + rest


def headers(raw):
    return message_from_bytes(raw, policy=policy.default)


def test_an_unverified_author_leaves_from_the_list_with_reply_to_them():
    raw = deliver(b"From: Alice Example <alice@gmail.com>\r\nTo: club@lists.example.org\r\nSubject: Hi\r\n")
    message = headers(raw)
    assert b'\r\nFrom: "Alice Example via Club" <club@lists.example.org>\r\n' in b"\r\n" + raw
    assert str(message["Reply-To"]) == "Alice Example <alice@gmail.com>"
    assert str(message["X-Original-From"]) == "Alice Example <alice@gmail.com>"
    assert str(message["List-Id"]) == "Club <club.lists.example.org>"
    assert message.get_all("From") and len(message.get_all("From")) == 1
    assert raw.endswith(BODY), "the body is byte for byte as it came"
    assert Rules(["lists.example.org"]).refusal("club-bounces+x@lists.example.org", ["m@x.org"], raw) is None


@pytest.mark.parametrize("author, identities", [
    ("ann@club.example", ["club.example"]),
    ("ann@mail.club.example", ["club.example"]),
    ("ann@club.example", ["ann@club.example"]),
    ("ann@lists.example.org", []),
])
def test_a_verified_author_keeps_from(author, identities):
    raw = deliver(f"From: Ann <{author}>\r\nSubject: Hi\r\n".encode(), identities=identities)
    assert str(headers(raw)["From"]) == f"Ann <{author}>"
    assert headers(raw)["Reply-To"] is None and headers(raw)["X-Original-From"] is None


def test_a_lookalike_domain_is_not_covered():
    assert not covered("ann@evilclub.example", {"club.example"})
    assert not covered("ann@club.example.evil", {"club.example"})
    assert not covered("bob@club.example", {"ann@club.example"})


def test_always_and_never():
    verified = b"From: Ann <ann@lists.example.org>\r\n"
    assert "via Club" in str(headers(deliver(verified, mode="always"))["From"])
    assert str(headers(deliver(b"From: a@gmail.com\r\n", mode="never"))["From"]) == "a@gmail.com"


@pytest.mark.parametrize("from_header, expected_name", [
    (b'From: "Example, Alice" <alice@gmail.com>', "Example, Alice via Club"),
    (b'From: "Alice \\"Al\\" Example" <alice@gmail.com>', 'Alice "Al" Example via Club'),
    (b"From: =?utf-8?q?Z=C3=B6e_M=C3=BCller?= <zoe@gmail.com>", "Zöe Müller via Club"),
    (b"From: =?iso-8859-1?q?Jos=E9?= <jose@gmail.com>", "José via Club"),
    (b"From: bare@gmail.com", "bare@gmail.com via Club"),
    (b"From: <angle@gmail.com>", "angle@gmail.com via Club"),
])
def test_names_survive(from_header, expected_name):
    raw = deliver(from_header + b"\r\nSubject: Hi\r\n")
    from_value = headers(raw)["From"]
    assert from_value.addresses[0].display_name == expected_name
    assert from_value.addresses[0].addr_spec == "club@lists.example.org"
    assert all(byte < 128 for byte in raw.split(b"\r\n\r\n")[0]), "headers stay 7-bit (RFC 2047)"


def test_a_list_name_with_non_ascii_and_quotes():
    ecole = SimpleNamespace(name='École "Les Pins"', address="parents@ecole.example")
    raw = deliver(b"From: Ann <ann@gmail.com>\r\n", mailing_list=ecole)
    assert headers(raw)["From"].addresses[0].display_name == 'Ann via École "Les Pins"'
    assert str(make_header(decode_header(headers(raw)["List-Id"]))).endswith("<parents.ecole.example>")


def test_an_existing_reply_to_is_joined():
    raw = deliver(b"From: Ann <ann@gmail.com>\r\nReply-To: Team <team@gmail.com>\r\n")
    assert [a.addr_spec for a in headers(raw)["Reply-To"].addresses] == ["team@gmail.com", "ann@gmail.com"]
    same = deliver(b"From: Ann <ann@gmail.com>\r\nReply-To: ann@gmail.com\r\n")
    assert [a.addr_spec for a in headers(same)["Reply-To"].addresses] == ["ann@gmail.com"]


def test_sender_and_return_path_never_carry_an_unverified_address():
    raw = deliver(b"From: Ann <ann@lists.example.org>\r\nSender: bot@gmail.com\r\nReturn-Path: <x@gmail.com>\r\n"
                  b"Subject: Hi\r\n")
    message = headers(raw)
    assert message["Sender"] is None and message["Return-Path"] is None
    assert str(message["From"]) == "Ann <ann@lists.example.org>"


def test_two_from_addresses_with_one_unverified_are_rewritten():
    raw = deliver(b"From: Ann <ann@lists.example.org>, Mallory <m@gmail.com>\r\n")
    assert headers(raw)["From"].addresses[0].addr_spec == "club@lists.example.org"


def test_folded_headers_are_taken_out_whole():
    raw = deliver(b"From: Alice\r\n Example <alice@gmail.com>\r\nSender:\r\n bot@gmail.com\r\nSubject: a\r\n b\r\n")
    message = headers(raw)
    assert message["Sender"] is None and str(message["Subject"]) == "a b"
    assert message["From"].addresses[0].display_name == "Alice Example via Club"
    assert b"bot@gmail.com" not in raw


def test_a_post_without_from_gets_the_lists_address():
    raw = deliver(b"Subject: anonymous\r\n")
    assert headers(raw)["From"].addresses[0].addr_spec == "club@lists.example.org"


def test_forged_list_headers_are_replaced():
    raw = deliver(b"From: a@lists.example.org\r\nList-Unsubscribe: <https://evil.example/>\r\nList-Id: x <evil>\r\n")
    assert b"evil" not in raw


def test_two_from_headers_leave_as_one_from_the_list():
    """SES refuses a message with two From headers; the second must not ride along unchecked either."""
    raw = deliver(b"From: Ann <ann@lists.example.org>\r\nFrom: Mallory <m@gmail.com>\r\nSubject: x\r\n")
    message = headers(raw)
    assert len(message.get_all("From")) == 1 and message["From"].addresses[0].addr_spec == "club@lists.example.org"
    assert "m@gmail.com" in str(message["X-Original-From"])
    assert Rules(["lists.example.org"]).refusal("club-bounces+1.a@lists.example.org", ["x@y.org"], raw) is None


def test_a_post_without_message_id_gets_one_for_all_its_copies():
    front, rest = list_mail_headers(b"From: a@lists.example.org\r\nSubject: x\r\n\r\nbody\r\n", CLUB, config())
    assert headers(front + rest)["Message-ID"].endswith("@lists.example.org>")
    kept = deliver(b"From: a@lists.example.org\r\nMessage-ID: <own@example.org>\r\n")
    assert headers(kept).get_all("Message-ID") == ["<own@example.org>"]
