"""Every route that changes data, for every role: anonymous -> sign-in, viewer -> 403, writers -> done.

A route added later without an entry here fails `test_every_write_route_is_in_the_matrix`, so
nobody can add a write route and forget its role check.
"""

import pytest
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.models import AuditLog, ProcessedReport, StormHold
from maillist.permissions import ADMINISTER, HOLDERS, SIGNED_IN, WRITE
from tests import helpers

# The roles come from the one table of permissions the routes and templates read too.
WRITERS, ADMINS, ANY_STAFF = HOLDERS[WRITE], HOLDERS[ADMINISTER], HOLDERS[SIGNED_IN]
PERMISSION_OF = {roles: permission for permission, roles in HOLDERS.items()}
# Routes that take no role: signing in, and the SNS webhook (it verifies signatures instead).
# One-click unsubscribe: the signed token is the authority (tests/web/test_one_click_unsubscribe.py).
PUBLIC_WRITES = {"auth.login", "sns.webhook", "unsubscribe.unsubscribe"}

# endpoint -> (roles allowed, URL template, form data)
MATRIX = {
    "auth.logout": (ANY_STAFF, "/logout", {}),
    "auth.change_password": (ANY_STAFF, "/account/password", {"current_password": "a long enough password", "new_password": "n" * 12, "confirm": "n" * 12}),
    "members.create": (WRITERS, "/members/", {"email": "new@example.org", "name": "New"}),
    "members.edit": (WRITERS, "/members/{member}/edit", {"email": "ann@example.org", "name": "Ann B"}),
    "members.toggle_active": (WRITERS, "/members/{member}/active", {}),
    "members.delete": (WRITERS, "/members/{member}/delete", {"confirmed": "yes"}),
    "members.reset_bounces": (WRITERS, "/members/{member}/bounces/reset", {"confirmed": "yes"}),
    "members.set_lists": (WRITERS, "/members/{member}/lists", {}),  # no box ticked: leave every list
    "members.bulk_action": (WRITERS, "/members/bulk", {"action": "deactivate", "scope": "ticked", "ids": "{member}", "confirmed": "yes"}),
    "members.export_selection": (ANY_STAFF, "/members/export-selection.csv", {"scope": "all"}),
    "members.import_preview": (WRITERS, "/members/import/preview", {"csv_text": "name,email\nNew,new@example.org\n"}),
    "members.import_apply": (WRITERS, "/members/import", {"csv_text": "name,email\nNew,new@example.org\n"}),
    "lists.create": (WRITERS, "/lists/", {"address": "new-list@example.org", "name": "New"}),
    "lists.edit": (WRITERS, "/lists/{list}/edit", {"name": "Renamed", "description": "d"}),
    "lists.toggle_active": (WRITERS, "/lists/{list}/active", {}),
    "lists.delete": (WRITERS, "/lists/{list}/delete", {"confirmed": "yes"}),
    "lists.subscribe": (WRITERS, "/lists/{list}/subscribe", {"emails": "bob@example.org"}),
    "lists.unsubscribe": (WRITERS, "/lists/{list}/unsubscribe/{member}", {"confirmed": "yes"}),
    "users.create": (ADMINS, "/users/", {"email": "staff2@example.org", "role": "viewer", "password": "p" * 12}),
    "users.change_role": (ADMINS, "/users/{user}/role", {"role": "operator"}),
    "users.toggle_active": (ADMINS, "/users/{user}/active", {"confirmed": "yes"}),
    "users.reset_password": (ADMINS, "/users/{user}/password", {"password": "p" * 12}),
    "bounces.release_storm": (ADMINS, "/bounces/storms/{hold}/release", {}),
    "bounces.dismiss_storm": (ADMINS, "/bounces/storms/{hold}/dismiss", {}),
    "bounces.reprocess_report": (ADMINS, "/bounces/status/reports/{report}/reprocess", {}),
    "bounces.apply_ignored": (ADMINS, "/bounces/status/apply-ignored", {}),
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Pages that only show a form for a write: viewers get 403 here too, not a form they cannot use.
WRITE_FORMS = {
    "members.new": "/members/new",
    "members.edit_form": "/members/{member}/edit",
    "members.lists_form": "/members/{member}/lists",
    "members.import_form": "/members/import",
    "lists.new": "/lists/new",
    "lists.edit_form": "/lists/{list}/edit",
}


def write_endpoints(app):
    """Every endpoint that accepts a method which changes data."""
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.methods & WRITE_METHODS}


def test_every_write_route_is_in_the_matrix(app):
    missing = write_endpoints(app) - set(MATRIX) - PUBLIC_WRITES
    assert not missing, f"write routes without a role-matrix entry: {sorted(missing)}"


def test_each_route_requires_the_permission_the_matrix_expects(app):
    wrong = {endpoint: app.view_functions[endpoint].permission for endpoint, (roles, _, _) in MATRIX.items()
             if app.view_functions[endpoint].permission != PERMISSION_OF[roles]}
    assert wrong == {}


def test_a_refusal_names_who_may_do_it(login, objects):
    page = login("viewer").post_form(f"/members/{objects['member']}/active", {}).get_data(as_text=True)
    assert "This needs an administrator or an operator; you are signed in as viewer." in page


@pytest.fixture
def objects(app):
    """A list, two members (one subscribed), a second staff user, an open bounce-storm hold and a
    malformed message to act on."""
    mailing_list = helpers.make_list()
    member = helpers.make_member(lists=[mailing_list])
    helpers.make_member("bob@example.org", "Bob")
    user = helpers.make_user("target@example.org", role="viewer")
    hold = StormHold(domain="bigmail.example", open_domain="bigmail.example", reason="blocked")
    report = ProcessedReport(report_key="m-1", source="sns", kind="Notification", outcome="malformed", raw_body="{x")
    db.session.add_all([hold, report])
    db.session.commit()
    return {"list": mailing_list.id, "member": member.id, "user": user.id, "hold": hold.id, "report": report.id}


def audit_count():
    return db.session.scalar(select(func.count()).select_from(AuditLog))


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
@pytest.mark.parametrize("role", ["anonymous", "viewer", "operator", "admin"])
def test_role_matrix(app, login, objects, endpoint, role):
    allowed, template, data = MATRIX[endpoint]
    url = template.format(**objects)
    if role == "anonymous":
        staff = helpers.staff_client(app)
    else:
        staff = login(role)
    before = audit_count()
    data = {key: value.format(**objects) for key, value in data.items()}
    response = staff.post_form(url, data)
    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
        assert audit_count() == before
    elif role in allowed:
        assert response.status_code in (200, 303), response.get_data(as_text=True)
        if endpoint not in ("auth.logout", "members.import_preview", "members.export_selection"):  # reads
            assert audit_count() == before + 1
    else:
        assert response.status_code == 403
        assert audit_count() == before


def test_every_endpoint_requires_a_role_or_is_public(app):
    """Every view carries the role decorator, except the few that must be public."""
    public = {"static", "auth.login", "sns.webhook", "health.health", "index", "metrics.metrics",  # /metrics: its own token
              "unsubscribe.confirm", "unsubscribe.unsubscribe"}  # the signed token in the URL
    missing = [
        endpoint for endpoint, view in app.view_functions.items()
        if endpoint not in public and not hasattr(view, "permission")
    ]
    assert not missing, f"views without a required permission: {missing}"


@pytest.mark.parametrize("endpoint", sorted(WRITE_FORMS))
@pytest.mark.parametrize("role, status", [("anonymous", 302), ("viewer", 403), ("operator", 200), ("admin", 200)])
def test_write_forms_matrix(app, login, objects, endpoint, role, status):
    staff = helpers.staff_client(app) if role == "anonymous" else login(role)
    assert staff.get(WRITE_FORMS[endpoint].format(**objects)).status_code == status


def test_a_refused_new_user_keeps_the_form_with_the_reason(login):
    admin = login("admin")
    response = admin.post_form("/users/", {"email": "new.staff@example.org", "role": "operator", "password": "short", "name": "New Staff"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "new.staff@example.org" in page and "New Staff" in page, "what was typed stays"
    assert "password" in page.lower() and "<nav" in page, "the page with the reason, not a bare error"


def test_a_role_is_saved_as_it_is_chosen(login):
    target = helpers.make_user("target@example.org", role="viewer")
    admin = login("admin")
    page = admin.get("/users/").get_data(as_text=True)
    assert 'hx-trigger="change"' in page and "<noscript><button type=\"submit\">Save</button></noscript>" in page
    answer = admin.htmx_post(f"/users/{target.id}/role", {"role": "operator"})
    assert answer.status_code == 200 and "Saved: target@example.org is now operator." in answer.get_data(as_text=True)
    assert answer.get_data(as_text=True).lstrip().startswith("<form")  # the form again, the message out of band
    db.session.refresh(target)
    assert target.role == "operator"
