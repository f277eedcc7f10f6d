"""Helpers every ring of the suite shares: skipping rules, test data, staff clients, signed SNS messages.

- test data: `make_user`, `make_list`, `make_member`, `make_bounce`, `hard_member`
- staff: `StaffClient` sends CSRF tokens as a browser does; `HX` marks a request as htmx's
- SNS: a test CA and signer, `sns_notification` / `sns_confirmation` signed for real, `post_sns`
- SES: payloads in the shapes of AWS's documented examples (../shared/aws-samples/):
  `ses_identity` (identity notifications) and `ses_event` (configuration-set event publishing)
- AWS's genuine signed SNS messages in ../shared/sns-vectors: `SNS_VECTORS`, `load_vector`
"""

import base64
import fcntl
import json
import os
import re
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from maillist.extensions import db
from maillist.models import BounceLog, MailingList, Member, Subscription, User
from maillist.models.types import utcnow
from maillist.transports.sns.verify import string_to_sign

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REQUIRE_ALL = os.environ.get("MAILLIST_REQUIRE_ALL_TESTS") == "1"
HX = {"HX-Request": "true"}


# Skipping, settings, databases and ports --------------------------------------------------------

def need(condition, reason):
    """Skip the test when `condition` is false, or fail it where CI demands every test run."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required but unavailable: {reason}")
    pytest.skip(reason)


def app_settings(database_url, **extra):
    """Settings every test app shares."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "TESTING": True,
        "SERVER_NAME": None,
        # Intake counts are flushed when a test reads them, not by a thread shared between tests' apps.
        "INTAKE_COUNTS_FLUSHER": False,
    }
    settings.update(extra)
    return settings


def empty_all_tables():
    """Delete every row, children first, so each test starts from nothing."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def throwaway_database(server_url, name):
    """Create database `name` on the server, yield its URL, drop it afterwards."""
    admin = create_engine(server_url)
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def emails_in(html):
    """Member addresses in table rows, in order."""
    return re.findall(r'<td data-label="Email">([^<]+)</td>', html)


# Test data and staff clients -------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


def make_user(email="staff@example.org", role="admin", password="a long enough password", active=True):
    """A staff user, committed."""
    user = User(email=email.lower(), name=email.split("@")[0], role=role, active=active)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def make_list(address="club@example.org", name="Club", active=True, post_policy="members", allowed_senders=""):
    """A mailing list, committed."""
    mailing_list = MailingList(address=address, name=name, description="", active=active, post_policy=post_policy,
                               allowed_senders=allowed_senders)
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


def make_people():
    """Ann Walsh, Bob Walsh and Cy Young: the members the browser tests search, sort and tick."""
    for name, email in (("Ann Walsh", "ann@example.org"), ("Bob Walsh", "bob@example.org"), ("Cy Young", "cy@example.org")):
        make_member(email, name)


def make_bounce(member, bounce_type="Transient", **fields):
    """A bounce log row for `member`, committed."""
    row = BounceLog(member=member, email=member.email, event="bounce", bounce_type=bounce_type, **fields)
    db.session.add(row)
    db.session.commit()
    return row


def hard_member(email="hard@example.org"):
    """A hard-bounced, inactive member with a permanent bounce and a complaint in their history."""
    member = make_member(email, "Hard", bounce_status="hard", bounce_count=2, active=False, last_bounce_at=utcnow())
    make_bounce(member, "Permanent", bounce_subtype="NoEmail", status="5.1.1",
                diagnostic_code="smtp; 550 5.1.1 user unknown", occurred_at=utcnow() - timedelta(hours=2))
    db.session.add(BounceLog(member=member, email=member.email, event="complaint", feedback_type="abuse",
                             user_agent="Yahoo!-Mail-Feedback/2.0", occurred_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    return member


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
        # The sign-in page before signing in; a page of the app after (the sign-in page then redirects).
        for page in ("/login", "/members/"):
            if self._token is None:
                html = self.get(page).get_data(as_text=True)
                match = CSRF_FIELD.search(html) or CSRF_HEADER.search(html)
                self._token = match.group(1) if match else None
        return self._token

    def post_form(self, url, data=None, headers=None, **kwargs):
        """POST form data with the CSRF token, as the site's own forms do."""
        fields = {"csrf_token": self.csrf_token()}
        fields.update(data or {})
        response = self.post(url, data=fields, headers=headers or {}, **kwargs)
        if url.startswith("/login") and response.status_code == 303:
            self._token = None  # signing in starts a new session: the next page carries a new token
        return response

    def htmx_post(self, url, data=None):
        """POST as htmx does: the token in the X-CSRFToken header, HX-Request set."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf_token()}
        return self.post(url, data=data or {}, headers=headers)


def staff_client(app):
    """A new StaffClient for `app`: a browser with its own cookies."""
    app.test_client_class = StaffClient
    return app.test_client()


# Signed SNS messages ---------------------------------------------------------------------------

REGION = "eu-west-1"
CERT_URL = f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
TOPIC_ARN = f"arn:aws:sns:{REGION}:123456789012:ses-bounces"
SUBSCRIBE_URL = f"https://sns.{REGION}.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC_ARN}&Token=2336412f37"
UNSUBSCRIBE_URL = f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC_ARN}:c9135db0"
SNS_HEADERS = {"Content-Type": "text/plain; charset=UTF-8", "User-Agent": "Amazon Simple Notification Service Agent"}


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@lru_cache(maxsize=None)
def _key(label):
    """An RSA key per label, made once per test run."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@lru_cache(maxsize=None)
def signing_pair(common_name="sns.amazonaws.com", days_valid=365, starts_days_ago=1, label="signer"):
    """(private key, certificate) issued by the test CA."""
    ca_key, signer_key = _key("ca"), _key(label)
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name("maillist test CA"))
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=starts_days_ago))
        .not_valid_after(now - timedelta(days=starts_days_ago) + timedelta(days=days_valid))
        .sign(ca_key, hashes.SHA256())
    )
    return signer_key, cert


def cert_pem(cert=None):
    """The PEM bytes of a certificate (the default signer's when none is given)."""
    return (cert or signing_pair()[1]).public_bytes(serialization.Encoding.PEM)


def sns_timestamp(when=None):
    """An SNS-style Timestamp (milliseconds, Z)."""
    when = when or datetime.now(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def sign(message, version="1", key=None, cert_url=CERT_URL):
    """Add SignatureVersion, SigningCertURL and a real Signature to `message` (returned)."""
    message = dict(message, SignatureVersion=version, SigningCertURL=cert_url)
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = (key or signing_pair()[0]).sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
    message["Signature"] = base64.b64encode(signature).decode()
    return message


def sns_notification(payload, subject=None, version="1", message_id=None, when=None, topic=TOPIC_ARN, **sign_options):
    """A signed Notification whose Message is `payload` (a dict is JSON-encoded, as SES does)."""
    message = {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": payload if isinstance(payload, str) else json.dumps(payload),
        "Timestamp": sns_timestamp(when),
        "UnsubscribeURL": UNSUBSCRIBE_URL,
    }
    if subject is not None:
        message["Subject"] = subject
    return sign(message, version, **sign_options)


def sns_confirmation(kind="SubscriptionConfirmation", subscribe_url=SUBSCRIBE_URL, version="1", when=None, topic=TOPIC_ARN,
                     **sign_options):
    """A signed SubscriptionConfirmation or UnsubscribeConfirmation."""
    message = {
        "Type": kind,
        "MessageId": str(uuid.uuid4()),
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
        "TopicArn": topic,
        "Message": f"You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": subscribe_url,
        "Timestamp": sns_timestamp(when),
    }
    return sign(message, version, **sign_options)


def sns_body(message):
    """The HTTP body SNS would send."""
    return json.dumps(message)


def post_sns(client, message, **headers):
    """POST a message to the webhook the way SNS does (text/plain, type header)."""
    sent = dict(SNS_HEADERS, **{"x-amz-sns-message-type": message.get("Type", "Notification")})
    sent.update(headers)
    return client.post("/webhooks/sns", data=sns_body(message), headers=sent)


# SES payloads ----------------------------------------------------------------------------------

SES_SOURCE = "club@lists.example.org"


def ses_mail(recipients):
    """The `mail` object SES attaches to every notification."""
    return {
        "timestamp": sns_timestamp(),
        "source": SES_SOURCE,
        "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/lists.example.org",
        "sendingAccountId": "123456789012",
        "messageId": "0000014a-f4d4-4f89-93ca-0a8b2c1e9d3e-000000",
        "destination": list(recipients),
        "headersTruncated": False,
        "headers": [{"name": "From", "value": SES_SOURCE}, {"name": "To", "value": ", ".join(recipients)}],
        "commonHeaders": {"from": [SES_SOURCE], "to": list(recipients), "subject": "Club news"},
    }


def ses_bounce_object(recipients, bounce_type="Permanent", subtype="General", when=None, status=None):
    """A `bounce` object with one bouncedRecipients entry per address."""
    code = status or ("5.1.1" if bounce_type == "Permanent" else "4.4.7")
    return {
        "bounceType": bounce_type,
        "bounceSubType": subtype,
        "bouncedRecipients": [
            {"emailAddress": address, "action": "failed", "status": code,
             "diagnosticCode": f"smtp; 550 {code} <{address}>... User unknown"}
            for address in recipients
        ],
        "timestamp": sns_timestamp(when),
        "feedbackId": "0000013786031775-163e3910-53eb-4c8e-a04a-f29debf88a84-000000",
        "reportingMTA": "dns; a8-70.smtp-out.amazonses.com",
    }


def ses_complaint_object(recipients, when=None):
    """A `complaint` object with a feedback report."""
    return {
        "userAgent": "ExampleCorp Feedback Loop (V0.01)",
        "complainedRecipients": [{"emailAddress": address} for address in recipients],
        "complaintFeedbackType": "abuse",
        "arrivalDate": sns_timestamp(when),
        "timestamp": sns_timestamp(when),
        "feedbackId": "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000",
    }


def ses_delivery_object(recipients, when=None):
    """A `delivery` object."""
    return {
        "timestamp": sns_timestamp(when),
        "processingTimeMillis": 546,
        "recipients": list(recipients),
        "smtpResponse": "250 ok:  Message 64111812 accepted",
        "reportingMTA": "a8-70.smtp-out.amazonses.com",
        "remoteMtaIp": "127.0.2.0",
    }


SES_OBJECTS = {"Bounce": ("bounce", ses_bounce_object), "Complaint": ("complaint", ses_complaint_object), "Delivery": ("delivery", ses_delivery_object)}


def ses_identity(kind, recipients, **options):
    """An identity notification: {"notificationType": kind, <object>, "mail"}."""
    key, build = SES_OBJECTS[kind]
    return {"notificationType": kind, key: build(recipients, **options), "mail": ses_mail(recipients)}


def ses_event(kind, recipients, **options):
    """A configuration-set event publishing record: {"eventType": kind, <object>, "mail"}."""
    key, build = SES_OBJECTS[kind]
    return {"eventType": kind, key: build(recipients, **options), "mail": ses_mail(recipients)}


def utc_at(year, month, day, hour=12):
    """A UTC time for event timestamps."""
    return datetime(year, month, day, hour, tzinfo=timezone.utc)


# Certificate URLs that only look like SNS's (a real one is https://sns.<region>.amazonaws.com/...pem)
LOOKALIKE_CERT_URLS = [
    "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-abc.pem",
    "https://user:pw@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://evil.example/sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://evil.example/?https://sns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem.txt",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem?x=1.txt",
    "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
    "https://s3.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.amazonaws.com.cn.evil.example/x.pem",
    "https://evilsns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com\\@evil.example/x.pem",
    "ftp://sns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com/x.pem\n",
    "",
    None,
]


# AWS's genuine signed SNS messages --------------------------------------------------------------

SNS_VECTORS = SHARED / "sns-vectors"
SNS_VECTOR_FILES = sorted((SNS_VECTORS / "messages").glob("*.json")) if SNS_VECTORS.is_dir() else []


def vector_certificate(url):
    """The certificate a genuine vector names, read from ../shared/sns-vectors/certs."""
    return x509.load_pem_x509_certificate((SNS_VECTORS / "certs" / url.rsplit("/", 1)[-1]).read_bytes())


def load_vector(path):
    """One genuine SNS message from ../shared/sns-vectors."""
    need(SNS_VECTORS.is_dir(), "../shared/sns-vectors is absent")
    return json.loads(Path(path).read_text())


class SmtpSink:
    """An SMTP server that keeps every message it is given (the stand-in for SES)."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        with self.arrived:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count, timeout=30):
        """Wait until `count` messages have arrived; returns them."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.messages) < count and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
            return list(self.messages)


@contextmanager
def ledger_write_lock(database_url):
    """Hold the ledger's write lock from outside the app, as another writer would: MariaDB's table
    lock on processed_report, or the SQLite writer queue's lock file."""
    if make_url(database_url).get_backend_name() == "mysql":
        holder = create_engine(database_url).connect()
        holder.execute(text("LOCK TABLES processed_report WRITE"))
        try:
            yield
        finally:
            holder.execute(text("UNLOCK TABLES"))
            holder.close()
        return
    with open(make_url(database_url).database + ".writelock", "a") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(holder, fcntl.LOCK_UN)
