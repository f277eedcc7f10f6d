"""Small helpers that make test data and drive the app as staff would."""

import re

from flask.testing import FlaskClient

from maillist.extensions import db
from maillist.models import BounceLog, MailingList, Member, Subscription, User

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


def make_user(email="staff@example.org", role="admin", password="a long enough password", active=True):
    """A staff user, committed."""
    user = User(email=email.lower(), name=email.split("@")[0], role=role, active=active)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def make_list(address="club@example.org", name="Club", active=True):
    """A mailing list, committed."""
    mailing_list = MailingList(address=address, name=name, description="", active=active)
    db.session.add(mailing_list)
    db.session.commit()
    return mailing_list


def make_member(email="ann@example.org", name="Ann", lists=(), **fields):
    """A member subscribed to `lists`, committed."""
    member = Member(email=email.lower(), name=name, **fields)
    db.session.add(member)
    for mailing_list in lists:
        db.session.add(Subscription(member=member, mailing_list=mailing_list))
    db.session.commit()
    return member


def make_bounce(member, bounce_type="Transient", **fields):
    """A bounce log row for `member`, committed."""
    row = BounceLog(member=member, email=member.email, event="bounce", bounce_type=bounce_type, **fields)
    db.session.add(row)
    db.session.commit()
    return row


class StaffClient(FlaskClient):
    """A test client that sends the CSRF token like a browser, each request in its own app context.

    The tests hold an app context open for their own queries; without a fresh context per
    request, `g` (and with it Flask-Login's user and Flask-WTF's token) would leak between
    clients, which never happens between real browsers.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._token = None

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self):
        """The session's CSRF token, read from a page the way a browser gets it."""
        if self._token is None:
            html = self.get("/login").get_data(as_text=True)
            match = CSRF_FIELD.search(html) or CSRF_HEADER.search(html)
            self._token = match.group(1)
        return self._token

    def post_form(self, url, data=None, headers=None, **kwargs):
        """POST form data with the CSRF token, as the site's own forms do."""
        fields = {"csrf_token": self.csrf_token()}
        fields.update(data or {})
        return self.post(url, data=fields, headers=headers or {}, **kwargs)

    def htmx_post(self, url, data=None):
        """POST as htmx does: the token in the X-CSRFToken header, HX-Request set."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf_token()}
        return self.post(url, data=data or {}, headers=headers)


def staff_client(app):
    """A new StaffClient for `app`: a browser with its own cookies."""
    app.test_client_class = StaffClient
    return app.test_client()
