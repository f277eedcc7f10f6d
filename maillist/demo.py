"""`flask demo load`: sample lists and members, and sample SES notifications run through the real pipeline.

A newcomer without AWS sees badges, histories, the Bounces tab and the status page at once. The
notifications have the shapes AWS documents (identity notifications and event publishing
records) and go through exactly what a webhook message goes through, except the signature check:
there is no AWS key to sign them with, and the command says so. It refuses a database that
already has members.
"""

import json
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.lists.services import add_list
from maillist.members.services import add_member
from maillist.models import Member
from maillist.models.types import utcnow
from maillist.transports.sns.messages import handle_message

DEMO_TOPIC = "arn:aws:sns:eu-west-1:123456789012:maillist-demo"
SENDER = "news@club.example.org"
FIRST = ["Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena", "Milo", "Nia", "Otto",
         "Pia", "Quin", "Rosa", "Sam", "Tess", "Uma", "Vic", "Wes", "Xia", "Yann", "Zoe"]
LAST = ["Archer", "Baker", "Cooper", "Dyer", "Fisher", "Gardner", "Hunter", "Mason", "Porter", "Walsh"]
LISTS = [("club@club.example.org", "Club news", "chair@club.example.org"),
         ("choir@club.example.org", "Choir", "choir-lead@club.example.org"),
         ("committee@club.example.org", "Committee", "chair@club.example.org")]


class DemoRefused(Exception):
    """The database already holds members: the demo would mix with real data."""


def mail(recipients, when):
    return {"timestamp": stamp(when), "source": SENDER, "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/club.example.org",
            "sendingAccountId": "123456789012", "messageId": f"demo-{uuid.uuid4()}", "destination": recipients,
            "headersTruncated": False, "commonHeaders": {"from": [SENDER], "to": recipients, "subject": "Club news"}}


def stamp(when):
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def bounce(email, when, bounce_type, subtype, status, diagnostic):
    return {"notificationType": "Bounce", "mail": mail([email], when), "bounce": {
        "bounceType": bounce_type, "bounceSubType": subtype, "timestamp": stamp(when), "feedbackId": f"demo-{uuid.uuid4()}",
        "reportingMTA": "dns; a8-70.smtp-out.amazonses.com",
        "bouncedRecipients": [{"emailAddress": email, "action": "failed", "status": status, "diagnosticCode": diagnostic}]}}


def complaint(email, when):
    return {"notificationType": "Complaint", "mail": mail([email], when), "complaint": {
        "complainedRecipients": [{"emailAddress": email}], "timestamp": stamp(when), "feedbackId": f"demo-{uuid.uuid4()}",
        "complaintFeedbackType": "abuse", "userAgent": "Demo Mail/1.0"}}


def delivery(recipients, when):
    return {"eventType": "Delivery", "mail": mail(recipients, when), "delivery": {
        "timestamp": stamp(when), "processingTimeMillis": 420, "recipients": recipients,
        "smtpResponse": "250 ok", "reportingMTA": "a8-70.smtp-out.amazonses.com"}}


def envelope(payload):
    """An SNS Notification carrying `payload`, unsigned (see the module's docstring)."""
    return {"Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": DEMO_TOPIC, "Subject": "Amazon SES Email Event",
            "Message": json.dumps(payload), "Timestamp": stamp(utcnow()), "SignatureVersion": "1", "Signature": "unsigned-demo",
            "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-demo.pem"}


def notifications(emails):
    """The sample story: deliveries every day, dead addresses, a blocklist, a full mailbox, complaints."""
    now = utcnow()
    day = lambda n, hour=10: now - timedelta(days=n, hours=-hour + now.hour)  # noqa: E731
    story = [delivery(emails[i:i + 10], day(n)) for n in range(10) for i in range(0, len(emails), 10)]
    story += [
        bounce(emails[0], day(6), "Permanent", "General", "5.1.1", "smtp; 550 5.1.1 <%s>: user unknown" % emails[0]),
        bounce(emails[1], day(4), "Permanent", "NoEmail", "5.1.1", "smtp; 550 5.1.1 no such mailbox"),
        bounce(emails[2], day(2), "Permanent", "OnAccountSuppressionList", "5.1.1", "Amazon SES has suppressed sending to this address"),
        bounce(emails[3], day(3), "Permanent", "General", "5.7.1",
               "smtp; 550 5.7.1 Service unavailable, client host [54.240.1.1] blocked using a blocklist"),
        complaint(emails[4], day(5)),
        complaint(emails[5], day(1)),
    ]
    story += [bounce(emails[6], day(n, 14), "Transient", "MailboxFull", "4.2.2", "smtp; 452 4.2.2 mailbox full") for n in (5, 3, 1)]
    story += [bounce(emails[7], day(2, 16), "Transient", "General", "4.4.7", "smtp; 421 4.4.7 delivery time expired")]
    return story


def notification_count():
    """How many sample notifications `load` runs (one per member's address would do for counting)."""
    return len(notifications([f"m{i}@example.net" for i in range(len(FIRST))]))


def load(on_notification=lambda: None):
    """Fill an empty database with the demo; returns (lists, members, notifications applied). Raises DemoRefused.
    `on_notification()` is called after each sample notification (the command's progress bar)."""
    if db.session.scalar(select(func.count()).select_from(Member)):
        raise DemoRefused("the database already has members: the demo only loads into an empty one")
    lists = [add_list(address, name, owners=owner) for address, name, owner in LISTS]
    emails = []
    for i, first in enumerate(FIRST):
        last = LAST[i % len(LAST)]
        email = f"{first.lower()}.{last.lower()}@example.net"
        add_member(email, f"{first} {last}", [lists[0].address] + ([lists[1].address] if i % 3 == 0 else [])
                   + ([lists[2].address] if i % 7 == 0 else []))
        emails.append(email)
    config = current_app.config
    saved = config["SNS_TOPIC_ARNS"], config["ENABLE_BOUNCE_HANDLING"]
    config["SNS_TOPIC_ARNS"], config["ENABLE_BOUNCE_HANDLING"] = [DEMO_TOPIC], True
    try:
        applied = 0
        for payload in notifications(emails):
            applied += handle_message(envelope(payload), verify=False).outcome == "applied"
            on_notification()
    finally:
        config["SNS_TOPIC_ARNS"], config["ENABLE_BOUNCE_HANDLING"] = saved
    return len(lists), len(emails), applied
