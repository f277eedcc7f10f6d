"""GET /metrics: not public (token or allowed addresses, 404 when neither is set), counts from the database."""

import pytest

from tests import helpers

WEBHOOK = {"ENABLE_SNS_WEBHOOKS": True, "ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}
TOKEN = "a-long-scrape-token"


@pytest.fixture
def app_overrides():
    return dict(WEBHOOK, METRICS_TOKEN=TOKEN, METRICS_ALLOW_FROM="")


def scrape(client, token=TOKEN, address="203.0.113.9"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, METRICS_TOKEN="", METRICS_ALLOW_FROM="")])
def test_without_a_token_or_addresses_there_is_no_metrics_page(client, app_overrides):
    assert scrape(client, token=None, address="127.0.0.1").status_code == 404


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x", TOKEN[:-1], ""])
def test_a_wrong_or_missing_token_is_refused(client, token):
    assert scrape(client, token=token).status_code == 403


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, METRICS_TOKEN="", METRICS_ALLOW_FROM="10.0.0.0/8, 2001:db8::1")])
@pytest.mark.parametrize("address, status", [("10.1.2.3", 200), ("2001:db8::1", 200), ("11.0.0.1", 403), ("2001:db8::2", 403)])
def test_allowed_addresses_read_without_a_token(client, app_overrides, address, status):
    assert scrape(client, token=None, address=address).status_code == status


def test_counts_by_outcome_and_refusal_reason_bounces_members_and_latency(client, aws):
    helpers.make_member("ann@example.org")
    helpers.make_member("bob@example.org")
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["ann@example.org"])))
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Bounce", ["bob@example.org"], bounce_type="Transient")))
    helpers.post_sns(client, helpers.sns_notification(helpers.ses_identity("Complaint", ["bob@example.org"])))
    forged = helpers.sns_notification(helpers.ses_identity("Bounce", ["bob@example.org"]))
    forged["Message"] = forged["Message"].replace("Permanent", "Transient")
    helpers.post_sns(client, forged)
    text = scrape(client).get_data(as_text=True)
    assert 'maillist_intake_messages_total{outcome="applied",source="sns"} 3.0' in text
    assert 'maillist_intake_refusals_total{reason="signature",source="sns"} 1.0' in text
    assert 'maillist_bounces_total{reason="no-such-user",type="Permanent"} 1.0' in text
    assert 'maillist_complaints_total{feedback_type="abuse"} 1.0' in text
    assert 'maillist_members{active="false",bounce_status="hard"} 1.0' in text
    assert "maillist_members_deactivated 2.0" in text
    assert "maillist_webhook_seconds_count" in text


@pytest.mark.parametrize("value", ["10.0.0.0/33", "not-an-address", "10.0.0.1, nope"])
def test_a_bad_allow_list_stops_start_up(value):
    from config import Config, ConfigError

    with pytest.raises(ConfigError, match="METRICS_ALLOW_FROM"):
        Config({"METRICS_ALLOW_FROM": value})


@pytest.mark.parametrize("app_overrides", [dict(WEBHOOK, METRICS_TOKEN="", METRICS_ALLOW_FROM="10.0.0.0/8", PROXY_FIX_HOPS=1)])
@pytest.mark.parametrize("peer, forwarded_for, status", [
    ("172.20.0.5", "10.1.2.3", 403),   # another container writing the allowed address into X-Forwarded-For
    ("10.9.9.9", "203.0.113.9", 200),  # the allowed scraper, whatever the header says
    ("10.9.9.9", None, 200),
    ("172.20.0.5", None, 403),
])
def test_the_allow_list_checks_the_peer_not_a_forwarded_header(client, app_overrides, peer, forwarded_for, status):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    assert client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": peer}).status_code == status
