"""SNS signature verification: AWS's own signed messages, test-signed ones, and tampered copies."""

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509

from maillist.transports.sns.errors import MalformedMessage, VerificationFailed
from maillist.transports.sns.urls import check_sns_url
from maillist.transports.sns.verify import parse_timestamp, string_to_sign, verify_message
from tests import helpers
from tests.helpers import LOOKALIKE_CERT_URLS, SNS_VECTOR_FILES, SNS_VECTORS, load_vector, need, vector_certificate

SIGNED_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "SubscribeURL", "Token")


def test_all_nineteen_vectors_are_present():
    need(SNS_VECTORS.is_dir(), "../shared/sns-vectors is absent")
    assert len(SNS_VECTOR_FILES) == 19


@pytest.mark.parametrize("path", SNS_VECTOR_FILES, ids=lambda p: p.stem)
def test_genuine_aws_messages_verify(path):
    message = load_vector(path)
    # The vectors are years old and their certificates expired since: age check off, as their README says.
    assert verify_message(message, vector_certificate, max_age=0) is True


def tampered_copies(message):
    """Copies of `message` with one signed field changed each."""
    for field in SIGNED_FIELDS:
        if field not in message:
            continue
        copy = dict(message)
        value = copy[field]
        if field == "Timestamp":
            copy[field] = helpers.sns_timestamp(parse_timestamp(value) + timedelta(seconds=1))
        elif field == "SubscribeURL":
            copy[field] = value + "&x=1"
        else:
            copy[field] = value + "x" if value else "x"
        yield field, copy
    if "Subject" not in message:
        yield "Subject(added)", dict(message, Subject="added")
    else:
        copy = dict(message)
        del copy["Subject"]
        yield "Subject(removed)", copy
    yield "SignatureVersion", dict(message, SignatureVersion="2" if message["SignatureVersion"] == "1" else "1")
    signature = bytearray(base64.b64decode(message["Signature"]))
    signature[10] ^= 0x01
    yield "Signature", dict(message, Signature=base64.b64encode(bytes(signature)).decode())


@pytest.mark.parametrize("path", SNS_VECTOR_FILES, ids=lambda p: p.stem)
def test_tampered_genuine_messages_are_refused(path):
    message = load_vector(path)
    for field, copy in tampered_copies(message):
        if copy["Type"] != "Notification" and field.startswith("Subject"):
            continue  # Subject is not signed for confirmations
        with pytest.raises(VerificationFailed):
            verify_message(copy, vector_certificate, max_age=0)
            pytest.fail(f"tampered {field} was accepted")


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("build", ["notification", "notification_with_subject", "subscription", "unsubscribe"])
def test_test_signed_messages_verify_and_tampering_fails(version, build):
    message = {
        "notification": lambda: helpers.sns_notification({"hello": "world"}, version=version),
        "notification_with_subject": lambda: helpers.sns_notification("Hello world!", subject="Hi", version=version),
        "subscription": lambda: helpers.sns_confirmation(version=version),
        "unsubscribe": lambda: helpers.sns_confirmation("UnsubscribeConfirmation", version=version),
    }[build]()
    certificate = lambda url: helpers.signing_pair()[1]  # noqa: E731
    assert verify_message(message, certificate, max_age=3600)
    for field, copy in tampered_copies(message):
        if message["Type"] != "Notification" and field.startswith("Subject"):
            continue
        with pytest.raises(VerificationFailed):
            verify_message(copy, certificate, max_age=3600)


def test_unknown_signature_version_is_refused():
    message = dict(helpers.sns_notification("x"), SignatureVersion="3")
    with pytest.raises(VerificationFailed, match="SignatureVersion"):
        verify_message(message, lambda url: helpers.signing_pair()[1], max_age=0)


def test_string_to_sign_follows_documented_order():
    message = {"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Subject": "s", "Message": "hi", "Timestamp": "ts", "Extra": "no"}
    assert string_to_sign(message) == b"Message\nhi\nMessageId\nm\nSubject\ns\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n"
    with pytest.raises(MalformedMessage):
        string_to_sign(dict(message, Type="Other"))


def test_stale_and_future_messages_are_refused():
    pair = lambda url: helpers.signing_pair()[1]  # noqa: E731
    from datetime import datetime, timezone

    old = helpers.sns_notification("x", when=datetime.now(timezone.utc) - timedelta(hours=2))
    with pytest.raises(VerificationFailed, match="older"):
        verify_message(old, pair, max_age=3600)
    assert verify_message(old, pair, max_age=0)
    future = helpers.sns_notification("x", when=datetime.now(timezone.utc) + timedelta(hours=1))
    with pytest.raises(VerificationFailed, match="future"):
        verify_message(future, pair, max_age=0)


def test_certificate_must_be_valid_at_timestamp_and_named_for_sns():
    expired_key, expired = helpers.signing_pair(days_valid=10, starts_days_ago=30, label="expired")
    message = helpers.sns_notification("x", key=expired_key)
    with pytest.raises(VerificationFailed, match="not valid at"):
        verify_message(message, lambda url: expired, max_age=0)
    other_key, other = helpers.signing_pair(common_name="evil.example", label="evil")
    message = helpers.sns_notification("x", key=other_key)
    with pytest.raises(VerificationFailed, match="subject"):
        verify_message(message, lambda url: other, max_age=0)


def test_signature_from_another_key_is_refused():
    other_key, _ = helpers.signing_pair(label="other")
    message = helpers.sns_notification("x", key=other_key)
    with pytest.raises(VerificationFailed, match="does not match"):
        verify_message(message, lambda url: helpers.signing_pair()[1], max_age=0)


GOOD_URLS = [
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
    "https://SNS.eu-west-1.amazonaws.com:443/SimpleNotificationService-abc.pem",
]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_sns_certificate_urls_are_accepted(url):
    assert check_sns_url(url, "SigningCertURL", path_suffix=".pem") == url


@pytest.mark.parametrize("url", LOOKALIKE_CERT_URLS)
def test_lookalike_certificate_urls_are_refused(url):
    with pytest.raises(VerificationFailed):
        check_sns_url(url, "SigningCertURL", path_suffix=".pem")
