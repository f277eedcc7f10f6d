"""`flask bounces notify`: owners hear once of each member their lists lost, through a real SMTP server."""

import email
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from maillist.extensions import db
from maillist.lists import services as lists
from maillist.models import BounceLog
from tests import helpers

WEBHOOK = {"ENABLE_SNS_WEBHOOKS": True, "ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN],
           "PUBLIC_URL": "https://lists.example.org", "NOTIFY_FROM": "maillist@lists.example.org"}


@pytest.fixture
def sink():
    """An SMTP server on 127.0.0.1 that keeps what it is given."""
    keeper = helpers.SmtpSink()
    controller = Controller(keeper, hostname="127.0.0.1", port=helpers.free_port())
    controller.start()
    yield keeper, controller.port
    controller.stop()


@pytest.fixture
def app_overrides():
    return WEBHOOK


@pytest.fixture
def smtp(app, sink):
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "127.0.0.1", sink[1]
    return sink[0]


def hard_bounce(client, address):
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", [address])))


def complaint(client, address):
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Complaint", [address])))


def received(keeper):
    return {tuple(rcpts): email.message_from_bytes(content, policy=policy.default) for _, rcpts, content in keeper.messages}


def test_owners_get_a_digest_once_of_each_member_lost(client, aws, runner, smtp):
    club = lists.add_list("club@lists.example.org", "Club", owners="chair@example.org\nsecretary@example.org")
    choir = lists.add_list("choir@lists.example.org", "Choir", owners="chair@example.org")
    ann = helpers.make_member("ann@example.org", lists=[club, choir])
    helpers.make_member("bob@example.org", lists=[choir])
    helpers.make_member("carl@example.org", lists=[club])  # stays active: nothing to tell
    hard_bounce(client, "ann@example.org")
    complaint(client, "bob@example.org")
    hard_bounce(client, "ann@example.org")  # a second event for the same member: still one line
    result = runner.invoke(args=["bounces", "notify"])
    assert result.exit_code == 0, result.output
    assert "told chair@example.org of 2 member(s)" in result.output and "told secretary@example.org of 1 member(s)" in result.output
    mail = received(smtp)
    chair = mail[("chair@example.org",)].get_content()
    assert mail[("chair@example.org",)]["Subject"] == "maillist: 2 members deactivated"
    assert mail[("chair@example.org",)]["From"] == "maillist@lists.example.org"
    assert "- ann@example.org: hard bounce: no such user (5.1.1); lists: choir@lists.example.org, club@lists.example.org" in chair
    assert f"history: https://lists.example.org/members/{ann.id}/bounces" in chair
    assert "- bob@example.org: complained (abuse); lists: choir@lists.example.org" in chair
    assert chair.count("ann@example.org:") == 1 and "carl@" not in chair
    secretary = mail[("secretary@example.org",)].get_content()
    assert "ann@example.org" in secretary and "bob@example.org" not in secretary
    again = runner.invoke(args=["bounces", "notify"])
    assert "nothing to tell" in again.output and len(smtp.messages) == 2, "nobody hears of the same member twice"


def test_members_of_lists_without_owners_go_to_the_admin_address(app, client, aws, runner, smtp):
    helpers.make_member("ann@example.org")
    hard_bounce(client, "ann@example.org")
    first = runner.invoke(args=["bounces", "notify"])
    assert "1 deactivation(s) have no owner to tell" in first.output and smtp.messages == []
    app.config["NOTIFY_ADMIN"] = "admin@example.org"
    assert "told admin@example.org of 1 member(s)" in runner.invoke(args=["bounces", "notify"]).output
    assert [rcpts for _, rcpts, _ in smtp.messages] == [["admin@example.org"]]


def test_dry_run_sends_nothing_and_marks_nothing(client, aws, runner, smtp):
    club = lists.add_list("club@lists.example.org", "Club", owners="chair@example.org")
    helpers.make_member("ann@example.org", lists=[club])
    hard_bounce(client, "ann@example.org")
    assert "would tell chair@example.org of 1 member(s)" in runner.invoke(args=["bounces", "notify", "--dry-run"]).output
    assert smtp.messages == [] and db.session.scalar(select(BounceLog.notified_at)) is None
    assert "told chair@example.org" in runner.invoke(args=["bounces", "notify"]).output


def test_an_smtp_server_that_is_down_marks_nothing(app, client, aws, runner):
    club = lists.add_list("club@lists.example.org", "Club", owners="chair@example.org")
    helpers.make_member("ann@example.org", lists=[club])
    hard_bounce(client, "ann@example.org")
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "127.0.0.1", helpers.free_port()
    result = runner.invoke(args=["bounces", "notify"])
    assert result.exit_code == 1 and "did not take the digests" in result.output
    assert db.session.scalar(select(BounceLog.notified_at)) is None


def test_a_member_reactivated_before_the_digest_is_not_reported(client, aws, runner, smtp, login):
    club = lists.add_list("club@lists.example.org", "Club", owners="chair@example.org")
    ann = helpers.make_member("ann@example.org", lists=[club])
    hard_bounce(client, "ann@example.org")
    login("operator").post_form(f"/members/{ann.id}/bounces/reset", {"confirmed": "yes"})
    assert "nothing to tell" in runner.invoke(args=["bounces", "notify"]).output


def test_owner_addresses_are_checked_on_the_list_form(login):
    staff = login("operator")
    response = staff.post_form("/lists/", {"address": "club@lists.example.org", "name": "Club", "owners": "chair@example.org\nnot an address"})
    assert response.status_code == 400
    assert "not an address" in response.get_data(as_text=True) or "valid" in response.get_data(as_text=True)
    created = staff.post_form("/lists/", {"address": "club@lists.example.org", "name": "Club", "owners": "Chair@Example.org, chair@example.org"})
    assert created.status_code in (200, 303)
    assert lists.find_list_by_address("club@lists.example.org").owner_list == ["chair@example.org"]
