"""Sessions for requests without a cookie (maillist.auth.cookie_sessions): the same answers as
Flask's own signed-cookie sessions give, headers and all."""

import pytest
from flask.sessions import SecureCookieSessionInterface

from maillist.auth.cookie_sessions import CookieSessions
from tests import helpers



@pytest.fixture
def app_overrides(webhook_settings):
    return webhook_settings



def answers(app, requests):
    """(status, Set-Cookie present, Vary) for each request, from a fresh cookie-less client."""
    seen = []
    for method, path, options in requests:
        with app.app_context():  # a fresh `g` each time, as a served request has
            response = app.test_client().open(path, method=method, **options)
        seen.append((response.status_code, bool(response.headers.getlist("Set-Cookie")), response.headers.get("Vary")))
    return seen


REQUESTS = [
    ("GET", "/health", {}),
    ("GET", "/login", {}),  # the sign-in form puts a CSRF token in a new session
    ("GET", "/members/", {}),  # redirected to sign in
    ("POST", "/webhooks/sns", {"data": "{}", "headers": {"x-amz-sns-message-type": "Notification"}}),
    ("POST", "/login", {"data": {"email": "x@example.org", "password": "wrong"}}),  # no CSRF token: refused
    ("GET", "/health", {"headers": {"Cookie": "session=forged.value.here"}}),
    ("GET", "/login", {"headers": {"Cookie": "session="}}),
]


def test_cookie_less_requests_are_answered_as_flask_would(app):
    ours = answers(app, REQUESTS)
    app.session_interface = SecureCookieSessionInterface()
    try:
        flasks = answers(app, REQUESTS)
    finally:
        app.session_interface = CookieSessions()
    for request, mine, flask in zip(REQUESTS, ours, flasks):
        assert mine == flask, request
    assert ours[0][1] is False and ours[1][1] is True and ours[3][1] is False


def test_the_webhook_sets_no_cookie(app, aws):
    response = helpers.post_sns(app.test_client(), helpers.sns_notification(helpers.ses_event("Delivery", ["a@example.org"])))
    assert response.status_code == 200 and not response.headers.getlist("Set-Cookie")
    assert response.get_json() == {"outcome": "applied", "detail": "delivery:1"}


def test_signing_in_still_keeps_the_session(app, login):
    staff = login("operator")
    assert staff.get("/members/").status_code == 200
