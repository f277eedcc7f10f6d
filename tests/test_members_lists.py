"""Members and lists through the web pages: create, edit, refuse bad input, subscribe, delete."""

from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import BounceLog, MailingList, Member, Subscription
from tests import factories


def test_members_page_lists_and_searches(login):
    club = factories.make_list()
    factories.make_member("ann@example.org", "Ann", lists=[club])
    factories.make_member("bob@example.org", "Bob", bounce_status="hard", bounce_count=1, active=False)
    staff = login("viewer")
    page = staff.get("/members/").get_data(as_text=True)
    assert "ann@example.org" in page and "bob@example.org" in page and "<html" in page
    fragment = staff.get("/members/?q=BOB", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "bob@example.org" in html and "ann@example.org" not in html and "<html" not in html
    assert "HX-Request" in fragment.headers["Vary"]
    inactive = staff.get("/members/?active=inactive&status=hard").get_data(as_text=True)
    assert "bob@example.org" in inactive and "ann@example.org" not in inactive
    by_list = staff.get(f"/members/?list={club.id}").get_data(as_text=True)
    assert "ann@example.org" in by_list and "bob@example.org" not in by_list


def test_viewer_sees_no_write_controls(login):
    factories.make_member("ann@example.org")
    page = login("viewer").get("/members/").get_data(as_text=True)
    assert "Add member" not in page and "Deactivate" not in page and "Delete" not in page


def test_add_member_normalises_and_refuses_duplicates(login):
    club = factories.make_list()
    staff = login("operator")
    created = staff.post_form("/members/", {"email": " Ann@Example.ORG ", "name": "Ann", "lists": [club.address]})
    assert created.status_code == 303
    member = db.session.scalar(select(Member).where(Member.email == "ann@example.org"))
    assert [s.list_id for s in member.subscriptions] == [club.id]
    duplicate = staff.post_form("/members/", {"email": "ANN@example.org", "name": "Imposter"})
    assert duplicate.status_code == 409
    html = duplicate.get_data(as_text=True)
    assert "already exists" in html and 'value="Imposter"' in html
    db.session.refresh(member)
    assert member.name == "Ann"


def test_bad_address_is_refused_and_input_kept(login):
    response = login("operator").post_form("/members/", {"email": "not an address", "name": "Zed"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "is not a valid email address" in html and 'value="Zed"' in html
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_edit_to_taken_address_changes_nothing(login):
    ann = factories.make_member("ann@example.org", "Ann")
    factories.make_member("bob@example.org", "Bob")
    response = login("operator").post_form(f"/members/{ann.id}/edit", {"email": "bob@example.org", "name": "X"})
    assert response.status_code == 409
    db.session.refresh(ann)
    assert (ann.email, ann.name) == ("ann@example.org", "Ann")


def test_deleting_member_removes_subscriptions_keeps_bounces(login):
    club = factories.make_list()
    ann = factories.make_member("ann@example.org", lists=[club])
    factories.make_bounce(ann, "Permanent")
    assert login("operator").post_form(f"/members/{ann.id}/delete").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
    log = db.session.scalar(select(BounceLog))
    db.session.refresh(log)
    assert log.member_id is None and log.email == "ann@example.org"


def test_deleting_list_removes_subscriptions(login):
    club = factories.make_list()
    factories.make_member("ann@example.org", lists=[club])
    assert login("operator").post_form(f"/lists/{club.id}/delete").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def test_lists_page_and_subscriptions(login):
    staff = login("operator")
    assert staff.post_form("/lists/", {"address": "Club@Example.org", "name": "Club"}).status_code == 303
    club = db.session.scalar(select(MailingList))
    assert club.address == "club@example.org"
    factories.make_member("ann@example.org")
    factories.make_member("bob@example.org", active=False)
    assert staff.post_form(f"/lists/{club.id}/subscribe", {"emails": "ann@example.org, BOB@example.org"}).status_code == 303
    index = staff.get("/lists/").get_data(as_text=True)
    assert "<td>2</td>" in index and "<td>1</td>" in index
    detail = staff.get(f"/lists/{club.id}").get_data(as_text=True)
    assert "ann@example.org" in detail and "bob@example.org" in detail
    unknown = staff.post_form(f"/lists/{club.id}/subscribe", {"emails": "ghost@example.org"})
    assert unknown.status_code == 404 and "ghost@example.org" in unknown.get_data(as_text=True)


def test_duplicate_list_address_is_refused(login):
    factories.make_list("club@example.org")
    response = login("operator").post_form("/lists/", {"address": "CLUB@example.org", "name": "Other"})
    assert response.status_code == 409
    assert 'value="Other"' in response.get_data(as_text=True)


def test_missing_objects_answer_404(login):
    staff = login("operator")
    assert staff.get("/lists/999").status_code == 404
    assert staff.post_form("/members/999/delete").status_code == 404
