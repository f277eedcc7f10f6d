"""Whatever arrives at the webhook, it answers with a reason and never fails with a 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import helpers

FIELDS = ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
          "Signature", "SigningCertURL", "SubscribeURL", "Token", "UnsubscribeURL"]
TYPES = ["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation", "Other"]
SES_KEYS = ["notificationType", "eventType", "bounce", "complaint", "delivery", "mail", "bounceType",
            "bouncedRecipients", "complainedRecipients", "recipients", "emailAddress", "timestamp"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(SES_KEYS) | st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)
envelopes = st.fixed_dictionaries(
    {"Type": st.sampled_from(TYPES) | json_values},
    optional={name: st.text(max_size=60) | json_values for name in FIELDS if name != "Type"},
)


@pytest.fixture
def app_overrides(webhook_settings):
    return dict(webhook_settings, SNS_MAX_MESSAGE_AGE=0)


@FUZZ
@given(raw=st.binary(max_size=2000))
def test_random_bytes(client, raw):
    response = client.post("/webhooks/sns", data=raw, headers=helpers.SNS_HEADERS)
    assert response.status_code == 400
    assert response.get_json()["detail"]


@FUZZ
@given(envelope=envelopes)
def test_random_envelopes(client, aws, envelope):
    response = client.post("/webhooks/sns", data=json.dumps(envelope), headers=helpers.SNS_HEADERS)
    assert response.status_code in (400, 403, 502), response.get_json()
    assert response.get_json()["outcome"] == "refused"


@FUZZ
@given(payload=st.text(min_size=1, max_size=300) | json_values.map(json.dumps) | st.dictionaries(st.sampled_from(SES_KEYS), json_values, max_size=6).map(json.dumps))
def test_signed_messages_with_random_ses_content(client, aws, payload):
    response = helpers.post_sns(client, helpers.sns_notification(payload))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcome"] in ("applied", "ignored", "malformed")
