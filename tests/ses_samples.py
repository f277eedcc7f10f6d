"""SES event payloads in the shapes of AWS's documented examples (../shared/aws-samples/).

`identity(...)` builds identity notifications (`notificationType`), `event(...)` builds
configuration-set event publishing records (`eventType`); both carry the same objects.
"""

from datetime import datetime, timezone

from tests.sns_helpers import timestamp

SOURCE = "club@lists.example.org"


def mail(recipients):
    """The `mail` object SES attaches to every notification."""
    return {
        "timestamp": timestamp(),
        "source": SOURCE,
        "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/lists.example.org",
        "sendingAccountId": "123456789012",
        "messageId": "0000014a-f4d4-4f89-93ca-0a8b2c1e9d3e-000000",
        "destination": list(recipients),
        "headersTruncated": False,
        "headers": [{"name": "From", "value": SOURCE}, {"name": "To", "value": ", ".join(recipients)}],
        "commonHeaders": {"from": [SOURCE], "to": list(recipients), "subject": "Club news"},
    }


def bounce_object(recipients, bounce_type="Permanent", subtype="General", when=None, status=None):
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
        "timestamp": timestamp(when),
        "feedbackId": "0000013786031775-163e3910-53eb-4c8e-a04a-f29debf88a84-000000",
        "reportingMTA": "dns; a8-70.smtp-out.amazonses.com",
    }


def complaint_object(recipients, when=None):
    """A `complaint` object with a feedback report."""
    return {
        "userAgent": "ExampleCorp Feedback Loop (V0.01)",
        "complainedRecipients": [{"emailAddress": address} for address in recipients],
        "complaintFeedbackType": "abuse",
        "arrivalDate": timestamp(when),
        "timestamp": timestamp(when),
        "feedbackId": "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000",
    }


def delivery_object(recipients, when=None):
    """A `delivery` object."""
    return {
        "timestamp": timestamp(when),
        "processingTimeMillis": 546,
        "recipients": list(recipients),
        "smtpResponse": "250 ok:  Message 64111812 accepted",
        "reportingMTA": "a8-70.smtp-out.amazonses.com",
        "remoteMtaIp": "127.0.2.0",
    }


OBJECTS = {"Bounce": ("bounce", bounce_object), "Complaint": ("complaint", complaint_object), "Delivery": ("delivery", delivery_object)}


def identity(kind, recipients, **options):
    """An identity notification: {"notificationType": kind, <object>, "mail"}."""
    key, build = OBJECTS[kind]
    return {"notificationType": kind, key: build(recipients, **options), "mail": mail(recipients)}


def event(kind, recipients, **options):
    """A configuration-set event publishing record: {"eventType": kind, <object>, "mail"}."""
    key, build = OBJECTS[kind]
    return {"eventType": kind, key: build(recipients, **options), "mail": mail(recipients)}


def at(year, month, day, hour=12):
    """A UTC time for event timestamps."""
    return datetime(year, month, day, hour, tzinfo=timezone.utc)
