"""`flask bounces cleanup` and `flask bounces stats`."""

from datetime import timedelta

from sqlalchemy import func, select

from maillist.bounces import maintenance
from maillist.extensions import db
from maillist.models import BounceLog, ProcessedReport
from maillist.models.types import utcnow
from tests import helpers


def seed():
    member = helpers.make_member("ann@example.org", bounce_status="soft", bounce_count=3)
    now = utcnow()
    for age in (1, 50, 100, 200):
        helpers.make_bounce(member, "Transient", occurred_at=now - timedelta(days=age))
        db.session.add(ProcessedReport(report_key=f"m-{age}", source="sns", kind="Notification", topic_arn="t", outcome="applied",
                                       received_at=now - timedelta(days=age)))
    db.session.commit()
    return member


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_cleanup_dry_run_then_batches(runner):
    seed()
    dry = runner.invoke(args=["bounces", "cleanup", "--days", "90", "--dry-run"])
    assert dry.output.splitlines()[0] == "would delete 2 bounce log rows, 2 processed-message records and 0 hourly intake counts older than 90 days"
    assert count(BounceLog) == 4
    done = runner.invoke(args=["bounces", "cleanup", "--days", "90"])
    assert done.output.splitlines()[0] == "deleted 2 bounce log rows, 2 processed-message records and 0 hourly intake counts older than 90 days"
    assert count(BounceLog) == 2 and count(ProcessedReport) == 2
    assert runner.invoke(args=["bounces", "cleanup", "--days", "0"]).exit_code != 0


def test_cleanup_in_small_batches(app):
    seed()
    assert maintenance.cleanup(30, batch=1) == {"bounce_log": 3, "processed_report": 3, "intake_count": 0}
    assert count(BounceLog) == 1


def test_stats(runner):
    seed()
    helpers.make_member("bob@example.org", bounce_status="hard", active=False)
    output = runner.invoke(args=["bounces", "stats"]).output
    assert "members: 0 clean, 1 soft, 1 hard; 1 inactive" in output
    assert "events: bounce Transient: 4" in output and "processed messages: 4" in output
    assert "Last 24 hours: 0 bounces, 0 complaints, bounce rate unknown (no deliveries recorded)" in output
    assert "Last 30 days: 1 bounces" in output
