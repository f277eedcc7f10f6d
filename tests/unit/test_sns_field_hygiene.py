"""Fields are checked before any signature work: a genuine signature cannot be re-cut into a new message."""

import json

import pytest

from maillist.transports.sns.envelope import parse_envelope
from maillist.transports.sns.errors import MalformedMessage, VerificationFailed
from maillist.transports.sns.urls import check_sns_url
from maillist.transports.sns.verify import check_fields, string_to_sign, verify_message
from tests import helpers
from tests.helpers import SNS_VECTOR_FILES, load_vector, need, vector_certificate

WITH_SUBJECT = [path for path in SNS_VECTOR_FILES if "Subject" in json.loads(path.read_text())]


def moved_subject(message):
    """The replay a newline in MessageId would allow: Subject dropped and carried inside MessageId."""
    forged = dict(message, MessageId=f"{message['MessageId']}\nSubject\n{message['Subject']}")
    del forged["Subject"]
    return forged


def test_some_vectors_carry_a_subject():
    need(SNS_VECTOR_FILES, "../shared/sns-vectors is absent")
    assert len(WITH_SUBJECT) >= 3


@pytest.mark.parametrize("path", WITH_SUBJECT, ids=lambda p: p.stem)
def test_subject_moved_into_message_id_is_refused(path):
    message = load_vector(path)
    forged = moved_subject(message)
    # The attack works on the signature alone: the string to sign is byte for byte the same.
    assert string_to_sign(forged) == string_to_sign(message)
    with pytest.raises(VerificationFailed, match="line break"):
        verify_message(forged, vector_certificate, max_age=0)


@pytest.mark.parametrize("field", ["TopicArn", "Timestamp", "SigningCertURL", "SignatureVersion", "Subject", "Type"])
def test_line_breaks_in_signed_fields_are_refused(field):
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"]), subject="Hi")
    message[field] = message[field] + "\r\nx" if field != "Type" else message[field]
    if field == "Type":
        message["Message"] += "\nline breaks in Message are fine"
        check_fields(message)
        return
    with pytest.raises(VerificationFailed):
        check_fields(message)


@pytest.mark.parametrize("message_id", ["m-1", "", "0" * 36, "a890c547-5d98-55e2-971d-8826fff56413x",
                                        "a890c547-5d98-55e2-971d-8826fff5641", "a890c547 5d98 55e2 971d 8826fff56413"])
def test_message_id_must_have_the_shape_sns_gives_it(message_id):
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"]), message_id=message_id or "x")
    message["MessageId"] = message_id
    with pytest.raises(VerificationFailed, match="MessageId"):
        check_fields(message)


def test_uppercase_uuid_is_a_message_id():
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"]))
    message["MessageId"] = message["MessageId"].upper()
    check_fields(message)


@pytest.mark.parametrize("field, value", [("MessageId", 7), ("Subject", ["x"]), ("TopicArn", {"a": 1}), ("Signature", None)])
def test_signed_fields_must_be_strings(field, value):
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"]), subject="s")
    message[field] = value
    with pytest.raises(VerificationFailed):
        check_fields(message)


def test_topic_from_another_region_than_the_certificate_is_refused():
    topic = helpers.TOPIC_ARN.replace(helpers.REGION, "us-east-1")
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"]), topic=topic)
    with pytest.raises(VerificationFailed, match="region"):
        verify_message(message, lambda url: helpers.signing_pair()[1], max_age=0)


@pytest.mark.parametrize("host", ["sns.s3.amazonaws.com", "sns.localhost.amazonaws.com", "sns.evil.amazonaws.com",
                                  "sns.us-east-1.amazonaws.com.cn", "sns.cn-north-1.amazonaws.com", "sns.eu-west-1a.amazonaws.com",
                                  "sns.eu.amazonaws.com", "sns.x-1.amazonaws.com", "sns..amazonaws.com"])
def test_certificate_hosts_must_name_a_region(host):
    with pytest.raises(VerificationFailed):
        check_sns_url(f"https://{host}/SimpleNotificationService-abc.pem", "SigningCertURL", path_suffix=".pem")


@pytest.mark.parametrize("host", ["sns.us-gov-west-1.amazonaws.com", "sns.cn-northwest-1.amazonaws.com.cn", "sns.ap-southeast-4.amazonaws.com"])
def test_real_region_hosts_are_accepted(host):
    url = f"https://{host}/SimpleNotificationService-abc.pem"
    assert check_sns_url(url, "SigningCertURL", path_suffix=".pem") == url


def test_deep_nesting_and_lone_surrogates_are_malformed_not_crashes():
    deep = b'{"Type": "Notification", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    with pytest.raises(MalformedMessage):
        parse_envelope(deep)
    message = helpers.sns_notification(helpers.ses_identity("Bounce", ["a@example.org"]))
    body = json.dumps(message).replace(message["MessageId"], "\\ud800")
    with pytest.raises(MalformedMessage, match="Unicode"):
        parse_envelope(body.encode())
    nested = dict(message, Extra={"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}})
    with pytest.raises(MalformedMessage, match="nested"):
        parse_envelope(json.dumps(nested).encode())
