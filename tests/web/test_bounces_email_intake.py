"""Bounce emails: parsing the common DSN forms and applying them like the webhook does."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from maillist.bounces.dsn_parser import NotABounce, parse_dsn
from maillist.extensions import db
from maillist.models import BounceLog, ProcessedReport
from tests import helpers

FIXTURES = helpers.ROOT / "tests" / "fixtures" / "dsn"


def load(name):
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    "name, expected",
    [
        ("postfix-rfc3464-permanent.eml", [("gone@example.net", "Permanent", "5.1.1")]),
        ("rfc3464-two-recipients-mixed.eml", [("full@example.net", "Permanent", "5.2.2"), ("busy@example.net", "Transient", "4.2.2")]),
        ("exim-prose.eml", [("nobody@example.net", "Permanent", "5.1.1")]),
        ("qmail-prose.eml", [("olduser@example.net", "Permanent", "550")]),
        ("exchange-style.eml", [("left@example.net", "Permanent", "5.1.10")]),
    ],
)
def test_parse_common_forms(name, expected):
    bounces = parse_dsn(load(name))
    assert [(b.email, b.bounce_type, b.status) for b in bounces] == expected
    assert all(b.diagnostic_code for b in bounces)


def test_rfc3464_details():
    (bounce,) = parse_dsn(load("postfix-rfc3464-permanent.eml"))
    assert bounce.diagnostic_code.startswith("smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected")
    assert bounce.subtype == "DSN" and bounce.action == "failed"
    assert bounce.occurred_at.isoformat() == "2026-11-27T10:15:02"


def test_not_a_bounce():
    with pytest.raises(NotABounce):
        parse_dsn(load("not-a-bounce.eml"))
    with pytest.raises(NotABounce):
        parse_dsn(b"")


@pytest.fixture
def app_overrides():
    return {"ENABLE_EMAIL_BOUNCE_PROCESSING": True}


def run(runner, raw):
    return runner.invoke(args=["bounces", "process-dsn"], input=raw)


def test_process_dsn_applies_once(runner):
    member = helpers.make_member("gone@example.net")
    first = run(runner, load("postfix-rfc3464-permanent.eml"))
    assert first.exit_code == 0 and first.output.startswith("applied bounce:Permanent:member")
    again = run(runner, load("postfix-rfc3464-permanent.eml"))
    assert again.exit_code == 0 and again.output.startswith("duplicate")
    db.session.refresh(member)
    assert (member.bounce_status, member.active, member.bounce_count) == ("hard", False, 1)
    log = db.session.scalar(select(BounceLog))
    assert (log.status, log.bounce_subtype, log.report_key) == ("5.1.1", "DSN", "dsn:<20261127101502.9A1B21A0C3@mx.example.net>")


def test_email_and_webhook_give_identical_member_states(runner, client, app, aws):
    app.config["ENABLE_SNS_WEBHOOKS"] = app.config["ENABLE_BOUNCE_HANDLING"] = True
    app.config["SNS_TOPIC_ARNS"] = [helpers.TOPIC_ARN]
    by_email = [helpers.make_member("full@example.net"), helpers.make_member("busy@example.net")]
    run(runner, load("rfc3464-two-recipients-mixed.eml"))
    by_sns = [helpers.make_member("full2@example.net"), helpers.make_member("busy2@example.net")]
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["full2@example.net"], bounce_type="Permanent")))
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["busy2@example.net"], bounce_type="Transient")))
    state = lambda m: (db.session.refresh(m), (m.bounce_status, m.active, m.bounce_count))[1]  # noqa: E731
    assert [state(m) for m in by_email] == [state(m) for m in by_sns] == [("hard", False, 1), ("clean", True, 1)]


def test_switched_off_and_not_a_bounce(runner, app):
    member = helpers.make_member("gone@example.net")
    assert run(runner, load("not-a-bounce.eml")).output.startswith("not-a-bounce")
    app.config["ENABLE_EMAIL_BOUNCE_PROCESSING"] = False
    off = run(runner, load("postfix-rfc3464-permanent.eml"))
    assert off.exit_code == 0 and off.output.startswith("ignored")
    db.session.refresh(member)
    assert member.bounce_status == "clean"
    assert db.session.scalar(select(func.count()).select_from(ProcessedReport)) == 0


def test_storage_failure_exits_75_for_postfix_to_retry(runner):
    from sqlalchemy import text

    db.session.execute(text("ALTER TABLE bounce_log RENAME TO bounce_log_away"))
    db.session.commit()
    try:
        result = run(runner, load("exim-prose.eml"))
    finally:
        db.session.execute(text("ALTER TABLE bounce_log_away RENAME TO bounce_log"))
        db.session.commit()
    assert result.exit_code == 75 and result.output.startswith("storage-failed")
    assert run(runner, load("exim-prose.eml")).output.startswith("applied")
