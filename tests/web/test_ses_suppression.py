"""SES's account-level suppression list: marked on the member, offered at reset, listed and compared.

moto (5.2) has no SES v2 suppression list, so these tests answer SES's calls with botocore's
Stubber on a real sesv2 client: the request each call sends is checked against SES's API model.
"""

import json
from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber
from sqlalchemy import select

from maillist.extensions import db
from maillist.integrations import ses_suppression
from maillist.models import AuditLog
from tests import helpers

WEBHOOK = {"ENABLE_SNS_WEBHOOKS": True, "ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}


@pytest.fixture
def app_overrides():
    return WEBHOOK


@pytest.fixture
def ses(monkeypatch):
    """A stubbed SES v2 client, handed to the code in place of a real one; AWS counts as configured."""
    client = boto3.client("sesv2", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t")
    stubber = Stubber(client)
    monkeypatch.setattr(ses_suppression, "client", lambda service: client)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "t")
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", *ses_suppression.CREDENTIAL_SETTINGS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


def suppressed_bounce(client, email):
    payload = helpers.ses_identity("Bounce", [email], subtype="OnAccountSuppressionList")
    assert helpers.post_sns(client, helpers.sns_notification(payload)).get_json()["outcome"] == "applied"


def audit_entries():
    return db.session.execute(select(AuditLog.action, AuditLog.target, AuditLog.details)
                              .where(AuditLog.action == "member.ses_suppression_remove")).all()


def test_a_suppression_bounce_marks_the_member_everywhere(client, aws, login, no_aws):
    member = helpers.make_member("ann@example.org")
    suppressed_bounce(client, "ann@example.org")
    db.session.refresh(member)
    assert member.ses_suppressed and not member.active and member.bounce_status == "hard"
    staff = login("operator")
    assert "SES suppressed" in staff.get("/members/").get_data(as_text=True)
    history = staff.get(f"/members/{member.id}/bounces").get_data(as_text=True)
    assert "still suppressed at SES: mail will be dropped" in history
    assert 'name="ses_suppression"' not in history, "no AWS settings: nothing to offer"
    assert "flask ses suppression remove ann@example.org" in history, "but the command that does it is named"
    reset = staff.post_form(f"/members/{member.id}/bounces/reset", {"confirmed": "yes"}, follow_redirects=True)
    said = reset.get_data(as_text=True)
    assert "is still suppressed at SES" in said and "is active again" not in said and 'flash-error' in said


def test_reset_offers_and_removes_the_address_from_ses(client, aws, login, ses):
    member = helpers.make_member("ann@example.org")
    suppressed_bounce(client, "ann@example.org")
    staff = login("operator")
    history = staff.get(f"/members/{member.id}/bounces").get_data(as_text=True)
    assert 'name="ses_suppression" value="remove" checked' in history
    ses.add_response("delete_suppressed_destination", {}, {"EmailAddress": "ann@example.org"})
    answer = staff.post_form(f"/members/{member.id}/bounces/reset", {"ses_suppression": "remove", "confirmed": "yes"}, follow_redirects=True)
    assert "Removed from SES&#39;s suppression list" in answer.get_data(as_text=True)
    db.session.refresh(member)
    assert member.active and not member.ses_suppressed
    assert audit_entries() == [("member.ses_suppression_remove", "ann@example.org", "removed")]


def test_reset_without_the_box_leaves_ses_alone_and_the_mark_on(client, aws, login, ses):
    member = helpers.make_member("ann@example.org")
    suppressed_bounce(client, "ann@example.org")
    staff = login("operator")
    confirm = staff.post_form(f"/members/{member.id}/bounces/reset", {}).get_data(as_text=True)
    assert "SES still has the address on its suppression list" in confirm, "the page without JavaScript says it too"
    staff.post_form(f"/members/{member.id}/bounces/reset", {"confirmed": "yes"})
    db.session.refresh(member)
    assert member.active and member.ses_suppressed, "SES still drops their mail, and the row says so"
    assert audit_entries() == []


def test_an_address_ses_does_not_hold_is_said_so(client, aws, login, ses):
    member = helpers.make_member("ann@example.org")
    suppressed_bounce(client, "ann@example.org")
    ses.add_client_error("delete_suppressed_destination", "NotFoundException", "not found", 404,
                         expected_params={"EmailAddress": "ann@example.org"})
    answer = login("operator").post_form(f"/members/{member.id}/bounces/reset", {"ses_suppression": "remove", "confirmed": "yes"},
                                         follow_redirects=True)
    assert "It was not on SES&#39;s suppression list" in answer.get_data(as_text=True)
    assert audit_entries() == [("member.ses_suppression_remove", "ann@example.org", "not-listed")]


def test_an_aws_failure_is_said_audited_and_changes_nothing_at_ses(client, aws, login, ses):
    member = helpers.make_member("ann@example.org")
    suppressed_bounce(client, "ann@example.org")
    ses.add_client_error("delete_suppressed_destination", "AccessDeniedException", "not allowed", 403)
    answer = login("operator").post_form(f"/members/{member.id}/bounces/reset", {"ses_suppression": "remove", "confirmed": "yes"},
                                         follow_redirects=True).get_data(as_text=True)
    assert "was not changed" in answer and "AccessDeniedException" in answer
    db.session.refresh(member)
    assert member.active and member.ses_suppressed
    [(_, target, details)] = audit_entries()
    assert target == "ann@example.org" and details.startswith("failed: ") and "AccessDeniedException" in details


def summaries(*emails):
    when = datetime(2026, 12, 1, tzinfo=timezone.utc)
    return [{"EmailAddress": email, "Reason": "BOUNCE", "LastUpdateTime": when} for email in emails]


def test_the_commands_list_remove_and_compare(app, runner, ses):
    helpers.make_member("ann@example.org")  # active, but SES drops her mail
    bob = helpers.make_member("bob@example.org")
    bob.active = False
    carl = helpers.make_member("carl@example.org")
    carl.ses_suppressed = True
    db.session.commit()
    ses.add_response("list_suppressed_destinations", {"SuppressedDestinationSummaries": summaries("ann@example.org"), "NextToken": "2"}, {})
    ses.add_response("list_suppressed_destinations", {"SuppressedDestinationSummaries": summaries("bob@example.org", "dan@example.org")},
                     {"NextToken": "2"})
    listed = runner.invoke(args=["ses", "suppression", "list"])
    assert listed.exit_code == 0 and listed.output.splitlines()[0].startswith("ann@example.org\tBOUNCE\t2026-12-01")
    assert len(listed.output.splitlines()) == 3

    ses.add_response("list_suppressed_destinations", {"SuppressedDestinationSummaries": summaries("ann@example.org", "bob@example.org", "dan@example.org")}, {})
    compared = runner.invoke(args=["ses", "suppression", "compare", "--json"])
    assert compared.exit_code == 0
    assert json.loads(compared.output) == {
        "active_here_dropped_by_ses": ["ann@example.org"], "inactive_here": ["bob@example.org"],
        "not_members": ["dan@example.org"], "marked_but_not_listed": ["carl@example.org"],
    }

    ses.add_response("delete_suppressed_destination", {}, {"EmailAddress": "ann@example.org"})
    removed = runner.invoke(args=["ses", "suppression", "remove", "Ann@Example.org"])
    assert removed.exit_code == 0 and "removed" in removed.output
    assert audit_entries() == [("member.ses_suppression_remove", "ann@example.org", "removed")]


def test_the_commands_say_one_line_when_aws_fails(app, runner, ses):
    ses.add_client_error("list_suppressed_destinations", "AccessDeniedException", "not allowed", 403)
    result = runner.invoke(args=["ses", "suppression", "list"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["Error: sesv2.list_suppressed_destinations: AWS answered AccessDeniedException: not allowed"]


@pytest.mark.parametrize("environ, configured", [
    ({}, False),
    ({"AWS_REGION": "eu-west-1"}, False),
    ({"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "k"}, True),
    ({"AWS_DEFAULT_REGION": "eu-west-1", "AWS_PROFILE": "mail"}, True),
    ({"AWS_ACCESS_KEY_ID": "k"}, False),
])
def test_aws_counts_as_configured_with_a_region_and_credentials(environ, configured, tmp_path):
    environ = dict(environ, AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    assert ses_suppression.aws_configured(environ) is configured
