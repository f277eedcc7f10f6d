"""Mail through a real Postfix with maillist's configuration, relaying to a local SMTP sink."""

import smtplib
import time
from email.message import EmailMessage
from email.parser import BytesParser
from email import policy

import pytest
from sqlalchemy import select

from maillist.extensions import db
from maillist.models import BounceLog, Member
from tests import helpers
from tests.system.postfix_helpers import need_postfix, run_as_root
from tests.helpers import need


@pytest.fixture
def backend():
    return "mariadb"


@pytest.fixture
def postfix(app, database_url):
    need_postfix()
    need(run_as_root(), "starting Postfix needs root")
    from tests.system.postfix_instance import running_postfix

    with running_postfix(database_url) as running:
        yield running


def message(to, subject="Meeting on Friday"):
    mail = EmailMessage()
    mail["From"] = "Secretary <secretary@example.org>"
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content("See you at eight.\n")
    return mail


def send(port, to, sender="secretary@example.org"):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.example.org")
        return smtp.send_message(message(to), from_addr=sender, to_addrs=[to])


def test_list_mail_reaches_each_active_member_once(postfix):
    port, sink, _config, _base = postfix
    club = helpers.make_list("club@lists.example.org", "Club")
    for email in ("ann@example.org", "bob@example.net", "soft@example.org"):
        helpers.make_member(email, lists=[club], bounce_status="soft" if email.startswith("soft") else "clean")
    helpers.make_member("off@example.org", lists=[club], active=False)
    helpers.make_member("hard@example.org", lists=[club], bounce_status="hard")
    helpers.make_member("outsider@example.org")
    send(port, "Club@Lists.Example.org")
    received = sink.wait_for(1)
    time.sleep(1)  # anything more would arrive now
    received = sink.messages
    recipients = sorted(r for _, rcpts, _ in received for r in rcpts)
    assert recipients == ["ann@example.org", "bob@example.net", "soft@example.org"]
    assert {sender for sender, _, _ in received} == {"club-bounces@lists.example.org"}
    headers = BytesParser(policy=policy.default).parsebytes(received[0][2])
    assert headers["List-Id"] == "Club <club.lists.example.org>"
    assert headers["List-Post"] == "<mailto:club@lists.example.org>"
    assert headers["Subject"] == "Meeting on Friday"


def test_unknown_list_and_outside_domains_are_refused(postfix):
    port, sink, _config, _base = postfix
    helpers.make_list("club@lists.example.org", "Club")
    for to, code in (("nolist@lists.example.org", 550), ("someone@example.com", 554), ("x@gmail.example", 554)):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(port, to)
        assert refused.value.recipients[to][0] == code, refused.value.recipients
    assert sink.messages == []


def test_inactive_list_is_refused(postfix):
    port, sink, _config, _base = postfix
    club = helpers.make_list("club@lists.example.org", "Club", active=False)
    helpers.make_member("ann@example.org", lists=[club])
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(port, "club@lists.example.org")
    assert sink.messages == []


def test_bounce_comes_back_to_maillist_and_marks_the_member(postfix):
    port, sink, _config, base = postfix
    club = helpers.make_list("club@lists.example.org", "Club")
    helpers.make_member("ann@example.org", lists=[club])
    # A local address that does not exist: Postfix's own local delivery bounces it.
    ghost = helpers.make_member("ghost@localhost", lists=[club])
    send(port, "club@lists.example.org")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db.session.expire_all()
        member = db.session.get(Member, ghost.id)
        if member.bounce_status == "hard":
            break
        time.sleep(0.5)
    log = (base / "maillog").read_text()
    assert member.bounce_status == "hard" and member.active is False, log[-3000:]
    bounce = db.session.scalar(select(BounceLog).where(BounceLog.email == "ghost@localhost"))
    assert bounce.bounce_type == "Permanent" and bounce.status.startswith("5.")
    assert [r for _, rcpts, _ in sink.wait_for(1) for r in rcpts] == ["ann@example.org"]


def test_list_with_nobody_to_deliver_to_returns_the_message(postfix):
    port, sink, _config, base = postfix
    quiet = helpers.make_list("quiet@lists.example.org", "Quiet")
    helpers.make_member("off@example.org", lists=[quiet], active=False)
    send(port, "quiet@lists.example.org")
    received = sink.wait_for(1)
    assert len(received) == 1, (base / "maillog").read_text()[-2000:]
    sender, recipients, content = received[0]
    assert sender == "<>" and recipients == ["secretary@example.org"]
    assert b"this list has nobody to deliver to" in content
