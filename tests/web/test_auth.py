"""Signing in and out, throttling, CSRF, and changing one's own password."""

import pytest
from sqlalchemy import select

from maillist.extensions import db
from maillist.models import AuditLog, LoginAttempt, User
from tests import helpers

PASSWORD = "a long enough password"
LOGIN_ERROR = "Invalid email or password."


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="email"' in html and 'name="password"' in html and 'name="csrf_token"' in html


def test_login_success_sets_safe_session_cookie(client):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    response = client.post_form("/login", {"email": "Boss@Example.org", "password": PASSWORD})
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/members/").status_code == 200
    assert db.session.scalar(select(User.last_login_at).where(User.email == "boss@example.org")) is not None


def test_unknown_user_and_wrong_password_get_one_message(client):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    unknown = client.post_form("/login", {"email": "nobody@example.org", "password": PASSWORD})
    wrong = client.post_form("/login", {"email": "boss@example.org", "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 401
    assert LOGIN_ERROR in unknown.get_data(as_text=True)
    assert LOGIN_ERROR in wrong.get_data(as_text=True)


def test_inactive_user_cannot_sign_in(client):
    helpers.make_user("gone@example.org", "admin", PASSWORD, active=False)
    response = client.post_form("/login", {"email": "gone@example.org", "password": PASSWORD})
    assert response.status_code == 401


def test_login_without_csrf_token_is_refused(client):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    response = client.post("/login", data={"email": "boss@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    assert client.get("/members/").status_code == 302


def test_writes_without_csrf_token_are_refused(login):
    staff = login("operator")
    response = staff.post("/lists/", data={"address": "a@example.org", "name": "A"})
    assert response.status_code == 400
    htmx = staff.htmx_post("/lists/", {"address": "a@example.org", "name": "A"})
    assert htmx.status_code == 200 and "Created list a@example.org." in htmx.get_data(as_text=True)


def test_failures_throttle_the_account_from_that_address(client):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    for _ in range(5):
        client.post_form("/login", {"email": "boss@example.org", "password": "wrong password!"})
    response = client.post_form("/login", {"email": "boss@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_failures_throttle_the_client_address(app, client):
    for number in range(20):
        client.post_form("/login", {"email": f"guess{number}@example.org", "password": "x"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    blocked = client.post_form("/login", {"email": "boss@example.org", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    other = client.post_form("/login", {"email": "boss@example.org", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert blocked.status_code == 429
    assert other.status_code == 303


def test_throttle_state_is_in_the_database_shared_by_workers(app, client):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    for _ in range(5):
        client.post_form("/login", {"email": "boss@example.org", "password": "wrong password!"})
    assert db.session.scalar(select(LoginAttempt.attempts).where(LoginAttempt.scope == "pair")) == 5
    # A second app (another worker or host) on the same database sees the same state.
    other_worker = helpers.staff_client(app)
    response = other_worker.post_form("/login", {"email": "boss@example.org", "password": PASSWORD})
    assert response.status_code == 429


def test_logout(login):
    staff = login("viewer")
    assert staff.post_form("/logout").status_code == 303
    assert staff.get("/members/").status_code == 302


def test_anonymous_htmx_request_gets_hx_redirect(client):
    response = client.get("/members/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_login_next_parameter_stays_on_site(client):
    helpers.make_user("boss@example.org", "admin", PASSWORD)
    response = client.post_form("/login?next=//evil.example/x", {"email": "boss@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_change_own_password(login):
    staff = login("viewer", email="v@example.org")
    form = staff.get("/account/password").get_data(as_text=True)
    assert form.count('minlength="10"') == 2, "the browser stops a short new password before the fields are lost"
    bad = staff.post_form("/account/password", {"current_password": "wrong", "new_password": "n" * 12, "confirm": "n" * 12})
    assert bad.status_code == 400 and "current password is not correct" in bad.get_data(as_text=True)
    short = staff.post_form("/account/password", {"current_password": PASSWORD, "new_password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 10 characters" in short.get_data(as_text=True)
    good = staff.post_form("/account/password", {"current_password": PASSWORD, "new_password": "n" * 12, "confirm": "n" * 12})
    assert good.status_code == 303
    assert db.session.scalar(select(User).where(User.email == "v@example.org")).check_password("n" * 12)
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "user.password")).actor == "v@example.org"


def test_password_is_hashed(app):
    user = helpers.make_user("boss@example.org", "admin", PASSWORD)
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("role, status", [("admin", 200), ("operator", 403), ("viewer", 403)])
def test_users_page_is_for_admins(login, role, status):
    assert login(role).get("/users/").status_code == status


def test_admin_manages_users(login):
    admin = login("admin")
    created = admin.post_form("/users/", {"email": "New@Example.org", "name": "New", "role": "operator", "password": "p" * 12})
    assert created.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "new@example.org"))
    assert user.role == "operator"
    assert admin.post_form(f"/users/{user.id}/role", {"role": "viewer"}).status_code == 303
    assert admin.post_form(f"/users/{user.id}/password", {"password": "q" * 12}).status_code == 303
    assert admin.post_form(f"/users/{user.id}/active", {"confirmed": "yes"}).status_code == 303
    db.session.refresh(user)
    assert (user.role, user.active, user.check_password("q" * 12)) == ("viewer", False, True)
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["user.create", "user.role", "user.password", "user.deactivate"]


def test_duplicate_user_is_refused_clearly(login):
    admin = login("admin", email="boss@example.org")
    response = admin.post_form("/users/", {"email": "BOSS@example.org", "role": "viewer", "password": "p" * 12})
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)


def test_last_admin_cannot_be_demoted(login):
    admin = login("admin", email="only@example.org")
    user = db.session.scalar(select(User).where(User.email == "only@example.org"))
    response = admin.post_form(f"/users/{user.id}/role", {"role": "viewer"})
    assert response.status_code == 400
    assert "at least one active administrator" in response.get_data(as_text=True)
