"""Verifying an SNS message's signature as AWS documents it."""

import base64
import binascii
import re
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from config import TOPIC_ARN
from maillist.transports.sns.errors import (CertificateRejected, CertificateUrlRejected, MalformedMessage,
                                            MessageFromFuture, MessageStale, VerificationFailed)
from maillist.transports.sns.urls import check_sns_url, sns_region

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
SIGNED_FIELDS = {
    "Notification": NOTIFICATION_FIELDS,
    "SubscriptionConfirmation": CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": CONFIRMATION_FIELDS,
}
ENVELOPE_FIELDS = ("SignatureVersion", "Signature", "SigningCertURL")
# SNS gives every message a UUID; nothing else can be a MessageId.
MESSAGE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.IGNORECASE)
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
SIGNER_NAME = "sns.amazonaws.com"
# Clocks differ a little; a message from slightly in the future is not an attack.
CLOCK_SKEW = timedelta(minutes=5)


def check_fields(message):
    """Refuse a message whose signed fields could be re-cut: each a string, one line (Message aside).

    The string to sign joins fields with newlines, so a newline inside MessageId could carry a
    dropped Subject and replay a genuine signature under a new id; SNS never sends one.
    """
    for name in SIGNED_FIELDS[message["Type"]] + ENVELOPE_FIELDS:
        value = message.get(name)
        if value is None and name == "Subject":
            continue
        if not isinstance(value, str):
            raise VerificationFailed(f"{name} is not a string")
        if name != "Message" and ("\n" in value or "\r" in value):
            raise VerificationFailed(f"{name} contains a line break")
    if not MESSAGE_ID.fullmatch(message["MessageId"]):
        raise VerificationFailed("MessageId is not an SNS message id")
    if not TOPIC_ARN.fullmatch(message["TopicArn"]):
        raise VerificationFailed("TopicArn is not an SNS topic ARN")


def topic_region(topic_arn):
    """The region a topic ARN names."""
    match = TOPIC_ARN.fullmatch(topic_arn)
    return match.group(1) if match else None


def string_to_sign(message):
    """The documented fields of `message`, in order, each as 'Name\\nvalue\\n'."""
    fields = SIGNED_FIELDS.get(message.get("Type"))
    if fields is None:
        raise MalformedMessage(f"unknown message type {message.get('Type')!r}")
    parts = []
    for name in fields:
        value = message.get(name)
        if value is None:
            if name == "Subject":
                continue  # only Subject is optional
            raise MalformedMessage(f"{name} is missing")
        parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode("utf-8")


def parse_timestamp(value):
    """An SNS Timestamp (ISO 8601, UTC) as an aware datetime."""
    try:
        stamp = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise MalformedMessage(f"Timestamp {value!r} is not an ISO 8601 time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp


def check_age(timestamp, max_age, now=None):
    """Refuse a message older than `max_age` seconds (0: no limit) or from the future."""
    now = now or datetime.now(timezone.utc)
    if timestamp > now + CLOCK_SKEW:
        raise MessageFromFuture("message Timestamp is in the future")
    if max_age and now - timestamp > timedelta(seconds=max_age):
        raise MessageStale("message is older than SNS_MAX_MESSAGE_AGE")


def check_certificate(cert, timestamp):
    """Refuse a certificate that is not SNS's RSA signing certificate valid at `timestamp`."""
    if not isinstance(cert, x509.Certificate):
        raise CertificateRejected("no signing certificate")
    if not cert.not_valid_before_utc <= timestamp <= cert.not_valid_after_utc:
        raise CertificateRejected("certificate was not valid at the message Timestamp")
    names = [attr.value for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if SIGNER_NAME not in names:
        raise CertificateRejected(f"certificate subject is not {SIGNER_NAME}")
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise CertificateRejected("certificate key is not RSA")


def verify_signature(message, cert):
    """Check `message`'s Signature with `cert` for SignatureVersion 1 (SHA1) or 2 (SHA256)."""
    algorithm = HASHES.get(message.get("SignatureVersion"))
    if algorithm is None:
        raise VerificationFailed(f"SignatureVersion {message.get('SignatureVersion')!r} is not supported")
    try:
        signature = base64.b64decode(message.get("Signature") or "", validate=True)
    except (binascii.Error, ValueError):
        raise VerificationFailed("Signature is not base64") from None
    try:
        cert.public_key().verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise VerificationFailed("signature does not match the message") from None


def verify_message(message, get_certificate, max_age, now=None):
    """Verify an SNS message completely: age, certificate and signature. Raises on any failure.

    `get_certificate(url)` returns the certificate at the message's SigningCertURL; it must
    refuse URLs that are not SNS's own (see `maillist.transports.sns.urls`).
    """
    check_fields(message)
    timestamp = parse_timestamp(message.get("Timestamp"))
    check_age(timestamp, max_age, now)
    cert_url = check_sns_url(message.get("SigningCertURL"), "SigningCertURL", path_suffix=".pem")
    if sns_region(cert_url) != topic_region(message["TopicArn"]):
        raise CertificateUrlRejected("SigningCertURL is not in the TopicArn's region")
    cert = get_certificate(cert_url)
    check_certificate(cert, timestamp)
    verify_signature(message, cert)
    return True
