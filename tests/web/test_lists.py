"""The lists pages over HTTP: create, edit, deactivate, delete, subscribers."""

from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import MailingList, Member, Subscription
from tests import helpers
from tests.helpers import HX, emails_in


def test_create_list_htmx_and_plain(login):
    staff = login("operator")
    assert staff.get("/lists/new", headers=HX).get_data(as_text=True).lstrip().startswith("<dialog")
    response = staff.htmx_post("/lists/", {"address": "Club@Example.org", "name": "Club", "description": "Members"})
    assert response.status_code == 200 and "lists-changed" in response.headers["HX-Trigger"]
    club = db.session.scalar(select(MailingList))
    assert (club.address, club.description) == ("club@example.org", "Members")
    assert staff.post_form("/lists/", {"address": "choir@example.org", "name": "Choir"}).status_code == 303


def test_duplicate_or_bad_list_is_refused_inline(login):
    helpers.make_list("club@example.org")
    staff = login("operator")
    duplicate = staff.htmx_post("/lists/", {"address": "CLUB@example.org", "name": "Other"})
    assert duplicate.status_code == 409 and 'value="Other"' in duplicate.get_data(as_text=True)
    nameless = staff.htmx_post("/lists/", {"address": "new@example.org", "name": " "})
    assert nameless.status_code == 400 and "needs a name" in nameless.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MailingList)) == 1


def test_index_shows_counts(login):
    club = helpers.make_list()
    helpers.make_member("ann@example.org", lists=[club])
    helpers.make_member("bob@example.org", lists=[club], active=False)
    html = login("viewer").get("/lists/").get_data(as_text=True)
    assert '<td data-label="Subscribers" class="num">2</td>' in html
    assert '<td data-label="Active subscribers" class="num">1</td>' in html


def test_subscribe_search_and_unsubscribe(login):
    club = helpers.make_list()
    ann = helpers.make_member("ann@example.org", "Ann")
    helpers.make_member("bob@example.org", "Bob")
    staff = login("operator")
    added = staff.htmx_post(f"/lists/{club.id}/subscribe", {"emails": "ann@example.org, BOB@example.org"})
    html = added.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="subscribers">') and "Subscribed 2: ann@example.org, bob@example.org." in html
    assert emails_in(html) == ["ann@example.org", "bob@example.org"]
    unknown = staff.htmx_post(f"/lists/{club.id}/subscribe", {"emails": "ghost@example.org"})
    assert unknown.status_code == 200 and "Not members yet" in unknown.get_data(as_text=True)
    assert 'value="ghost@example.org"' in unknown.get_data(as_text=True)
    found = staff.get(f"/lists/{club.id}?q=bob", headers=HX).get_data(as_text=True)
    assert emails_in(found) == ["bob@example.org"]
    gone = staff.htmx_post(f"/lists/{club.id}/unsubscribe/{ann.id}").get_data(as_text=True)
    assert gone.lstrip().startswith('<div id="flashes"') and 'hx-swap-oob="true"' in gone, "the row goes, the message comes"
    assert f"Unsubscribed ann@example.org from {club.address}." in gone and ">Undo</button>" in gone
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1


def test_edit_deactivate_delete(login):
    club = helpers.make_list()
    helpers.make_member("ann@example.org", lists=[club])
    staff = login("operator")
    assert staff.htmx_post(f"/lists/{club.id}/edit", {"name": "Club 2", "description": "d"}).headers["HX-Redirect"] == f"/lists/{club.id}"
    assert staff.htmx_post(f"/lists/{club.id}/active").status_code == 200
    db.session.refresh(club)
    assert (club.name, club.active) == ("Club 2", False)
    assert "inactive: delivers to nobody" in staff.get(f"/lists/{club.id}").get_data(as_text=True)
    assert staff.htmx_post(f"/lists/{club.id}/delete").headers["HX-Redirect"] == "/lists/"
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def test_viewer_sees_no_list_controls(login):
    club = helpers.make_list()
    helpers.make_member("ann@example.org", lists=[club])
    staff = login("viewer")
    for url in ("/lists/", f"/lists/{club.id}"):
        html = staff.get(url).get_data(as_text=True)
        for control in ("Create list", ">Subscribe</button>", ">Unsubscribe</button>", "Deactivate", "Delete list", ">Edit</a>", "<form method=\"post\" action=\"/lists"):
            assert control not in html, (url, control)


def test_pasting_addresses_subscribes_every_member_and_reports_the_rest(login):
    club = helpers.make_list()
    helpers.make_member("ann@example.org", lists=[club])
    helpers.make_member("bob@example.org")
    helpers.make_member("cy@example.org")
    staff = login("operator")
    pasted = "ann@example.org, BOB@example.org; ghost@example.org not-an-address cy@example.org bob@example.org"
    html = staff.htmx_post(f"/lists/{club.id}/subscribe", {"emails": pasted}).get_data(as_text=True)
    assert "Subscribed 2: bob@example.org, cy@example.org." in html
    assert "Already subscribed: ann@example.org." in html
    assert "Not members yet (add them on the Members page, then subscribe): ghost@example.org." in html
    assert "Not addresses: not-an-address." in html
    assert 'value="ghost@example.org not-an-address"' in html, "what could not be subscribed stays in the box"
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 3
    plain = staff.post_form(f"/lists/{club.id}/subscribe", {"emails": "ghost@example.org"}, follow_redirects=True)
    assert "Not members yet" in plain.get_data(as_text=True)


def test_a_refused_list_form_marks_the_field_to_fix(login):
    staff = login("operator")
    answer = staff.htmx_post("/lists/", {"address": "club@example.org", "name": "Club", "owners": "not an address"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400 and 'id="form-error"' in text
    assert 'name="owners" rows="2" aria-invalid="true" aria-describedby="form-error"' in text
    assert text.count('aria-invalid="true"') == 1, "only the field the error is about"
    nameless = staff.htmx_post("/lists/", {"address": "club@example.org", "name": " "}).get_data(as_text=True)
    assert 'value=" " aria-invalid="true"' in nameless
