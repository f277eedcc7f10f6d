"""Reading an SNS HTTP(S) message body into a checked dictionary."""

import json

from maillist.transports.sns.errors import MalformedMessage, RawDeliveryOn

REQUIRED = {
    "Notification": ("Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"),
    "SubscriptionConfirmation": ("Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"),
    "UnsubscribeConfirmation": ("Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"),
}
MAX_ID_LENGTH = 128
# The SNS message envelope is flat: a body nested deeper than this is not one.
MAX_DEPTH = 8


def parse_envelope(body, header_type=None):
    """The SNS message in `body` (bytes, whatever the Content-Type said); raises MalformedMessage."""
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise MalformedMessage("body is not JSON") from None
    except RecursionError:
        raise MalformedMessage("body is nested too deeply") from None
    if not isinstance(message, dict):
        raise MalformedMessage("body is not a JSON object")
    kind = message.get("Type")
    if kind is None and is_bare_ses_event(message):
        raise RawDeliveryOn("this is a bare SES event, not an SNS message: raw message delivery is on for this "
                            "subscription; turn it off (flask sns setup does) so SNS sends its signed envelope")
    if not isinstance(kind, str) or kind not in REQUIRED:
        raise MalformedMessage(f"Type {kind!r} is not an SNS message type")
    if header_type and header_type != kind:
        raise MalformedMessage(f"x-amz-sns-message-type {header_type!r} does not match Type {kind!r}")
    for name in REQUIRED[kind]:
        if not isinstance(message.get(name), str) or not message[name]:
            raise MalformedMessage(f"{name} is missing or not a string")
    if "Subject" in message and message["Subject"] is not None and not isinstance(message["Subject"], str):
        raise MalformedMessage("Subject is not a string")
    if len(message["MessageId"]) > MAX_ID_LENGTH or len(message["TopicArn"]) > 255:
        raise MalformedMessage("MessageId or TopicArn is too long")
    check_text(message)
    return message


def is_bare_ses_event(message):
    """Whether a body is an SES notification or event record itself, as raw message delivery sends it."""
    return isinstance(message.get("mail"), dict) and ("notificationType" in message or "eventType" in message)


def check_text(value, depth=0):
    """Refuse deep nesting and strings that are not valid Unicode (a lone surrogate cannot be UTF-8)."""
    if depth > MAX_DEPTH:
        raise MalformedMessage("body is nested too deeply")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedMessage("body holds text that is not valid Unicode") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, depth + 1)
            check_text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_text(item, depth + 1)
