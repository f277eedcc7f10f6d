"""Who may post: the rule per list, the dialog that sets it, and the policy service Postfix asks."""

import pytest
from sqlalchemy import select

from maillist.extensions import db
from maillist.models import MailingList
from tests import helpers


def request(sender, recipient="club@lists.example.org", **extra):
    fields = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
              "client_address": "203.0.113.5", "sender": sender, "recipient": recipient, **extra}
    return "".join(f"{name}={value}\n" for name, value in fields.items()) + "\n"


def ask(runner, *requests):
    result = runner.invoke(args=["lists", "policy"], input="".join(requests))
    assert result.exit_code == 0, result.output
    return [block for block in result.output.split("\n\n") if block]


@pytest.fixture
def lists(app):
    members = helpers.make_list("club@lists.example.org", "Club")
    announce = helpers.make_list("news@lists.example.org", "News", post_policy="senders", allowed_senders="office@example.org")
    open_list = helpers.make_list("open@lists.example.org", "Open", post_policy="open")
    helpers.make_member("ann@example.org", lists=[members, announce, open_list])
    helpers.make_member("off@example.org", lists=[members], active=False)
    helpers.make_member("hard@example.org", lists=[members], bounce_status="hard")
    helpers.make_member("elsewhere@example.org")
    return members, announce


def test_members_lists_take_mail_from_active_subscribers_only(runner, lists):
    answers = ask(runner, request("ann@example.org"), request("ANN@Example.org"), request("spammer@attacker.example"),
                  request("off@example.org"), request("hard@example.org"), request("elsewhere@example.org"), request(""))
    assert answers[:2] == ["action=DUNNO", "action=DUNNO"]
    assert answers[2:] == ["action=REJECT 5.7.1 only members may post to club@lists.example.org"] * 5


def test_senders_lists_take_mail_from_listed_senders_only(runner, lists):
    answers = ask(runner, request("office@example.org", "news@lists.example.org"), request("ann@example.org", "news@lists.example.org"))
    assert answers == ["action=DUNNO", "action=REJECT 5.7.1 only its listed senders may post to news@lists.example.org"]


def test_other_addresses_are_none_of_the_policys_business(runner, lists):
    answers = ask(runner, request("x@attacker.example", "open@lists.example.org"),
                  request("x@attacker.example", "club-bounces@lists.example.org"),
                  request("x@attacker.example", "club-bounces+1.abc@lists.example.org"),
                  request("x@attacker.example", "someone@elsewhere.example"), request("x@attacker.example", ""))
    assert answers == ["action=DUNNO"] * 5


def test_an_extension_does_not_get_round_the_rule(runner, lists):
    assert ask(runner, request("x@attacker.example", "club+anything@lists.example.org")) == [
        "action=REJECT 5.7.1 only members may post to club@lists.example.org"]


@pytest.mark.parametrize("spelling", ["club@lists.example.org.", "club@lists.example.org..", "CLUB@Lists.Example.ORG.",
                                      "club+x@lists.example.org.", '"club"@lists.example.org', '"club+x"@lists.example.org.',
                                      "<club@lists.example.org>", '"c\\lub"@lists.example.org'])
def test_a_trailing_dot_does_not_get_round_the_rule(runner, lists, spelling):
    """Postfix delivers club@lists.example.org. to the list; the policy once answered DUNNO for that spelling."""
    assert ask(runner, request("x@attacker.example", spelling)) == [
        "action=REJECT 5.7.1 only members may post to club@lists.example.org"]


def test_a_list_nobody_would_receive_is_refused_at_smtp_time_whoever_sends(runner, lists):
    """After Postfix takes a post, a refusal could only go to an envelope sender anyone can forge."""
    quiet = helpers.make_list("quiet@lists.example.org", "Quiet", post_policy="open")
    helpers.make_member("gone@example.org", lists=[quiet], bounce_status="hard")
    helpers.make_member("off2@example.org", lists=[quiet], active=False)
    assert ask(runner, request("anyone@example.com", "quiet@lists.example.org"), request("ann@example.org", "Quiet@lists.example.org.")) == [
        "action=REJECT 5.7.1 quiet@lists.example.org has nobody to deliver to"] * 2


@pytest.mark.parametrize("junk", ["no equals sign\n", "recipient=\n", "=\n", "x" * 20000 + "\n", "sender=a\x00b\n"])
def test_odd_requests_get_an_answer_not_a_crash(runner, lists, junk):
    assert ask(runner, junk + "\n") == ["action=DUNNO"]


def test_new_lists_default_to_members_and_the_dialog_sets_the_rule(login):
    staff = login("operator")
    assert staff.htmx_post("/lists/", {"address": "a@lists.example.org", "name": "A"}).status_code == 200
    assert db.session.scalar(select(MailingList.post_policy).where(MailingList.address == "a@lists.example.org")) == "members"
    created = staff.htmx_post("/lists/", {"address": "b@lists.example.org", "name": "B", "post_policy": "senders",
                                          "allowed_senders": "Office@Example.org\nchair@example.org, office@example.org"})
    assert created.status_code == 200
    news = db.session.scalar(select(MailingList).where(MailingList.address == "b@lists.example.org"))
    assert (news.post_policy, news.sender_list) == ("senders", ["office@example.org", "chair@example.org"])
    form = staff.get(f"/lists/{news.id}/edit").get_data(as_text=True)
    assert 'value="senders" checked' in form and "office@example.org\nchair@example.org" in form
    assert staff.post_form(f"/lists/{news.id}/edit", {"name": "B", "post_policy": "open"}).status_code == 303
    db.session.refresh(news)
    assert news.post_policy == "open"


@pytest.mark.parametrize("fields, message", [
    ({"post_policy": "senders", "allowed_senders": ""}, "List the addresses allowed to post"),
    ({"post_policy": "senders", "allowed_senders": "not an address"}, "not a valid email address"),
    ({"post_policy": "everyone"}, "Who may post must be one of"),
])
def test_a_bad_rule_is_refused_in_the_dialog_and_nothing_changes(login, fields, message):
    staff = login("operator")
    response = staff.htmx_post("/lists/", {"address": "c@lists.example.org", "name": "C", **fields})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(MailingList).where(MailingList.address == "c@lists.example.org")) is None


def test_viewers_cannot_change_the_rule(login, lists):
    members, _ = lists
    response = login("viewer").post_form(f"/lists/{members.id}/edit", {"name": "Club", "post_policy": "open"})
    assert response.status_code == 403
    db.session.refresh(members)
    assert members.post_policy == "members"


def test_the_list_page_says_who_may_post(login, lists):
    _, announce = lists
    html = login("viewer").get(f"/lists/{announce.id}").get_data(as_text=True)
    assert "Who may post: Only the senders listed (office@example.org)" in html
