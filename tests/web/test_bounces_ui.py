"""Bounce state in the UI: badges, the history modal, reset, and the Bounces dashboard."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from maillist.bounces.chart import daily_chart
from maillist.bounces.stats import daily_series, dashboard_figures, window_figures
from maillist.extensions import db
from maillist.models import AuditLog, BounceLog, DeliveryStat
from maillist.models.types import utcnow
from tests import helpers
from tests.helpers import HX


def add_events(member, count, bounce_type="Transient", start=None, step=timedelta(hours=1)):
    start = start or utcnow() - timedelta(days=1)
    for number in range(count):
        helpers.make_bounce(member, bounce_type, bounce_subtype="General", status="4.4.7",
                              diagnostic_code=f"smtp; 421 try later #{number}", occurred_at=start + number * step)



def test_badges_say_status_in_text_and_colour(login):
    helpers.make_member("clean@example.org")
    helpers.make_member("soft@example.org", bounce_status="soft", bounce_count=3, last_bounce_at=utcnow() - timedelta(hours=5))
    helpers.hard_member()
    html = login("viewer").get("/members/").get_data(as_text=True)
    assert 'class="badge badge-soft"' in html and "soft · 3" in html
    assert 'class="badge badge-hard"' in html and "hard · 2" in html
    assert html.count('class="badge ') == 2  # clean shows nothing loud
    assert "5 h ago" in html and 'title="' in html


def test_history_modal_fragment_and_page(login):
    member = helpers.hard_member()
    staff = login("viewer")
    modal = staff.get(f"/members/{member.id}/bounces", headers=HX).get_data(as_text=True)
    assert modal.lstrip().startswith("<dialog")
    assert modal.index("Complaint") < modal.index("Permanent bounce")  # newest first
    assert "NoEmail" in modal and "550 5.1.1 user unknown" in modal and "Yahoo!-Mail-Feedback/2.0" in modal
    assert "Reset Bounce Status" not in modal
    assert "An administrator or an operator can reset this record" in modal, "a viewer is told who may"
    page = staff.get(f"/members/{member.id}/bounces").get_data(as_text=True)
    assert "<html" in page and "Permanent bounce" in page


def test_history_pages_inside_the_modal(login):
    member = helpers.make_member("busy@example.org", bounce_count=25)
    add_events(member, 25)
    staff = login("viewer")
    first = staff.get(f"/members/{member.id}/bounces", headers=HX).get_data(as_text=True)
    assert "Page 1 of 2 (25 events)" in first and "#24" in first and "#4<" not in first
    second = staff.get(f"/members/{member.id}/bounces?page=2", headers=dict(HX, **{"HX-Target": "bounce-history"}))
    html = second.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="bounce-history"') and "#4<" in html and "#24" not in html


def test_reset_by_operator(login):
    member = helpers.hard_member()
    staff = login("operator", email="op@example.org")
    modal = staff.get(f"/members/{member.id}/bounces", headers=HX).get_data(as_text=True)
    assert "Reset Bounce Status" in modal and "hx-confirm" in modal
    response = staff.htmx_post(f"/members/{member.id}/bounces/reset")
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == f'{{"member-{member.id}-changed": true}}'
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="bounce-history"') and "is active again" in html
    db.session.refresh(member)
    assert (member.bounce_count, member.bounce_status, member.active) == (0, "clean", True)
    events = db.session.scalars(select(BounceLog.event).where(BounceLog.member_id == member.id).order_by(BounceLog.id)).all()
    assert events == ["bounce", "complaint", "reset"]
    reset = db.session.scalar(select(BounceLog).where(BounceLog.event == "reset"))
    assert reset.details == "reset by op@example.org; it was hard, 2 bounces counted, inactive"
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "member.bounce_reset"))
    assert audit.actor == "op@example.org" and audit.target == member.email
    row = staff.get(f"/members/{member.id}", headers=HX).get_data(as_text=True)
    assert "badge-hard" not in row and ">active<" in row


def test_viewer_cannot_reset(login):
    member = helpers.hard_member()
    staff = login("viewer")
    assert staff.htmx_post(f"/members/{member.id}/bounces/reset").status_code == 403
    assert staff.post_form(f"/members/{member.id}/bounces/reset").status_code == 403
    db.session.refresh(member)
    assert (member.bounce_status, member.active) == ("hard", False)
    assert db.session.scalar(select(BounceLog).where(BounceLog.event == "reset")) is None


def test_plain_reset_redirects_to_history(login):
    member = helpers.hard_member()
    response = login("admin").post_form(f"/members/{member.id}/bounces/reset", {"confirmed": "yes"})
    assert response.status_code == 303 and response.headers["Location"] == f"/members/{member.id}/bounces"


def test_figures_by_window_and_rates(app):
    now = utcnow()
    ann = helpers.make_member("ann@example.org")
    bob = helpers.make_member("bob@example.org")
    helpers.make_bounce(ann, "Permanent", occurred_at=now - timedelta(hours=2))
    helpers.make_bounce(bob, "Transient", occurred_at=now - timedelta(days=3))
    helpers.make_bounce(bob, "Undetermined", occurred_at=now - timedelta(days=20))
    db.session.add(BounceLog(member=bob, email=bob.email, event="complaint", occurred_at=now - timedelta(days=5)))
    db.session.add(BounceLog(email="stranger@example.net", event="bounce", bounce_type="Permanent", occurred_at=now - timedelta(days=40)))
    db.session.commit()
    day, week, month = dashboard_figures(now=now)
    assert (day.permanent, day.transient, day.complaints, day.deactivated) == (1, 0, 0, 1)
    assert (week.bounces, week.complaints, week.deactivated) == (2, 1, 2)
    assert (month.permanent, month.transient, month.undetermined) == (1, 1, 1)
    assert day.bounce_rate is None and day.deliveries is None  # no Delivery events: rate unknown
    assert window_figures("x", timedelta(days=7), deactivating_complaints=False, now=now).deactivated == 1
    db.session.add(DeliveryStat(day=now.date(), deliveries=19))
    db.session.add(DeliveryStat(day=(now - timedelta(days=4)).date(), deliveries=1000))
    db.session.commit()
    day, week, _ = dashboard_figures(now=now)
    assert day.sent == 20 and day.bounce_rate == pytest.approx(0.05) and not day.bounce_rate_alarm
    assert week.sent == 1021 and week.complaint_rate == pytest.approx(1 / 1021) and not week.complaint_rate_alarm
    db.session.add(BounceLog(member=ann, email=ann.email, event="complaint", occurred_at=now - timedelta(hours=1)))
    db.session.commit()
    assert dashboard_figures(now=now)[0].complaint_rate_alarm


def test_daily_series_and_chart(app):
    now = utcnow()
    ann = helpers.make_member("ann@example.org")
    helpers.make_bounce(ann, "Transient", occurred_at=now)
    helpers.make_bounce(ann, "Transient", occurred_at=now)
    helpers.make_bounce(ann, "Permanent", occurred_at=now - timedelta(days=2))
    helpers.make_bounce(ann, "Permanent", occurred_at=now - timedelta(days=45))
    series = daily_series(30, now=now)
    assert len(series) == 30 and series[-1][0] == now.date()
    assert series[-1][1] == {"bounce": 2, "complaint": 0} and series[-3][1]["bounce"] == 1
    chart = daily_chart(series)
    assert chart["total"] == 3
    tallest = max(chart["bars"], key=lambda bar: bar.height)
    assert tallest.label == f"{now.date().isoformat()}: 2 bounces"
    assert chart["ticks"][-1][1] == 2


def test_dashboard_page_filters_and_paging(login):
    member = helpers.hard_member()
    add_events(member, 60, start=utcnow() - timedelta(days=10), step=timedelta(minutes=1))
    staff = login("viewer")
    page = staff.get("/bounces/").get_data(as_text=True)
    for text in ("Last 24 hours", "Last 7 days", "Last 30 days", "unknown: no deliveries recorded", "<svg", "Recent events"):
        assert text in page
    assert 'aria-current="page">Bounces' in page
    complaints = staff.get("/bounces/?type=complaint", headers=dict(HX, **{"HX-Target": "bounce-events"})).get_data(as_text=True)
    assert complaints.lstrip().startswith('<div id="bounce-events"') and complaints.count("<tr class=") == 1
    older = utcnow().date() - timedelta(days=5)
    dated = staff.get(f"/bounces/?until={older.isoformat()}", headers=dict(HX, **{"HX-Target": "bounce-events"})).get_data(as_text=True)
    assert dated.count("<tr class=") == 50 and ">Older<" in dated
    second = staff.get(f"/bounces/?until={older.isoformat()}&page=2", headers=dict(HX, **{"HX-Target": "bounce-events"})).get_data(as_text=True)
    assert second.count("<tr class=") == 10
    assert staff.get("/bounces/?since=yesterday").status_code == 400
    assert staff.get("/bounces/?type=explosion").status_code == 400


def test_recent_events_start_with_what_was_reported_not_staff_changes(login):
    """After a bulk job, the staff changes would bury the bounces: they show only when asked for."""
    member = helpers.hard_member()
    for n in range(60):
        db.session.add(BounceLog(member=member, email=member.email, event="staff", details=f"deactivated by op (bulk) {n}",
                                 occurred_at=utcnow() - timedelta(minutes=n)))
    db.session.commit()
    staff = login("viewer")
    events = staff.get("/bounces/", headers=dict(HX, **{"HX-Target": "bounce-events"})).get_data(as_text=True)
    assert events.count("<tr class=") == 2 and "Staff change" not in events
    every = staff.get("/bounces/?type=all", headers=dict(HX, **{"HX-Target": "bounce-events"})).get_data(as_text=True)
    assert every.count("<tr class=") == 50 and "Older" in every
    page = staff.get("/bounces/").get_data(as_text=True)
    assert '<option value="reported" selected>Bounces and complaints</option>' in page


def test_bounce_log_export(login):
    member = helpers.hard_member()
    db.session.add(BounceLog(email="stranger@example.net", event="bounce", bounce_type="Transient", occurred_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    staff = login("viewer")
    response = staff.get("/bounces/export.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(r["event"] for r in rows) == ["bounce", "bounce", "complaint"]
    assert {r["email"] for r in rows} == {member.email, "stranger@example.net"}
    complaints = list(csv.DictReader(io.StringIO(staff.get("/bounces/export.csv?type=complaint").get_data(as_text=True))))
    assert [(r["email"], r["feedback_type"]) for r in complaints] == [(member.email, "abuse")]
    since = (utcnow().date() - timedelta(days=1)).isoformat()
    recent = list(csv.DictReader(io.StringIO(staff.get(f"/bounces/export.csv?since={since}").get_data(as_text=True))))
    assert len(recent) == 2


def test_the_bounce_log_export_is_in_event_time_order_across_batches(app, login):
    from maillist.bounces.bounce_log import EventQuery, event_rows
    from maillist.models.types import utcnow

    member = helpers.make_member("ann@example.org")
    now = utcnow()
    # Arrival order (ids) differs from event time: the third to arrive happened first.
    for hours in (2, 1, 9, 5, 3):
        helpers.make_bounce(member, "Transient", occurred_at=now - timedelta(hours=hours))
    times = [row[0] for row in event_rows(EventQuery(), batch=2)]
    assert times == sorted(times, reverse=True) and len(times) == 5
    exported = login("viewer").get("/bounces/export.csv").get_data(as_text=True).splitlines()[1:]
    assert [line.split(",")[0] for line in exported] == times


def test_the_reset_confirmation_says_ses_may_still_drop_the_mail(app, login):
    hard = helpers.hard_member("gone@example.org")
    staff = login("operator")
    text = staff.get(f"/members/{hard.id}/bounces").get_data(as_text=True)
    assert "If SES put the address on its suppression list, SES will still drop mail to it." in text
    hard.ses_suppressed = True
    db.session.commit()
    text = staff.get(f"/members/{hard.id}/bounces").get_data(as_text=True)
    assert "SES still has this address on its suppression list" in text


def test_a_rate_over_the_limit_gets_a_banner_with_links_and_bars_link_to_their_day(app, login):
    from maillist.models import DeliveryStat
    from maillist.models.types import utcnow

    member = helpers.make_member("ann@example.org")
    for _ in range(3):
        helpers.make_bounce(member, "Permanent")
    db.session.add(DeliveryStat(day=utcnow().date(), deliveries=20))  # 3 of 23 sent bounced: 13%
    db.session.commit()
    page = login("viewer").get("/bounces/").get_data(as_text=True)
    assert "Over SES&#39;s review limit" in page or "Over SES's review limit" in page
    assert "bounce rate 13.04%, over SES" in page
    assert 'href="/bounces/?type=bounce#bounce-events"' in page and 'href="/members/?status=hard"' in page
    today = utcnow().date().isoformat()
    assert f'href="/bounces/?type=bounce&amp;since={today}&amp;until={today}#bounce-events"' in page
    filtered = login("viewer").get("/bounces/", query_string={"type": "bounce", "since": today, "until": today})
    assert filtered.status_code == 200 and "ann@example.org" in filtered.get_data(as_text=True)


def test_no_banner_under_the_limits(app, login):
    assert "review limit" not in login("viewer").get("/bounces/").get_data(as_text=True)
