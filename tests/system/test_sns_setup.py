"""`flask sns setup`: wiring SES, SNS and SQS against moto over HTTP, idempotently, with --check and --dry-run.

moto (5.2) has no SetIdentityHeadersInNotificationsEnabled, and its GetIdentityNotificationAttributes
leaves out the topics it stored. The `ses_gaps` fixture fills exactly those two in on the SES client
the command builds (botocore's before-call / after-call hooks: the call never reaches moto, the
answer is what SES documents), reading the topics from moto's own store; everything else is moto's.
"""

import json

import pytest
from botocore.awsrequest import AWSResponse

from maillist import aws as aws_clients
from maillist.transports.sns import setup as wiring
from tests import helpers

ENDPOINT = "https://lists.example.org/webhooks/sns"
IDENTITY = "lists.example.org"
ARGS = ["sns", "setup", "--topic", "ses-bounces", "--endpoint", ENDPOINT, "--identity", IDENTITY, "--queue", "maillist-intake"]
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"
# The command touches AWS only, not the database: one backend is enough.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def ses_gaps(aws_account, monkeypatch):
    """Fill in the two SES calls moto lacks (see the module's docstring); yields the header flags set."""
    from moto.ses.models import ses_backends

    headers = {}
    made = aws_clients.client

    def client(service):
        built = made(service)
        if service == "ses":
            built.meta.events.register("before-parameter-build.ses.SetIdentityHeadersInNotificationsEnabled", record)
            built.meta.events.register("before-call.ses.SetIdentityHeadersInNotificationsEnabled", answer)
            built.meta.events.register("after-call.ses.GetIdentityNotificationAttributes", fill_in)
        return built

    def record(params, **_):
        headers[(params["Identity"], params["NotificationType"])] = params["Enabled"]

    def answer(**_):
        return AWSResponse("https://email.eu-west-1.amazonaws.com/", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def fill_in(parsed, **_):
        stored = ses_backends["123456789012"][helpers.REGION].sns_topics
        for identity, attributes in parsed.get("NotificationAttributes", {}).items():
            for kind in wiring.EVENT_TYPES:
                if stored.get(identity, {}).get(kind):
                    attributes[f"{kind}Topic"] = stored[identity][kind]
                attributes[f"HeadersIn{kind}NotificationsEnabled"] = headers.get((identity, kind), False)

    monkeypatch.setattr(wiring, "client", client)
    aws_account("ses").verify_domain_identity(Domain=IDENTITY)
    yield headers


def flask(runner, *args):
    return runner.invoke(args=list(args))


def test_setup_from_nothing_builds_every_piece(runner, aws_account, ses_gaps):
    result = flask(runner, *ARGS)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"SNS_TOPIC_ARNS={TOPIC}\n")
    assert result.output.strip().endswith("SQS_QUEUE_URL=" + aws_account("sqs").get_queue_url(QueueName="maillist-intake")["QueueUrl"])
    sns, sqs, ses = aws_account("sns"), aws_account("sqs"), aws_account("ses")
    subscriptions = {s["Protocol"]: s for s in sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]}
    assert set(subscriptions) == {"https", "sqs"} and subscriptions["https"]["Endpoint"] == ENDPOINT
    webhook = sns.get_subscription_attributes(SubscriptionArn=subscriptions["https"]["SubscriptionArn"])["Attributes"]
    assert webhook["RawMessageDelivery"] == "false"
    assert json.loads(webhook["DeliveryPolicy"]) == wiring.DELIVERY_POLICY
    dead_letters = json.loads(webhook["RedrivePolicy"])["deadLetterTargetArn"]
    assert dead_letters.endswith(":ses-bounces-webhook-dlq")
    retry = wiring.DELIVERY_POLICY["healthyRetryPolicy"]
    assert retry["numMinDelayRetries"] * retry["minDelayTarget"] + retry["numMaxDelayRetries"] * retry["maxDelayTarget"] == 3600
    queue_url = sqs.get_queue_url(QueueName="maillist-intake")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert json.loads(queue["RedrivePolicy"]) == {"deadLetterTargetArn": queue["QueueArn"] + "-dead", "maxReceiveCount": 10}
    assert queue["MessageRetentionPeriod"] == "1209600"
    assert json.loads(queue["Policy"])["Statement"][0]["Condition"] == {"ArnEquals": {"aws:SourceArn": TOPIC}}
    assert subscriptions["sqs"]["Endpoint"] == queue["QueueArn"]
    notifications = ses.get_identity_notification_attributes(Identities=[IDENTITY])
    assert notifications is not None
    assert ses_gaps == {(IDENTITY, kind): True for kind in wiring.EVENT_TYPES}


def test_setup_again_changes_nothing_and_check_finds_no_gap(runner, aws_account, ses_gaps):
    assert flask(runner, *ARGS).exit_code == 0
    again = flask(runner, *ARGS, "--dry-run")
    assert again.exit_code == 0 and "would call" not in again.output, again.output
    assert flask(runner, *ARGS).exit_code == 0
    sns = aws_account("sns")
    assert len(sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]) == 2
    assert len(sns.list_topics()["Topics"]) == 1
    check = flask(runner, *ARGS, "--check")
    assert check.exit_code == 0, check.output
    assert "GAP" not in check.output and check.output.count("[ok ]") == 11


def test_check_before_setup_reports_the_missing_topic(runner, aws_account, ses_gaps):
    check = flask(runner, *ARGS, "--check")
    assert check.exit_code == 1
    assert "[GAP] topic: no topic ses-bounces" in check.output and "flask sns setup" in check.output
    assert aws_account("sns").list_topics()["Topics"] == []


def test_dry_run_from_nothing_prints_the_calls_and_changes_nothing(runner, aws_account, ses_gaps):
    result = flask(runner, *ARGS, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would call sns.create_topic(Name='ses-bounces')" in result.output
    assert "would call sns.subscribe(" in result.output and "would call ses.set_identity_notification_topic(" in result.output
    assert "dry run: nothing was changed" in result.output
    assert aws_account("sns").list_topics()["Topics"] == []
    assert aws_account("sqs").list_queues().get("QueueUrls", []) == []


def test_check_names_each_gap_and_what_to_do(runner, aws_account, ses_gaps):
    assert flask(runner, *ARGS).exit_code == 0
    sns, sqs, ses = aws_account("sns"), aws_account("sqs"), aws_account("ses")
    webhook = next(s for s in sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"] if s["Protocol"] == "https")
    sns.set_subscription_attributes(SubscriptionArn=webhook["SubscriptionArn"], AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.set_subscription_attributes(SubscriptionArn=webhook["SubscriptionArn"], AttributeName="DeliveryPolicy",
                                    AttributeValue=json.dumps({"healthyRetryPolicy": {"numRetries": 3}}))
    dead = sqs.get_queue_url(QueueName="ses-bounces-webhook-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dead, MessageBody="{}")
    ses.set_identity_notification_topic(Identity=IDENTITY, NotificationType="Complaint",
                                        SnsTopic="arn:aws:sns:eu-west-1:123456789012:other")
    check = flask(runner, *ARGS, "--check")
    assert check.exit_code == 1
    assert "[GAP] raw message delivery: on" in check.output and "turn it off" in check.output
    assert "[GAP] retry policy: not maillist's" in check.output
    assert "[GAP] dead-letter queue: ses-bounces-webhook-dlq, 1 message(s) waiting" in check.output
    assert "flask sns poll" in check.output
    assert f"[GAP] SES {IDENTITY} Complaint notifications: to arn:aws:sns:eu-west-1:123456789012:other" in check.output
    # setup puts it right again (the message in the dead-letter queue stays for `flask sns poll`)
    assert flask(runner, *ARGS).exit_code == 0
    after = flask(runner, *ARGS, "--check").output
    assert after.count("[GAP]") == 1 and "[GAP] dead-letter queue" in after


def test_a_configuration_set_gets_an_event_destination(runner, aws_account, ses_gaps):
    args = ["sns", "setup", "--topic", "ses-bounces", "--endpoint", ENDPOINT, "--configuration-set", "club"]
    assert flask(runner, *args).exit_code == 0
    found = aws_account("ses").describe_configuration_set(ConfigurationSetName="club",
                                                          ConfigurationSetAttributeNames=["eventDestinations"])
    destination = found["EventDestinations"][0]
    assert destination["SNSDestination"]["TopicARN"] == TOPIC
    assert sorted(destination["MatchingEventTypes"]) == ["bounce", "complaint", "delivery"]
    again = flask(runner, *args, "--dry-run")
    assert "would call" not in again.output
    assert flask(runner, *args, "--check").exit_code == 0


def test_without_deliveries_only_bounces_and_complaints_are_wired(runner, aws_account, ses_gaps):
    assert flask(runner, *ARGS, "--no-deliveries").exit_code == 0
    assert set(ses_gaps) == {(IDENTITY, "Bounce"), (IDENTITY, "Complaint")}


@pytest.mark.parametrize("setting, value, says", [
    ("AWS_ENDPOINT_URL", "http://127.0.0.1:1", "cannot reach AWS at http://127.0.0.1:1"),
    ("AWS_ACCESS_KEY_ID", None, "no AWS credentials found"),
    ("AWS_REGION", None, "no AWS region"),
])
def test_aws_trouble_is_one_clear_line(runner, aws_account, monkeypatch, setting, value, says):
    if value is None:
        monkeypatch.delenv(setting)
        if setting == "AWS_ACCESS_KEY_ID":
            monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    else:
        monkeypatch.setenv(setting, value)
    result = flask(runner, *ARGS)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], result.output


def test_an_identity_ses_does_not_know_is_named(runner, aws_account):
    result = flask(runner, "sns", "setup", "--topic", "t", "--endpoint", ENDPOINT, "--identity", "unknown.example")
    assert result.exit_code == 1 and "SES has no identity unknown.example" in result.output


@pytest.mark.parametrize("endpoint", ["http://lists.example.org/webhooks/sns", "https://lists.example.org/", "lists.example.org"])
def test_the_endpoint_must_be_the_webhooks_https_url(runner, aws_account, endpoint):
    result = flask(runner, "sns", "setup", "--topic", "t", "--endpoint", endpoint)
    assert result.exit_code == 2 and "https://HOST/webhooks/sns" in result.output


def test_identity_and_configuration_set_are_one_or_the_other(runner, aws_account):
    result = flask(runner, "sns", "setup", "--topic", "t", "--endpoint", ENDPOINT, "--identity", "a.example", "--configuration-set", "c")
    assert result.exit_code == 2 and "not both" in result.output
