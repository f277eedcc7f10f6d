"""Real SNS messages for tests: a test CA, an SNS-like signing certificate, RSA signatures.

The messages follow AWS's documented envelope (../shared/aws-samples/sns-envelope-*.json) and
are signed over the documented string to sign with SHA1withRSA (v1) or SHA256withRSA (v2).
"""

import base64
import json
import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from maillist.sns.verify import string_to_sign

REGION = "eu-west-1"
CERT_URL = f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
TOPIC_ARN = f"arn:aws:sns:{REGION}:123456789012:ses-bounces"
SUBSCRIBE_URL = f"https://sns.{REGION}.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC_ARN}&Token=2336412f37"
UNSUBSCRIBE_URL = f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC_ARN}:c9135db0"
HEADERS = {"Content-Type": "text/plain; charset=UTF-8", "User-Agent": "Amazon Simple Notification Service Agent"}


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


def timestamp(when=None):
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


def notification(payload, subject=None, version="1", message_id=None, when=None, topic=TOPIC_ARN, **sign_options):
    """A signed Notification whose Message is `payload` (a dict is JSON-encoded, as SES does)."""
    message = {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": payload if isinstance(payload, str) else json.dumps(payload),
        "Timestamp": timestamp(when),
        "UnsubscribeURL": UNSUBSCRIBE_URL,
    }
    if subject is not None:
        message["Subject"] = subject
    return sign(message, version, **sign_options)


def confirmation(kind="SubscriptionConfirmation", subscribe_url=SUBSCRIBE_URL, version="1", when=None, **sign_options):
    """A signed SubscriptionConfirmation or UnsubscribeConfirmation."""
    message = {
        "Type": kind,
        "MessageId": str(uuid.uuid4()),
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
        "TopicArn": TOPIC_ARN,
        "Message": f"You have chosen to subscribe to the topic {TOPIC_ARN}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": subscribe_url,
        "Timestamp": timestamp(when),
    }
    return sign(message, version, **sign_options)


def body(message):
    """The HTTP body SNS would send."""
    return json.dumps(message)


def post(client, message, **headers):
    """POST a message to the webhook the way SNS does (text/plain, type header)."""
    sent = dict(HEADERS, **{"x-amz-sns-message-type": message.get("Type", "Notification")})
    sent.update(headers)
    return client.post("/webhooks/sns", data=body(message), headers=sent)
