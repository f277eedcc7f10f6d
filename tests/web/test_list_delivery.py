"""`flask lists deliver`: one envelope per member, each with that member's signed bounce address."""

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from maillist.bounce_addresses import check_token, read_bounce_address
from maillist.extensions import db
from maillist.lists import unsubscribe as one_click
from tests import helpers
from tests.ses_relay import Rules

MESSAGE = b"From: Secretary <secretary@example.org>\nTo: club@lists.example.org\nSubject: Friday\n\nSee you at eight.\n"


class Sink:
    def __init__(self, refuse=()):
        self.messages, self.refuse = [], set(refuse)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def sink():
    """An SMTP server on loopback standing in for Postfix's re-injection listener."""
    handler = Sink()
    port = helpers.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def deliver(runner, port, address="club@lists.example.org", message=MESSAGE):
    return runner.invoke(args=["lists", "deliver", "--reinject", f"127.0.0.1:{port}", address], input=message)


def test_each_member_gets_one_message_with_their_own_signed_sender(app, runner, sink):
    handler, port = sink
    club = helpers.make_list("club@lists.example.org", "Club \"Friends\"", post_policy="open")
    members = [helpers.make_member(e, lists=[club]) for e in ("ann@example.org", "bob@example.net")]
    helpers.make_member("off@example.org", lists=[club], active=False)
    helpers.make_member("hard@example.org", lists=[club], bounce_status="hard")
    result = deliver(runner, port)
    assert result.exit_code == 0, result.output
    assert sorted(rcpts[0] for _, rcpts, _ in handler.messages) == ["ann@example.org", "bob@example.net"]
    for sender, rcpts, content in handler.messages:
        member = next(m for m in members if m.email == rcpts[0])
        token = read_bounce_address(sender)
        assert (token.list_address, token.member_id) == ("club@lists.example.org", member.id)
        check_token(token, member.email)
        personal = f"List-Unsubscribe: <mailto:{one_click.unsubscribe_address(club.address, one_click.token(club.id, member.id, member.email))}>\r\n"
        assert content.startswith(personal.encode())
        content = content[len(personal):]
        assert content.startswith(b'From: "Secretary via Club \\"Friends\\"" <club@lists.example.org>\r\n'
                                  b"Reply-To: Secretary <secretary@example.org>\r\n"
                                  b"X-Original-From: Secretary <secretary@example.org>\r\n"
                                  b"List-Id: Club Friends <club.lists.example.org>\r\nList-Post: <mailto:club@lists.example.org>\r\n")
        assert content.endswith(b"Subject: Friday\r\n\r\nSee you at eight.\r\n"), "the body as it came, no line added"
        # What SES would make of it: the list's own domain is verified, the author's is not.
        assert Rules(["lists.example.org"]).refusal(sender, rcpts, content) is None


def test_a_refused_member_does_not_stop_the_others(app, runner, sink):
    handler, port = sink
    handler.refuse.add("ghost@example.org")
    club = helpers.make_list("club@lists.example.org", post_policy="open")
    for email in ("ann@example.org", "ghost@example.org", "bob@example.net"):
        helpers.make_member(email, lists=[club])
    result = deliver(runner, port)
    assert result.exit_code == 0 and "sent to 2 member(s), 1 refused" in result.output
    assert sorted(rcpts[0] for _, rcpts, _ in handler.messages) == ["ann@example.org", "bob@example.net"]


@pytest.mark.parametrize("setup, address", [("nobody", "club@lists.example.org"), ("inactive", "club@lists.example.org"),
                                            ("none", "nolist@lists.example.org")])
def test_nothing_to_deliver_is_discarded_never_returned_to_its_sender(app, runner, sink, setup, address):
    """The policy service refuses these at SMTP time; one that changed since Postfix took the post
    is logged and dropped: the envelope sender of an open list is anyone's to forge."""
    handler, port = sink
    club = helpers.make_list("club@lists.example.org", active=setup != "inactive", post_policy="open")
    if setup != "nobody":
        helpers.make_member("ann@example.org", lists=[club])
    result = deliver(runner, port, address)
    assert result.exit_code == 0 and handler.messages == []
    assert "discarded: " in result.output


def test_nowhere_to_send_asks_postfix_to_try_again(app, runner):
    club = helpers.make_list("club@lists.example.org", post_policy="open")
    helpers.make_member("ann@example.org", lists=[club])
    result = deliver(runner, helpers.free_port())
    assert result.exit_code == 75 and "re-injection failed" in result.output


def test_a_message_smtp_refuses_outright_is_discarded_not_round_and_round(app, runner, sink):
    handler, port = sink
    club = helpers.make_list("club@lists.example.org", post_policy="open")
    helpers.make_member("ann@example.org", lists=[club])
    result = deliver(runner, port, message=MESSAGE + b"x" * 5000 + b"\n")
    assert result.exit_code == 0 and "discarded: the message was refused: 5" in result.output


@pytest.mark.parametrize("policy, senders, from_header, allowed", [
    ("members", "", "Ann <ann@example.org>", True),
    ("members", "", "Club Treasurer <treasurer@lists.example.org>", False),
    ("members", "", "", False),
    ("senders", "office@example.org", "office@example.org", True),
    ("senders", "office@example.org", "ann@example.org", False),
    ("open", "", "anyone@example.com", True),
])
def test_the_from_header_follows_the_lists_posting_rule(app, runner, sink, policy, senders, from_header, allowed):
    """The envelope sender was checked at SMTP time; a From: that the rule refuses is discarded, not returned."""
    handler, port = sink
    club = helpers.make_list("club@lists.example.org", post_policy=policy, allowed_senders=senders)
    helpers.make_member("ann@example.org", lists=[club])
    message = MESSAGE.replace(b"From: Secretary <secretary@example.org>", f"From: {from_header}".encode())
    result = deliver(runner, port, message=message)
    if allowed:
        assert result.exit_code == 0 and len(handler.messages) == 1, result.output
    else:
        assert result.exit_code == 0 and handler.messages == [] and "discarded: " in result.output, result.output
        assert "may post" in result.output or "no From: address" in result.output


def test_the_prefix_and_footer_reach_each_member_with_their_own_link(app, runner, sink):
    from email import message_from_bytes, policy

    handler, port = sink
    app.config["PUBLIC_URL"] = "https://lists.example.org"
    club = helpers.make_list("club@lists.example.org", "Club", post_policy="open")
    club.subject_prefix, club.footer = "[Club]", "Training is on Thursdays."
    db.session.commit()
    members = [helpers.make_member(e, lists=[club]) for e in ("ann@example.org", "bob@example.net")]
    result = deliver(runner, port)
    assert result.exit_code == 0, result.output
    for _, (recipient,), content in handler.messages:
        member = next(m for m in members if m.email == recipient)
        copy = message_from_bytes(content.replace(b"\r\n", b"\n"), policy=policy.default)
        assert str(copy["Subject"]) == "[Club] Friday"
        link = f"https://lists.example.org/unsubscribe/{one_click.token(club.id, member.id, member.email)}"
        body = copy.get_content()
        assert body.startswith("See you at eight.\n\n-- \nTraining is on Thursdays.\n") and body.endswith(f"{link}\n")
        assert f"<{link}>" in str(copy["List-Unsubscribe"])
        assert b"@@unsubscribe-" not in content


def test_the_list_form_keeps_a_prefix_and_footer_and_refuses_bad_ones(app, login):
    from maillist.models import MailingList

    staff = login("admin")
    answer = staff.post_form("/lists/", {"address": "club@lists.example.org", "name": "Club", "post_policy": "open",
                                         "subject_prefix": "  [Club]  ", "footer": "Line one\r\nLine two  \r\n"})
    assert answer.status_code in (200, 303), answer.get_data(as_text=True)
    club = db.session.scalar(select(MailingList))
    assert (club.subject_prefix, club.footer) == ("[Club]", "Line one\nLine two")
    for fields, message in (({"subject_prefix": "x" * 61}, "at most 60"), ({"footer": "y" * 2001}, "at most 2000"),
                            ({"footer": "bell\x07"}, "control characters")):
        answer = staff.post_form(f"/lists/{club.id}/edit", {"name": "Club", "post_policy": "open", **fields})
        assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    db.session.refresh(club)
    assert (club.subject_prefix, club.footer) == ("[Club]", "Line one\nLine two")


@pytest.mark.parametrize("head", [
    b"From: Secretary <secretary@example.org>\nFrom: Stranger <stranger@attacker.example>\n",
    b"From: Secretary <secretary@example.org>\nFrom: Secretary <secretary@example.org>\n",
    b"Sender: secretary@example.org\n",
])
def test_a_post_without_exactly_one_from_goes_to_nobody(app, runner, sink, head):
    """The first From was checked and both relayed; now such a post is discarded and logged, never bounced."""
    handler, port = sink
    club = helpers.make_list("club@lists.example.org", "Club")  # members may post
    helpers.make_member("secretary@example.org", lists=[club])
    result = deliver(runner, port, message=head + b"Subject: x\n\nbuy\n")
    assert result.exit_code == 0 and "discarded: the post has" in result.output
    assert handler.messages == []
