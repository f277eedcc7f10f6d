"""CSV import (preview, per-row report, all-or-nothing) and export (honouring search and filters)."""

import csv
import io
import re

import pytest

from sqlalchemy import func, select

from maillist.extensions import db
from maillist.members.csv_import import apply_import, plan_import
from maillist.models import AuditLog, BounceLog, Member, Subscription
from tests import helpers
from tests.helpers import HX

GOOD = """name,email,lists
Ann,ANN@example.org,club@example.org
Bob,bob@example.org,club@example.org;choir@example.org
"""


def upload(staff, url, text, name="members.csv", htmx=True):
    data = {"file": (io.BytesIO(text.encode("utf-8") if isinstance(text, str) else text), name)}
    if htmx:
        return staff.post(url, data=dict(data), headers=dict(HX, **{"X-CSRFToken": staff.csrf_token()}), content_type="multipart/form-data")
    return staff.post(url, data=dict(data, csrf_token=staff.csrf_token()), content_type="multipart/form-data")


def lists():
    return helpers.make_list("club@example.org", "Club"), helpers.make_list("choir@example.org", "Choir")


def test_preview_changes_nothing_then_apply(login):
    club, choir = lists()
    staff = login("operator")
    preview = upload(staff, "/members/import/preview", GOOD)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and html.lstrip().startswith('<section id="import-result"')
    assert "2 to add" in html and "Import 2 rows" in html
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0
    text = re.search(r'<textarea name="csv_text" hidden>(.*?)</textarea>', html, re.S).group(1)
    applied = staff.htmx_post("/members/import", {"csv_text": text.replace("&#34;", '"'), "filename": "members.csv"})
    assert "2 added" in applied.get_data(as_text=True)
    assert 'href="/members/">Back to Members</a>' in applied.get_data(as_text=True), "a way back once it is done"
    assert "Back to Members" not in html, "not while it is only a preview"
    bob = db.session.scalar(select(Member).where(Member.email == "bob@example.org"))
    assert sorted(s.list_id for s in bob.subscriptions) == sorted([club.id, choir.id])
    assert db.session.scalar(select(AuditLog.details).where(AuditLog.action == "member.import")) == "add=2, update=0, unchanged=0, skip=0"


def test_per_row_report(app):
    club, choir = lists()
    helpers.make_member("existing@example.org", "Old Name", lists=[club])
    helpers.make_member("same@example.org", "Same", lists=[club])
    data = b"""Email,Name,Lists
new@example.org,New,club@example.org
not-an-address,Bad,
,Nobody,
x@example.org,X,nolist@example.org
NEW@example.org,Again,
existing@example.org,New Name,choir@example.org
same@example.org,,club@example.org
"""
    plan = plan_import(data)
    assert [(r.line, r.action, r.reason) for r in plan.rows] == [
        (2, "add", ""),
        (3, "skip", "bad address 'not-an-address'"),
        (4, "skip", "no address"),
        (5, "skip", "unknown list nolist@example.org"),
        (6, "skip", "duplicate row (same address as line 2)"),
        (7, "update", "name Old Name -> New Name; adds choir@example.org"),
        (8, "unchanged", "already a member with these lists"),
    ]
    apply_import(data)
    existing = db.session.scalar(select(Member).where(Member.email == "existing@example.org"))
    db.session.refresh(existing)
    assert existing.name == "New Name" and {s.list_id for s in existing.subscriptions} == {club.id, choir.id}
    assert db.session.scalar(select(func.count()).select_from(Member)) == 3


def test_rejected_files_change_nothing(login):
    lists()
    staff = login("operator")
    cases = [
        ("no email column", "name,address\nAnn,ann@example.org\n", "including email"),
        ("not utf-8", "name,email\nAnn,ann@example.org\n".encode("utf-16"), "not UTF-8"),
        ("empty", "name,email\n", "no member rows"),
        ("nothing", "", "including email"),
    ]
    for label, text, message in cases:
        response = upload(staff, "/members/import", text)
        assert response.status_code == 400, label
        assert message in response.get_data(as_text=True), label
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_failure_midway_applies_nothing(app, monkeypatch):
    lists()
    from maillist.members import csv_import

    def broken_record(*args, **kwargs):  # after the members and subscriptions went in, before the commit
        raise RuntimeError("disk full")

    monkeypatch.setattr(csv_import.audit, "record", broken_record)
    try:
        apply_import(GOOD.encode())
    except RuntimeError:
        db.session.rollback()
    monkeypatch.undo()
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0


def test_plain_upload_without_htmx(login):
    lists()
    staff = login("operator")
    page = upload(staff, "/members/import/preview", GOOD, htmx=False)
    assert "<html" in page.get_data(as_text=True) and "2 to add" in page.get_data(as_text=True)
    assert staff.get("/members/import").status_code == 200


def read_csv(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_export_honours_search_and_filters(login):
    club = helpers.make_list()
    helpers.make_member("ann@example.org", "Ann", lists=[club])
    helpers.make_member("bob@example.org", "Bob", active=False, bounce_status="hard", bounce_count=2)
    helpers.make_member("cy@example.org", "=HYPERLINK(1)")
    staff = login("viewer")
    everyone = staff.get("/members/export.csv")
    assert everyone.mimetype == "text/csv" and "attachment" in everyone.headers["Content-Disposition"]
    rows = read_csv(everyone)
    assert [r["email"] for r in rows] == ["ann@example.org", "bob@example.org", "cy@example.org"]
    assert list(rows[0]) == ["name", "email", "active", "bounce_status", "bounce_count", "last_bounce_at", "lists"]
    assert rows[2]["name"] == "'=HYPERLINK(1)"  # no formulas smuggled into spreadsheets
    hard = read_csv(staff.get("/members/export.csv?status=hard"))
    assert [(r["email"], r["active"], r["bounce_count"]) for r in hard] == [("bob@example.org", "no", "2")]
    assert [r["email"] for r in read_csv(staff.get("/members/export.csv?q=ann"))] == ["ann@example.org"]
    subscribers = read_csv(staff.get(f"/lists/{club.id}/export.csv"))
    assert [(r["email"], r["lists"]) for r in subscribers] == [("ann@example.org", "club@example.org")]


def test_export_streams_in_batches(login, monkeypatch):
    from maillist.members import search

    for number in range(25):
        helpers.make_member(f"m{number:02d}@example.org")
    original = search.iter_members
    monkeypatch.setattr("maillist.members.csv_export.iter_members", lambda query, conditions=None: original(query, conditions, batch=10))
    rows = read_csv(login("viewer").get("/members/export.csv"))
    assert [r["email"] for r in rows] == [f"m{n:02d}@example.org" for n in range(25)]


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(1,2)", "\tcmd", "\rcmd"]


def export_rows(staff, url):
    return list(csv.reader(io.StringIO(staff.get(url).get_data(as_text=True))))


@pytest.mark.parametrize("formula", FORMULAS)
def test_bounce_log_export_neutralises_formulas_in_every_cell(login, formula):
    member = helpers.make_member("ann@example.org")
    helpers.make_bounce(member, "Permanent", diagnostic_code=formula, bounce_subtype=formula, status=formula[:20])
    db.session.add(BounceLog(member=member, email=member.email, event="complaint", user_agent=formula, feedback_type=formula[:50]))
    db.session.commit()
    rows = export_rows(login("viewer"), "/bounces/export.csv")
    cells = [cell for row in rows[1:] for cell in row]
    assert cells and not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert f"'{formula}" in cells or f"'{formula[:20]}" in cells


@pytest.mark.parametrize("url", ["/members/export.csv", "/lists/{list}/export.csv"])
def test_member_exports_neutralise_formulas_in_every_cell(login, url):
    club = helpers.make_list("club@example.org")
    helpers.make_member("=1+1@example.org", name="@cmd", lists=[club])
    rows = export_rows(login("viewer"), url.format(list=club.id))
    assert rows[1][:2] == ["'@cmd", "'=1+1@example.org"]


def test_export_that_fails_at_once_answers_with_an_error_not_a_short_file(login, monkeypatch):
    from maillist.errors import InvalidInput

    def failing(query):
        raise InvalidInput("The export could not be read.")
        yield  # a generator, as the real one is

    monkeypatch.setattr("maillist.members.views.member_rows", failing)
    response = login("viewer").get("/members/export.csv")
    assert response.status_code == 400 and "could not be read" in response.get_data(as_text=True)


def test_the_preview_puts_problem_rows_first(login):
    lists()
    staff = login("operator")
    data = b"Email,Name,Lists\n" + b"".join(b"m%d@example.org,M%d,club@example.org\n" % (i, i) for i in range(30)) + \
        b"not-an-address,Bad,\nx@example.org,X,nolist@example.org\n"
    html = upload(staff, "/members/import/preview", data, "big.csv").get_data(as_text=True)
    problems = html.split('<h3 class="problems-title">')[1].split("<details")[0]
    assert "2 rows with a problem" in problems and "not-an-address" in problems and "unknown list nolist@example.org" in problems
    assert "m0@example.org" not in problems, "the 30 good rows are under All rows"
    assert "<summary>All 32 rows</summary>" in html
