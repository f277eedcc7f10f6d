"""The test relay is as strict as SES's SMTP interface: what it lets through, SES would take."""

import smtplib

import pytest

from tests import ses_relay

GOOD = b"From: Club <club@lists.example.org>\r\nTo: ann@example.org\r\nSubject: Hi\r\n\r\nBody\r\n"


@pytest.fixture
def relay():
    server = ses_relay.start(["lists.example.org", "office@club.example"], rate=3)
    yield server
    server.shutdown()
    server.server_close()


def send(relay, sender, recipients, data):
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as smtp:
        return smtp.sendmail(sender, recipients, data)


def refusal(relay, sender, data, recipients=("ann@example.org",)):
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as refused:
        send(relay, sender, list(recipients), data)
    return refused.value.smtp_code, refused.value.smtp_error.decode()


def test_a_message_from_verified_identities_is_kept(relay):
    send(relay, "club-bounces+1.abc@lists.example.org", ["ann@example.org"], GOOD)
    send(relay, "office@club.example", ["ann@example.org"], GOOD.replace(b"club@lists.example.org", b"office@club.example"))
    send(relay, "x@mail.lists.example.org", ["ann@example.org"], GOOD)  # subdomains inherit
    assert [m[0] for m in relay.outbox.wait_for(3)] == ["club-bounces+1.abc@lists.example.org", "office@club.example",
                                                        "x@mail.lists.example.org"]


@pytest.mark.parametrize("sender, data, unverified", [
    ("club@lists.example.org", GOOD.replace(b"club@lists.example.org", b"alice@gmail.com"), "alice@gmail.com"),
    ("club@lists.example.org", b"Sender: bot@gmail.com\r\n" + GOOD, "bot@gmail.com"),
    ("alice@gmail.com", GOOD, "alice@gmail.com"),
    ("club@lists.example.org", GOOD.replace(b"club@lists.example.org", b"someone@club.example"), "someone@club.example"),
    ("club@lists.example.org", GOOD.replace(b"club@lists.example.org", b"x@evillists.example.org"), "x@evillists.example.org"),
])
def test_unverified_from_sender_or_return_path_is_refused(relay, sender, data, unverified):
    code, text = refusal(relay, sender, data)
    assert code == 554 and "Email address is not verified" in text and unverified in text
    assert relay.outbox.messages == []


def test_two_from_headers_and_none_are_refused(relay):
    assert refusal(relay, "club@lists.example.org", b"From: club@lists.example.org\r\n" + GOOD)[0] == 554
    assert refusal(relay, "club@lists.example.org", b"Subject: x\r\n\r\nbody\r\n")[0] == 554


def test_too_many_recipients_and_too_large(relay):
    recipients = [f"m{i}@example.org" for i in range(51)]
    assert refusal(relay, "club@lists.example.org", GOOD, recipients)[0] == 554
    rules = ses_relay.Rules(["lists.example.org"])
    big = GOOD + b"x" * (ses_relay.MAX_MESSAGE_BYTES + 1)
    assert rules.refusal("club@lists.example.org", ["a@b.org"], big).startswith("552")


def test_over_the_send_rate_is_throttled_with_a_temporary_error(relay):
    answers = []
    for _ in range(5):
        try:
            send(relay, "club@lists.example.org", ["ann@example.org"], GOOD)
            answers.append(250)
        except smtplib.SMTPDataError as error:
            answers.append(error.smtp_code)
            assert b"Throttling failure" in error.smtp_error
    assert answers[:3] == [250, 250, 250] and 454 in answers[3:]
