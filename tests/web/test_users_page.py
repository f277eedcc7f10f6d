"""The administrators' Users page: deactivation confirmed first, nobody deactivates themselves, and
a refused role change shows the role still in force."""

from sqlalchemy import select

from maillist.extensions import db
from maillist.models import User
from tests import helpers

HX = {"HX-Request": "true"}


def user_id(email):
    return db.session.scalar(select(User.id).where(User.email == email))


def test_deactivating_asks_first_without_javascript_then_acts(login):
    admin = login("admin")
    target = helpers.make_user("target@example.org", role="viewer")
    asked = admin.post_form(f"/users/{target.id}/active", {})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Deactivate target@example.org?" in page and "signed out everywhere" in page
    db.session.refresh(target)
    assert target.active, "nothing changed before the confirmation"
    done = admin.post_form(f"/users/{target.id}/active", {"confirmed": "yes"})
    assert done.status_code == 303
    db.session.refresh(target)
    assert not target.active
    # Activating again needs no confirmation.
    assert admin.post_form(f"/users/{target.id}/active", {}).status_code == 303


def test_with_htmx_the_page_asks_in_its_own_dialog_and_reloads(login):
    admin = login("admin")
    page = admin.get("/users/").get_data(as_text=True)
    assert 'hx-confirm="Deactivate ' in page and f'hx-post="/users/{user_id(admin.user_email)}/active"' in page
    target = helpers.make_user("target@example.org", role="viewer")
    answer = admin.post_form(f"/users/{target.id}/active", {}, headers=HX)
    assert answer.status_code == 200 and answer.headers["HX-Redirect"] == "/users/"


def test_nobody_deactivates_their_own_account(login):
    login("admin", email="other.admin@example.org")
    admin = login("admin", email="me@example.org")
    answer = admin.post_form(f"/users/{user_id('me@example.org')}/active", {"confirmed": "yes"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "You cannot deactivate your own account" in page and "<nav" in page
    assert admin.get("/users/").status_code == 200, "still signed in"


def test_a_refused_role_change_shows_the_role_still_in_force(login):
    admin = login("admin", email="only.admin@example.org")
    answer = admin.post_form(f"/users/{user_id('only.admin@example.org')}/role", {"role": "viewer"}, headers=HX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert html.lstrip().startswith("<form") and '<option value="admin" selected>' in html
    assert 'hx-swap-oob="true"' in html and "administrator" in html
    viewer = helpers.make_user("v@example.org", role="viewer")
    saved = admin.post_form(f"/users/{viewer.id}/role", {"role": "operator"}, headers=HX).get_data(as_text=True)
    assert '<option value="operator" selected>' in saved and "Saved: v@example.org is now operator." in saved


def test_add_user_says_the_password_minimum(login):
    page = login("admin").get("/users/").get_data(as_text=True)
    assert "Password (at least 10 characters)" in page and 'minlength="10"' in page
