"""The members page over HTTP: full pages and htmx fragments, search, filters, sorting, paging, edits."""

import re

from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import AuditLog, BounceLog, Member, Subscription
from maillist.models.types import utcnow
from tests import helpers

HX = {"HX-Request": "true"}


def emails_in(html):
    """Member addresses in table rows, in order."""
    return re.findall(r'<td data-label="Email">([^<]+)</td>', html)


def test_page_and_fragment_render_from_one_source(login):
    helpers.make_member("ann@example.org", "Ann")
    staff = login("viewer")
    page = staff.get("/members/")
    fragment = staff.get("/members/", headers=HX)
    assert "<html" in page.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="members-table"')
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]
    assert emails_in(page.get_data(as_text=True)) == emails_in(fragment.get_data(as_text=True)) == ["ann@example.org"]


def test_search_filters_and_list_filter(login):
    club = helpers.make_list()
    helpers.make_member("ann@example.org", "Ann Archer", lists=[club])
    helpers.make_member("bob@example.org", "Bob Baker", bounce_status="hard", bounce_count=1, active=False)
    helpers.make_member("cy@example.org", "Cy 100%_Sure", bounce_status="soft", bounce_count=3)
    staff = login("viewer")
    get = lambda qs: emails_in(staff.get(f"/members/?{qs}", headers=HX).get_data(as_text=True))  # noqa: E731
    assert get("q=ARCHER") == ["ann@example.org"]
    assert get("q=BOB%40example") == ["bob@example.org"]
    assert get("q=100%25_") == ["cy@example.org"]
    assert get("q=0%25") == ["cy@example.org"]
    assert get("q=%25") == ["cy@example.org"]  # % is literal, not a wildcard
    assert get("active=inactive") == ["bob@example.org"]
    assert get("active=active") == ["ann@example.org", "cy@example.org"]
    assert get("status=soft") == ["cy@example.org"]
    assert get(f"list={club.id}") == ["ann@example.org"]
    assert staff.get("/members/?status=purple").status_code == 400


def test_sorting_and_paging(login):
    for number in range(30):
        helpers.make_member(f"m{number:02d}@example.org", f"Name {29 - number:02d}")
    staff = login("viewer")
    page1 = emails_in(staff.get("/members/?per_page=25", headers=HX).get_data(as_text=True))
    page2 = emails_in(staff.get("/members/?per_page=25&page=2", headers=HX).get_data(as_text=True))
    assert len(page1) == 25 and len(page2) == 5 and not set(page1) & set(page2)
    by_name = emails_in(staff.get("/members/?sort=name&per_page=50", headers=HX).get_data(as_text=True))
    assert by_name[0] == "m29@example.org" and by_name[-1] == "m00@example.org"
    desc = emails_in(staff.get("/members/?sort=email&dir=desc&per_page=50", headers=HX).get_data(as_text=True))
    assert desc[0] == "m29@example.org"
    html = staff.get("/members/?per_page=25").get_data(as_text=True)
    assert "Page 1 of 2" in html and 'rel="next"' in html
    assert len(emails_in(staff.get("/members/?per_page=7").get_data(as_text=True))) == 25  # unknown size -> default


def test_sort_by_last_bounce(login):
    now = utcnow()
    from datetime import timedelta

    helpers.make_member("old@example.org", last_bounce_at=now - timedelta(days=3), bounce_count=1)
    helpers.make_member("new@example.org", last_bounce_at=now - timedelta(hours=1), bounce_count=1)
    helpers.make_member("never@example.org")
    staff = login("viewer")
    order = emails_in(staff.get("/members/?sort=last_bounce&dir=desc", headers=HX).get_data(as_text=True))
    assert order.index("new@example.org") < order.index("old@example.org")
    html = staff.get("/members/").get_data(as_text=True)
    assert "1 h ago" in html and "3 days ago" in html


def test_viewer_sees_no_write_controls(login):
    helpers.make_member("ann@example.org")
    page = login("viewer").get("/members/").get_data(as_text=True)
    for control in ("Add member", "Import CSV", "Deactivate", "Delete", ">Edit</a>", 'aria-label="Lists of'):
        assert control not in page
    assert "Export CSV" in page and 'aria-label="Bounces of ' in page


def test_add_member_htmx_and_plain(login):
    club = helpers.make_list()
    staff = login("operator")
    modal = staff.get("/members/new", headers=HX).get_data(as_text=True)
    assert modal.lstrip().startswith("<dialog") and 'name="email"' in modal
    assert "<html" in staff.get("/members/new").get_data(as_text=True)
    response = staff.htmx_post("/members/", {"email": " Ann@Example.ORG ", "name": "Ann", "lists": [club.address]})
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#flashes"
    assert '"close-modal": true' in response.headers["HX-Trigger"] and "members-changed" in response.headers["HX-Trigger"]
    assert "Added ann@example.org." in response.get_data(as_text=True)
    member = db.session.scalar(select(Member).where(Member.email == "ann@example.org"))
    assert [s.list_id for s in member.subscriptions] == [club.id]
    plain = staff.post_form("/members/", {"email": "bob@example.org", "name": "Bob"})
    assert plain.status_code == 303


def test_duplicate_email_shows_inline_error_and_keeps_input(login):
    helpers.make_member("ann@example.org", "Ann")
    staff = login("operator")
    response = staff.htmx_post("/members/", {"email": "ANN@example.org", "name": "Imposter"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<dialog") and "already exists" in html and 'value="Imposter"' in html
    plain = staff.post_form("/members/", {"email": "ann@example.org", "name": "Imposter"})
    assert plain.status_code == 409 and 'value="Imposter"' in plain.get_data(as_text=True)
    assert db.session.scalar(select(Member.name).where(Member.email == "ann@example.org")) == "Ann"


def test_bad_address_is_refused_and_input_kept(login):
    response = login("operator").htmx_post("/members/", {"email": "not an address", "name": "Zed"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "is not a valid email address" in html and 'value="Zed"' in html
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_edit_in_modal_says_so_and_refreshes_the_table(login):
    ann = helpers.make_member("ann@example.org", "Ann")
    helpers.make_member("bob@example.org", "Bob")
    staff = login("operator")
    assert 'value="ann@example.org"' in staff.get(f"/members/{ann.id}/edit", headers=HX).get_data(as_text=True)
    taken = staff.htmx_post(f"/members/{ann.id}/edit", {"email": "bob@example.org", "name": "X"})
    assert taken.status_code == 409 and "already exists" in taken.get_data(as_text=True)
    assert 'name="email" required value="bob@example.org" autocomplete="off" aria-invalid="true"' in taken.get_data(as_text=True), \
        "the dialog comes back on the field to fix"
    db.session.refresh(ann)
    assert (ann.email, ann.name) == ("ann@example.org", "Ann")
    saved = staff.htmx_post(f"/members/{ann.id}/edit", {"email": "Ann.B@example.org", "name": "Ann B"})
    assert saved.status_code == 200 and saved.headers["HX-Retarget"] == "#flashes"
    assert "Saved ann.b@example.org." in saved.get_data(as_text=True)
    assert saved.headers["HX-Trigger"] == '{"close-modal": true, "members-changed": true}'
    db.session.refresh(ann)
    assert (ann.email, ann.name) == ("ann.b@example.org", "Ann B")


def test_toggle_active_says_so_and_refreshes_the_table(login):
    ann = helpers.make_member("ann@example.org")
    staff = login("operator")
    answer = staff.htmx_post(f"/members/{ann.id}/active")
    assert "ann@example.org is now inactive." in answer.get_data(as_text=True)
    assert answer.headers["HX-Retarget"] == "#flashes" and "members-changed" in answer.headers["HX-Trigger"]
    row = staff.get(f"/members/{ann.id}", headers=HX).get_data(as_text=True)
    assert "inactive" in row and "Activate" in row
    db.session.refresh(ann)
    assert ann.active is False
    assert db.session.scalar(select(AuditLog.action).order_by(AuditLog.id.desc())) == "member.deactivate"


def test_manage_subscriptions_from_the_row(login):
    club, choir = helpers.make_list("club@example.org", "Club"), helpers.make_list("choir@example.org", "Choir")
    ann = helpers.make_member("ann@example.org", lists=[club])
    staff = login("operator")
    modal = staff.get(f"/members/{ann.id}/lists", headers=HX).get_data(as_text=True)
    assert f'value="{club.id}" checked' in modal and f'value="{choir.id}" >' in modal
    saved = staff.htmx_post(f"/members/{ann.id}/lists", {"list_ids": [str(choir.id)]})
    assert "Lists saved for ann@example.org (1 added, 1 removed)." in saved.get_data(as_text=True)
    row = staff.get(f"/members/{ann.id}", headers=HX).get_data(as_text=True)
    assert "choir@example.org" in row and "club@example.org" not in row
    assert db.session.scalars(select(Subscription.list_id).where(Subscription.member_id == ann.id)).all() == [choir.id]
    assert staff.htmx_post(f"/members/{ann.id}/lists", {"list_ids": ["9999"]}).status_code == 404


def test_delete_removes_row_and_subscriptions_keeps_bounces(login):
    club = helpers.make_list()
    ann = helpers.make_member("ann@example.org", lists=[club])
    helpers.make_bounce(ann, "Permanent")
    response = login("operator").htmx_post(f"/members/{ann.id}/delete")
    assert response.status_code == 200 and "Deleted ann@example.org." in response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#flashes" and "members-changed" in response.headers["HX-Trigger"]
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
    log = db.session.scalar(select(BounceLog))
    db.session.refresh(log)
    assert log.member_id is None and log.email == "ann@example.org"


def test_htmx_errors_go_to_the_flash_area(login):
    staff = login("operator")
    missing = staff.htmx_post("/members/999/delete")
    assert missing.status_code == 404 and missing.headers["HX-Retarget"] == "#flashes"
    viewer = login("viewer")
    refused = viewer.htmx_post("/members/")
    assert refused.status_code == 403 and "permission" in refused.get_data(as_text=True)


def test_missing_objects_answer_404(login):
    staff = login("operator")
    assert staff.get("/lists/999").status_code == 404
    assert staff.post_form("/members/999/delete").status_code == 404


def test_broad_search_says_more_than_and_still_pages(login, monkeypatch):
    monkeypatch.setattr("maillist.members.search.SEARCH_COUNT_CAP", 3)
    for number in range(30):
        helpers.make_member(f"m{number:02d}@example.org", f"Pat {number:02d}")
    helpers.make_member("other@example.org", "Other")
    staff = login("viewer")
    html = staff.get("/members/?q=pat", headers=HX).get_data(as_text=True)
    assert "More than 3 members matching" in html and 'rel="next"' in html and "Page 1<" in html
    assert len(emails_in(html)) == 25
    second = emails_in(staff.get("/members/?q=pat&page=2", headers=HX).get_data(as_text=True))
    assert second == [f"m{n:02d}@example.org" for n in range(25, 30)]
    narrow = staff.get("/members/?q=m07%40", headers=HX).get_data(as_text=True)
    assert "1 member matching" in narrow and emails_in(narrow) == ["m07@example.org"]


def test_list_filter_counts_from_subscriptions(login):
    club = helpers.make_list()
    for number in range(3):
        helpers.make_member(f"m{number}@example.org", lists=[club])
    helpers.make_member("out@example.org")
    html = login("viewer").get(f"/members/?list={club.id}", headers=HX).get_data(as_text=True)
    assert "3 members" in html and emails_in(html) == ["m0@example.org", "m1@example.org", "m2@example.org"]


def test_deactivating_says_so_with_an_undo(login):
    ann = helpers.make_member("ann@example.org")
    staff = login("operator")
    answer = staff.htmx_post(f"/members/{ann.id}/active").get_data(as_text=True)
    assert answer.lstrip().startswith('<div id="flashes"')
    assert "ann@example.org is now inactive." in answer and ">Undo</button>" in answer
    assert f'hx-post="/members/{ann.id}/active"' in answer.split('id="flashes"')[1]
    undone = staff.htmx_post(f"/members/{ann.id}/active").get_data(as_text=True)
    assert "ann@example.org is now active." in undone
    db.session.refresh(ann)
    assert ann.active
