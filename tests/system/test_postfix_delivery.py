"""Mail through a real Postfix with maillist's configuration, relaying to a local relay that refuses
what SES refuses (tests/ses_relay.py: unverified From/Sender/Return-Path, size, send rate)."""

import smtplib
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from sqlalchemy import select

from maillist.bounce_addresses import bounce_address
from maillist.extensions import db
from maillist.models import BounceLog, Member
from tests import helpers
from tests.helpers import need
from tests.system.postfix_helpers import need_postfix, run_as_root


@pytest.fixture
def backend():
    return "mariadb"


# A password with characters that shell quoting, URLs and pipe(8) each treat specially.
PIPE_PASSWORD = "p!a%ss'x"


@pytest.fixture
def pipe_database_url(database_url):
    """The test database through its own MariaDB user, with a hard password and a query string."""
    from urllib.parse import quote

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    admin = create_engine(url)
    with admin.begin() as connection:
        for host in ("127.0.0.1", "localhost"):
            connection.execute(text(f"CREATE USER IF NOT EXISTS 'maillist_pipe'@'{host}' IDENTIFIED BY :password"), {"password": PIPE_PASSWORD})
            connection.execute(text(f"ALTER USER 'maillist_pipe'@'{host}' IDENTIFIED BY :password"), {"password": PIPE_PASSWORD})
            connection.execute(text(f"GRANT ALL ON `{url.database}`.* TO 'maillist_pipe'@'{host}'"))
    admin.dispose()
    return f"mysql+pymysql://maillist_pipe:{quote(PIPE_PASSWORD, safe='')}@{url.host}:{url.port or 3306}/{url.database}?charset=utf8mb4"


@pytest.fixture
def postfix(app, pipe_database_url):
    need_postfix()
    need(run_as_root(), "starting Postfix needs root")
    from tests.system.postfix_instance import running_postfix

    with running_postfix(pipe_database_url) as running:
        yield running


@pytest.fixture
def paced_postfix(app, pipe_database_url):
    """Postfix whose relay takes 2 messages a second (as an SES account might), posts up to 1 MB."""
    need_postfix()
    need(run_as_root(), "starting Postfix needs root")
    from tests.system.postfix_instance import running_postfix

    with running_postfix(pipe_database_url, relay_rate=2, SES_MAX_SEND_RATE="2", MAX_MESSAGE_MB="1",
                         PUBLIC_URL="https://lists.example.org") as running:
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


def test_list_mail_reaches_each_active_member_once_with_their_own_signed_sender(postfix):
    port, sink, _config, base = postfix
    club = helpers.make_list("club@lists.example.org", "Club", post_policy="open")
    members = [helpers.make_member(email, lists=[club], bounce_status="soft" if email.startswith("soft") else "clean")
               for email in ("ann@example.org", "bob@example.net", "soft@example.org")]
    helpers.make_member("off@example.org", lists=[club], active=False)
    helpers.make_member("hard@example.org", lists=[club], bounce_status="hard")
    helpers.make_member("outsider@example.org")
    send(port, "Club@Lists.Example.org")
    received = sink.wait_for(3)
    time.sleep(1)  # anything more would arrive now
    received = sink.messages
    assert sorted((rcpts, sender) for sender, rcpts, _ in received) == sorted(
        ([member.email], bounce_address(club.address, member.id, member.email)) for member in members), (base / "maillog").read_text()[-3000:]
    assert len({sender for sender, _, _ in received}) == 3
    assert all(sender.startswith("club-bounces+") for sender, _, _ in received)
    headers = BytesParser(policy=policy.default).parsebytes(received[0][2])
    assert headers["List-Id"] == "Club <club.lists.example.org>"
    assert headers["List-Post"] == "<mailto:club@lists.example.org>"
    assert headers["Subject"] == "Meeting on Friday"


def test_unknown_list_and_outside_domains_are_refused(postfix):
    port, sink, _config, _base = postfix
    helpers.make_list("club@lists.example.org", "Club", post_policy="open")
    for to, code in (("nolist@lists.example.org", 550), ("someone@example.com", 554), ("x@gmail.example", 554)):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(port, to)
        assert refused.value.recipients[to][0] == code, refused.value.recipients
    assert sink.messages == []


def test_inactive_list_is_refused(postfix):
    port, sink, _config, _base = postfix
    club = helpers.make_list("club@lists.example.org", "Club", active=False, post_policy="open")
    helpers.make_member("ann@example.org", lists=[club])
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(port, "club@lists.example.org")
    assert sink.messages == []


def wait_for_bounce(member_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        member = db.session.get(Member, member_id)
        if member.bounce_status == "hard":
            return member
        time.sleep(0.5)
    return member


def test_bounce_comes_back_through_the_members_token_and_marks_only_that_member(postfix):
    port, sink, _config, base = postfix
    club = helpers.make_list("club@lists.example.org", "Club", post_policy="open")
    ann = helpers.make_member("ann@example.org", lists=[club])
    # A local address that does not exist: Postfix's own local delivery bounces it, to the
    # ghost's signed bounce address.
    ghost = helpers.make_member("ghost@localhost", lists=[club])
    send(port, "club@lists.example.org")
    member = wait_for_bounce(ghost.id)
    log = (base / "maillog").read_text()
    assert member.bounce_status == "hard" and member.active is False, log[-3000:]
    bounce = db.session.scalar(select(BounceLog).where(BounceLog.email == "ghost@localhost"))
    assert bounce.bounce_type == "Permanent" and bounce.status.startswith("5.")
    assert [r for _, rcpts, _ in sink.wait_for(1) for r in rcpts] == ["ann@example.org"]
    db.session.refresh(ann)
    assert (ann.bounce_status, ann.bounce_count) == ("clean", 0)


FORGED_DSN = """From: stranger@attacker.example
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: <forged-{n}@attacker.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; attacker.example

Final-Recipient: rfc822; ann@example.org
Action: failed
Status: 5.1.1

--B--
"""


def send_raw(port, to, text, sender="stranger@attacker.example"):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.example.org")
        smtp.sendmail(sender, [to], text.encode())


def pipe_ran(base, count, timeout=30, pipe="maillist-dsn"):
    """Wait until a pipe (the bounce pipe unless said) has run `count` times (each run logs one delivery by it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = (base / "maillog").read_text()
        if log.count(f"relay={pipe}") >= count:
            return log
        time.sleep(0.3)
    return (base / "maillog").read_text()


def test_forged_reports_and_vacation_replies_change_nothing(postfix):
    port, _sink, _config, base = postfix
    club = helpers.make_list("club@lists.example.org", "Club", post_policy="open")
    ann = helpers.make_member("ann@example.org", lists=[club])
    bob = helpers.make_member("bob@example.org", lists=[club])
    token = bounce_address(club.address, bob.id, bob.email)
    wrong = token[:-len("@lists.example.org") - 1] + ("a" if token[-len("@lists.example.org") - 1] != "a" else "b") + "@lists.example.org"
    send_raw(port, "club-bounces@lists.example.org", FORGED_DSN.format(to="club-bounces@lists.example.org", n=1))
    send_raw(port, wrong, FORGED_DSN.format(to=wrong, n=2))
    vacation = ("From: Bob <bob@example.org>\nTo: {to}\nSubject: Out of office\nAuto-Submitted: auto-replied\n"
                "Message-ID: <away@example.org>\n\nAway until Monday; write to ann@example.org, 550 5.1.1.\n").format(to=token)
    send_raw(port, token, vacation, sender="")
    log = pipe_ran(base, 3)
    assert log.count("relay=maillist-dsn") >= 3 and "status=sent" in log, log[-3000:]
    for member in (ann, bob):
        db.session.refresh(member)
        assert (member.bounce_status, member.bounce_count, member.active) == ("clean", 0, True)
    assert db.session.scalar(select(BounceLog)) is None


def test_list_with_nobody_to_deliver_to_is_refused_at_smtp_time(postfix):
    port, sink, _config, base = postfix
    quiet = helpers.make_list("quiet@lists.example.org", "Quiet", post_policy="open")
    helpers.make_member("off@example.org", lists=[quiet], active=False)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(port, "quiet@lists.example.org", sender="forged@victim.example")
    code, reason = refused.value.recipients["quiet@lists.example.org"]
    assert code == 554 and b"has nobody to deliver to" in reason, reason
    time.sleep(2)
    assert sink.messages == [], "nothing was mailed to the forged sender"


@pytest.mark.parametrize("spelling", ["club@lists.example.org.", "CLUB@Lists.Example.Org", '"club"@lists.example.org',
                                      "club+tag@lists.example.org", '"club+x"@lists.example.org.'])
def test_every_spelling_postfix_delivers_to_a_list_is_asked_of_the_policy(postfix, spelling):
    """A stranger's post to a members list, however the list's address is written, is refused while
    it arrives; nothing reaches the members and nothing goes back to the (forgeable) sender."""
    port, sink, _config, base = postfix
    club = helpers.make_list("club@lists.example.org", "Club")
    helpers.make_member("secretary@example.org", lists=[club])
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.example.org")
        assert smtp.mail("spammer@attacker.example")[0] == 250
        code, reason = smtp.rcpt(spelling)
    assert code == 554 and b"only members may post to club@lists.example.org" in reason, (code, reason, spelling)
    time.sleep(1)
    assert sink.messages == [], (base / "maillog").read_text()[-3000:]


def test_who_may_post_is_decided_at_smtp_time(postfix):
    """A members list takes a member's post and refuses a stranger's; a senders list only its senders."""
    port, sink, _config, base = postfix
    club = helpers.make_list("club@lists.example.org", "Club")
    news = helpers.make_list("news@lists.example.org", "News", post_policy="senders", allowed_senders="office@example.org")
    helpers.make_member("secretary@example.org", lists=[club, news])
    helpers.make_member("bob@example.net", lists=[club, news])
    for to, sender in (("club@lists.example.org", "spammer@attacker.example"), ("news@lists.example.org", "secretary@example.org")):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(port, to, sender=sender)
        code, reason = refused.value.recipients[to]
        assert code == 554 and b"5.7.1" in reason and b"may post to " + to.encode() in reason, reason
    send(port, "club@lists.example.org", sender="secretary@example.org")
    sink.wait_for(2)
    time.sleep(1)
    assert sorted(r for _, rcpts, _ in sink.messages for r in rcpts) == ["bob@example.net", "secretary@example.org"], (base / "maillog").read_text()[-3000:]


def test_a_forged_from_header_is_refused_even_with_a_members_envelope(postfix):
    port, sink, _config, base = postfix
    club = helpers.make_list("club@lists.example.org", "Club")
    helpers.make_member("secretary@example.org", lists=[club])
    helpers.make_member("bob@example.net", lists=[club])
    forged = message("club@lists.example.org")
    del forged["From"]
    forged["From"] = "Club Treasurer <treasurer@lists.example.org>"
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.example.org")
        smtp.send_message(forged, from_addr="secretary@example.org", to_addrs=["club@lists.example.org"])
    log = pipe_ran(base, 1, pipe="maillist-list")
    time.sleep(2)
    # Nobody on the list got it, and nothing went back to the envelope sender (which anyone can forge).
    assert sink.messages == [], log[-3000:]
    assert "relay=maillist-list" in log and "status=sent" in log, log[-3000:]


def test_the_guides_simulator_test_with_mail(postfix):
    """`echo "Test bounce" | mail -s "Test" bounce@simulator.amazonses.com`, as the guide runs it in the container."""
    import os
    import shutil
    import subprocess

    _port, sink, config, base = postfix
    mail = shutil.which("mail")
    need(mail is not None, "no mail command (apt-get install bsd-mailx)")
    subprocess.run([mail, "-s", "Test", "bounce@simulator.amazonses.com"], input=b"Test bounce\n", check=True, timeout=30,
                   env=dict(os.environ, MAIL_CONFIG=str(config)))
    (received,) = sink.wait_for(1)
    sender, recipients, content = received
    assert recipients == ["bounce@simulator.amazonses.com"], (base / "maillog").read_text()[-2000:]
    assert b"Subject: Test" in content and b"Test bounce" in content


def test_a_post_by_an_unverified_author_reaches_everyone_paced_to_the_send_rate(paced_postfix):
    """SES refuses From: secretary@example.org (not verified) and throttles past its send rate: the
    copies leave From the list, Reply-To the author, spaced so the relay never answers 454."""
    port, relay, _config, base = paced_postfix
    club = helpers.make_list("club@lists.example.org", "Club", post_policy="open")
    emails = [f"m{i}@example.net" for i in range(6)]
    for email in emails:
        helpers.make_member(email, lists=[club])
    started = time.monotonic()
    send(port, "club@lists.example.org")
    received = relay.wait_for(len(emails), timeout=60)
    elapsed = time.monotonic() - started
    assert sorted(r for _, rcpts, _ in received for r in rcpts) == emails, (base / "maillog").read_text()[-3000:]
    assert relay.refused == [], "never refused or throttled"
    assert elapsed >= 2, "six copies at two a second take at least 2.5 s"
    for _, (recipient,), content in received:
        copy = BytesParser(policy=policy.default).parsebytes(content)
        assert str(copy["From"]) == "Secretary via Club <club@lists.example.org>"
        assert str(copy["Reply-To"]) == "Secretary <secretary@example.org>"
        assert str(copy["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
        assert "https://lists.example.org/unsubscribe/" in str(copy["List-Unsubscribe"])


def test_a_post_over_the_size_limit_is_refused_at_smtp_time(paced_postfix):
    port, relay, _config, base = paced_postfix
    club = helpers.make_list("club@lists.example.org", "Club", post_policy="open")
    helpers.make_member("ann@example.org", lists=[club])
    big = message("club@lists.example.org")
    big.set_content("x" * 76 + "\n" * 1 + ("y" * 76 + "\n") * 16_000)  # about 1.2 MB
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.example.org")
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
            smtp.send_message(big, from_addr="secretary@example.org", to_addrs=["club@lists.example.org"])
    assert refused.value.smtp_code == 552 and b"size" in refused.value.smtp_error.lower()
    time.sleep(2)
    assert relay.messages == [], "nothing relayed, nothing bounced"


@pytest.fixture
def never_rewriting_postfix(app, pipe_database_url):
    """Postfix whose pipes never rewrite From: SES (the relay) refuses every unverified author's post."""
    need_postfix()
    need(run_as_root(), "starting Postfix needs root")
    from tests.system.postfix_instance import running_postfix

    with running_postfix(pipe_database_url, FROM_REWRITE="never", NOTIFY_FROM="maillist@lists.example.org") as running:
        yield running


def test_a_post_the_relay_refuses_is_told_to_the_owners_and_bounces_no_member(never_rewriting_postfix):
    port, relay, _config, base = never_rewriting_postfix
    club = helpers.make_list("club@lists.example.org", "Club", post_policy="open")
    club.owners = "owner@example.net"
    db.session.commit()
    members = [helpers.make_member(f"m{i}@example.net", lists=[club]) for i in range(3)]
    send(port, "club@lists.example.org")
    relay.wait_for(1, timeout=60)
    time.sleep(3)  # the other copies' reports arrive too, and must not tell the owners again
    log = (base / "maillog").read_text()
    assert len(relay.messages) == 1, log[-3000:]
    sender, recipients, content = relay.messages[0]
    assert recipients == ["owner@example.net"] and b"was refused by the mail relay" in content
    assert b"Email address is not verified" in content and b"Subject: Meeting on Friday" in content
    assert log.count("relay=maillist-dsn") == 3, "each refused copy came back through the bounce pipe"
    assert len(relay.refused) == 3
    for member in members:
        db.session.refresh(member)
        assert (member.bounce_status, member.bounce_count, member.active) == ("clean", 0, True)
    assert db.session.scalar(select(BounceLog)) is None



@pytest.fixture
def throttling_postfix(app, pipe_database_url):
    """Postfix relaying to an SES-rules relay at 2 a second, the pipe not paced, and Postfix's own
    queue retrying deferred mail within seconds (its defaults wait minutes)."""
    need_postfix()
    need(run_as_root(), "starting Postfix needs root")
    from tests.system.postfix_instance import running_postfix

    retry_fast = ("maximal_queue_lifetime = 1h\nbounce_queue_lifetime = 1h\nminimal_backoff_time = 1s\n"
                  "maximal_backoff_time = 2s\nqueue_run_delay = 1s\n")
    with running_postfix(pipe_database_url, relay_rate=2, main_cf=retry_fast, SES_MAX_SEND_RATE="0") as running:
        yield running


def test_a_throttled_relay_attempt_is_retried_by_postfix(throttling_postfix):
    """SES's `454 Throttling failure` is a temporary refusal: Postfix keeps the copy and tries again,
    so every member still gets exactly one, and nothing goes back to anyone."""
    port, relay, _config, base = throttling_postfix
    club = helpers.make_list("club@lists.example.org", "Club", post_policy="open")
    emails = [f"m{i}@example.net" for i in range(8)]
    for email in emails:
        helpers.make_member(email, lists=[club])
    send(port, "club@lists.example.org")
    received = relay.wait_for(len(emails), timeout=90)
    time.sleep(2)
    log = (base / "maillog").read_text()
    assert any("Throttling failure" in reason for _, _, reason in relay.refused), log[-3000:]
    assert sorted(r for _, rcpts, _ in relay.messages for r in rcpts) == emails, log[-3000:]
    assert len(received) == len(emails) and "status=bounced" not in log
