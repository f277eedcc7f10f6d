"""Reading an SNS HTTP(S) message body into a checked dictionary."""

import json

from maillist.sns.errors import MalformedMessage

REQUIRED = {
    "Notification": ("Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"),
    "SubscriptionConfirmation": ("Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"),
    "UnsubscribeConfirmation": ("Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"),
}
MAX_ID_LENGTH = 128


def parse_envelope(body, header_type=None):
    """The SNS message in `body` (bytes, whatever the Content-Type said); raises MalformedMessage."""
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise MalformedMessage("body is not JSON") from None
    if not isinstance(message, dict):
        raise MalformedMessage("body is not a JSON object")
    kind = message.get("Type")
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
    return message
