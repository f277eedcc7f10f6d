"""The one intake: every source records its report once, with its source, through the same engine."""

from datetime import timedelta

from sqlalchemy import func, select

from maillist.extensions import db
from maillist.intake.door import apply_report
from maillist.intake.reports import Bounce, Complaint, Report
from maillist.models import BounceLog, Member, ProcessedReport
from maillist.models.types import utcnow
from tests import helpers


def bounce(email, bounce_type="Permanent"):
    return Bounce(email, bounce_type, "General", "smtp; 550 5.1.1 unknown", "failed", "5.1.1", None, utcnow())


def test_a_report_is_applied_once_and_remembers_its_source(app):
    member = helpers.make_member("ann@example.org")
    first = apply_report(Report("dsn:<1@mx>", "email", "DSN"), [bounce("ann@example.org")])
    again = apply_report(Report("dsn:<1@mx>", "email", "DSN"), [bounce("ann@example.org")])
    assert (first.state, first.outcome, first.detail) == ("stored", "applied", "bounce:Permanent:member")
    assert (again.state, again.outcome) == ("duplicate", "duplicate")
    db.session.refresh(member)
    assert (member.bounce_count, member.bounce_status, member.active) == (1, "hard", False)
    stored = db.session.scalar(select(ProcessedReport))
    assert (stored.report_key, stored.source, stored.kind, stored.topic_arn) == ("dsn:<1@mx>", "email", "DSN", None)
    assert db.session.scalar(select(BounceLog.report_key)) == "dsn:<1@mx>"


def test_the_key_is_shared_across_sources(app):
    """A key seen from one source is a duplicate from another: the ledger has one namespace."""
    helpers.make_member("ann@example.org")
    apply_report(Report("k-1", "sns", "Notification", helpers.TOPIC_ARN), [bounce("ann@example.org", "Transient")])
    assert apply_report(Report("k-1", "email", "DSN"), [bounce("ann@example.org")]).state == "duplicate"
    assert db.session.scalar(select(Member.bounce_status)) == "clean"


def test_a_report_without_events_is_recorded_with_its_outcome_and_body(app):
    result = apply_report(Report("m-2", "sns", "Notification", helpers.TOPIC_ARN), outcome="malformed", raw="{oops", detail="not JSON")
    assert (result.state, result.outcome, result.detail) == ("stored", "malformed", "not JSON")
    assert db.session.scalar(select(ProcessedReport.raw_body)) == "{oops"
    assert db.session.scalar(select(func.count()).select_from(BounceLog)) == 0


def transient(email, at):
    return Bounce(email, "Transient", "General", "smtp; 452 4.2.2 mailbox full", "delayed", "4.2.2", None, at)


def history(email):
    return db.session.execute(select(BounceLog.event, BounceLog.member_id.is_not(None), BounceLog.details)
                              .where(BounceLog.email == email).order_by(BounceLog.occurred_at)).all()


def test_several_events_in_one_report_each_decide_on_the_member_as_the_one_before_left_them(app):
    ann = helpers.make_member("ann@example.org")
    bob = helpers.make_member("bob@example.org")
    start = utcnow() - timedelta(minutes=10)
    # Two bounces for one address in one report: the second must see the first's count. Bob's complaint comes after Ann's bounces in the lock order.
    results = [
        apply_report(Report("r-1", "email", "DSN"), [transient("ann@example.org", start)]),
        apply_report(Report("r-2", "email", "DSN"),
                     [Complaint("bob@example.org", "abuse", None, None, start), transient("ann@example.org", start + timedelta(minutes=1)),
                      transient("ann@example.org", start + timedelta(minutes=2))]),
        apply_report(Report("r-3", "sns", "Notification", helpers.TOPIC_ARN), [Complaint("nobody@example.org", "abuse", None, None, start)]),
        apply_report(Report("r-4", "sns", "Notification", helpers.TOPIC_ARN), [transient("nobody@example.org", start)]),
    ]
    assert [r.detail for r in results] == ["bounce:Transient:member", "bounce:Transient:member bounce:Transient:member complaint:member",
                                           "complaint:unknown", "bounce:Transient:unknown"]
    db.session.refresh(ann)
    db.session.refresh(bob)
    assert (ann.bounce_count, ann.bounce_status, ann.active) == (3, "soft", True)
    assert (bob.active, bob.deactivated_by) == (False, "complaint")
    assert [details for _, _, details in history("ann@example.org")] == [None, None, "3 bounces within 30 days: marked soft"]
    assert history("nobody@example.org") == [("complaint", False, None), ("bounce", False, None)]
    assert db.session.scalar(select(func.count()).select_from(ProcessedReport)) == 4
