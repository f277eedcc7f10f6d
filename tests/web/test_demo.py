"""`flask demo load`: a newcomer's empty database gets lists, members and a bounce story through the real pipeline."""

from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import BounceLog, DeliveryStat, Member, ProcessedReport
from tests import helpers


def test_an_empty_database_gets_the_demo(app, runner, login):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "loaded 3 lists and 26 members" in result.output and "signature checking skipped" in result.output
    statuses = dict(db.session.execute(select(Member.bounce_status, func.count()).group_by(Member.bounce_status)).all())
    assert statuses == {"clean": 22, "hard": 3, "soft": 1}
    assert db.session.scalar(select(func.count()).select_from(Member).where(Member.active.is_(False))) == 5
    assert db.session.scalar(select(func.count()).select_from(BounceLog).where(BounceLog.reason == "blocked")) == 1
    assert db.session.scalar(select(func.sum(DeliveryStat.deliveries))) == 260
    assert app.config["ENABLE_BOUNCE_HANDLING"] is False, "the settings are back as they were"
    page = login("viewer").get("/bounces/").get_data(as_text=True)
    assert "Bounce rate" in page and "unknown: no deliveries recorded" not in page
    assert set(db.session.scalars(select(ProcessedReport.outcome))) == {"applied"}


def test_a_database_with_members_is_refused(app, runner):
    helpers.make_member("real@example.org")
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 1 and "already has members" in result.output
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1
