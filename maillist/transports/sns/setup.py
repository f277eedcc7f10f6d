"""`flask sns setup`: wiring SES, SNS and SQS for maillist, idempotently, and checking that wiring.

What it builds, each piece found first and created or corrected only where it differs:

- the SNS topic;
- the HTTPS subscription of the webhook, raw message delivery off, with the longest retry policy
  SNS allows for HTTP/S (one hour, its hard limit) and a dead-letter queue, so a message SNS
  gives up on is kept there for 14 days (`flask sns poll` reads it back);
- SES sending its Bounce, Complaint and Delivery notifications (with headers) for an identity to
  the topic, or an SNS event destination on a configuration set;
- optionally an SQS queue subscribed to the topic for `flask sns poll`, with its own dead-letter
  queue after 10 failed receives.

`check` reports every piece and what to do about a gap; a dry run prints the calls that would
change something instead of making them.
"""

import json
from dataclasses import dataclass

from botocore.exceptions import ClientError

from maillist.aws import AwsError, client, plain_errors

# SNS's HTTP/S retry policy may last at most 3,600 s in total: 3 retries 20 s apart, then 59 a
# minute apart (3 x 20 + 59 x 60 = 3,600 s). SNS's default is 3 retries 20 s apart.
DELIVERY_POLICY = {
    "healthyRetryPolicy": {
        "minDelayTarget": 20, "maxDelayTarget": 60, "numRetries": 62, "numNoDelayRetries": 0,
        "numMinDelayRetries": 3, "numMaxDelayRetries": 59, "backoffFunction": "linear",
    },
}
RETENTION = 14 * 24 * 3600  # SQS's longest
MAX_RECEIVES = 10  # an intake queue's message goes to its dead-letter queue after this many receives
EVENT_TYPES = ("Bounce", "Complaint", "Delivery")
DESTINATION_NAME = "maillist"


@dataclass(frozen=True)
class Piece:
    """One line of `--check`: what, whether it is right, what was found, what to do."""

    name: str
    ok: bool
    found: str
    fix: str = ""

    def __str__(self):
        mark = "ok " if self.ok else "GAP"
        return f"[{mark}] {self.name}: {self.found}" + (f"\n      -> {self.fix}" if self.fix and not self.ok else "")


def queue_name_for(name, suffix):
    """An SQS queue name (80 characters at most) made of `name` and `suffix`."""
    return f"{name[:80 - len(suffix)]}{suffix}"


def name_of(arn):
    return arn.rsplit(":", 1)[-1]


def same_policy(text, wanted):
    try:
        return json.loads(text or "null") == wanted
    except ValueError:
        return False


class Wiring:
    """The AWS side of maillist, read through boto3; changes go through `change` (printed in a dry run)."""

    def __init__(self, dry_run=False, echo=print, clients=None):
        self.dry_run, self.echo = dry_run, echo
        clients = clients or {}
        self.sns = clients.get("sns") or client("sns")
        self.sqs = clients.get("sqs") or client("sqs")
        self.ses = clients.get("ses") or client("ses")
        self.planned = set()  # ARNs and URLs a dry run pretends to have created

    def change(self, service, operation, **params):
        """Make one changing call, or in a dry run print it and answer as AWS would."""
        if self.dry_run:
            shown = ", ".join(f"{key}={value!r}" for key, value in params.items())
            self.echo(f"would call {service}.{operation}({shown})")
            return self.pretend(service, operation, params)
        with plain_errors(f"{service}.{operation}"):
            return getattr(getattr(self, service), operation)(**params)

    def read(self, service, operation, **params):
        with plain_errors(f"{service}.{operation}"):
            return getattr(getattr(self, service), operation)(**params)

    def pretend(self, service, operation, params):
        region = self.sns.meta.region_name
        if (service, operation) == ("sns", "create_topic"):
            arn = f"arn:aws:sns:{region}:<account>:{params['Name']}"
            self.planned.add(arn)
            return {"TopicArn": arn}
        if (service, operation) == ("sqs", "create_queue"):
            url = f"https://sqs.{region}.amazonaws.com/<account>/{params['QueueName']}"
            self.planned.add(url)
            return {"QueueUrl": url}
        if (service, operation) == ("sns", "subscribe"):
            return {"SubscriptionArn": "pending confirmation"}
        return {}

    # Reading what is there

    def find_topic(self, name):
        """The ARN of the topic called `name` in this account and region, or None."""
        pages = self.sns.get_paginator("list_topics").paginate()
        with plain_errors("sns.list_topics"):
            for page in pages:
                for topic in page.get("Topics", []):
                    if name_of(topic["TopicArn"]) == name:
                        return topic["TopicArn"]
        return None

    def subscriptions(self, topic_arn):
        """Every subscription of the topic."""
        if topic_arn in self.planned:
            return []
        found = []
        pages = self.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        with plain_errors("sns.list_subscriptions_by_topic"):
            for page in pages:
                found.extend(page.get("Subscriptions", []))
        return found

    def subscription(self, topic_arn, protocol, endpoint):
        """The topic's subscription of `endpoint` over `protocol`, or None."""
        for item in self.subscriptions(topic_arn):
            if item["Protocol"] == protocol and item["Endpoint"] == endpoint:
                return item
        return None

    def subscription_attributes(self, arn):
        if not arn.startswith("arn:"):
            return {}
        return self.read("sns", "get_subscription_attributes", SubscriptionArn=arn)["Attributes"]

    def queue_url(self, name):
        """The URL of the queue called `name`, or None."""
        try:
            return self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as error:
            if "NonExistentQueue" in error.response.get("Error", {}).get("Code", ""):
                return None
            with plain_errors("sqs.get_queue_url"):
                raise

    def queue_attributes(self, url, *names):
        if url in self.planned:
            return {}
        return self.read("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=list(names)).get("Attributes", {})

    def depth(self, url):
        """Messages waiting in the queue (SQS's approximate count), or None when it does not exist."""
        attributes = self.queue_attributes(url, "ApproximateNumberOfMessages") if url else {}
        return int(attributes["ApproximateNumberOfMessages"]) if "ApproximateNumberOfMessages" in attributes else None

    # Building

    def ensure_topic(self, name):
        return self.find_topic(name) or self.change("sns", "create_topic", Name=name)["TopicArn"]

    def ensure_queue(self, name, topic_arn, redrive_to=None):
        """The queue called `name` (URL, ARN), keeping messages 14 days, that the topic may send to."""
        url = self.queue_url(name)
        wanted = {"MessageRetentionPeriod": str(RETENTION)}
        if url is None:
            url = self.change("sqs", "create_queue", QueueName=name, Attributes=wanted)["QueueUrl"]
        arn = self.queue_attributes(url, "QueueArn").get("QueueArn") or f"arn:aws:sqs:{self.sqs.meta.region_name}:<account>:{name}"
        wanted["Policy"] = json.dumps(self.queue_policy(arn, topic_arn))
        if redrive_to:
            wanted["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": redrive_to, "maxReceiveCount": MAX_RECEIVES})
        current = self.queue_attributes(url, "All")
        differing = {key: value for key, value in wanted.items() if not self.same_attribute(key, current.get(key), value)}
        if differing:
            self.change("sqs", "set_queue_attributes", QueueUrl=url, Attributes=differing)
        return url, arn

    @staticmethod
    def same_attribute(key, current, wanted):
        if key in ("Policy", "RedrivePolicy"):
            return same_policy(current, json.loads(wanted))
        return current == wanted

    @staticmethod
    def queue_policy(queue_arn, topic_arn):
        """Let the topic (and nothing else) send messages to the queue."""
        return {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "maillist-topic-may-send", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }],
        }

    def ensure_subscription(self, topic_arn, protocol, endpoint, attributes):
        """Subscribe `endpoint`, or correct the attributes of its existing subscription; returns its ARN."""
        found = self.subscription(topic_arn, protocol, endpoint)
        if found is None:
            answer = self.change("sns", "subscribe", TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint,
                                 Attributes=attributes, ReturnSubscriptionArn=True)
            return answer["SubscriptionArn"]
        arn = found["SubscriptionArn"]
        current = self.subscription_attributes(arn)
        for key, value in attributes.items():
            if key in ("DeliveryPolicy", "RedrivePolicy"):
                right = same_policy(current.get(key), json.loads(value))
            else:
                right = current.get(key, "false") == value
            if not right and arn.startswith("arn:"):
                self.change("sns", "set_subscription_attributes", SubscriptionArn=arn, AttributeName=key, AttributeValue=value)
        return arn

    def wire_identity(self, identity, topic_arn, deliveries=True):
        """SES sends the identity's notifications, with headers, to the topic."""
        self.require_identity(identity)
        current = self.identity_attributes(identity)
        for kind in EVENT_TYPES if deliveries else EVENT_TYPES[:2]:
            if current.get(f"{kind}Topic") != topic_arn:
                self.change("ses", "set_identity_notification_topic", Identity=identity, NotificationType=kind, SnsTopic=topic_arn)
            if not current.get(f"HeadersIn{kind}NotificationsEnabled"):
                self.change("ses", "set_identity_headers_in_notifications_enabled", Identity=identity,
                            NotificationType=kind, Enabled=True)

    def require_identity(self, identity):
        answer = self.read("ses", "get_identity_verification_attributes", Identities=[identity])
        if identity not in answer.get("VerificationAttributes", {}):
            raise AwsError(f"SES has no identity {identity} in {self.ses.meta.region_name}: verify the domain in SES first")

    def identity_attributes(self, identity):
        answer = self.read("ses", "get_identity_notification_attributes", Identities=[identity])
        return answer.get("NotificationAttributes", {}).get(identity, {})

    def destination(self, configuration_set):
        """maillist's event destination on the configuration set; None when absent, False when the set is."""
        try:
            answer = self.ses.describe_configuration_set(ConfigurationSetName=configuration_set,
                                                         ConfigurationSetAttributeNames=["eventDestinations"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConfigurationSetDoesNotExist":
                return False
            with plain_errors("ses.describe_configuration_set"):
                raise
        for item in answer.get("EventDestinations", []):
            if item.get("Name") == DESTINATION_NAME:
                return item
        return None

    def wire_configuration_set(self, configuration_set, topic_arn, deliveries=True):
        """The configuration set publishes bounces, complaints (and deliveries) to the topic."""
        kinds = [kind.lower() for kind in (EVENT_TYPES if deliveries else EVENT_TYPES[:2])]
        wanted = {"Name": DESTINATION_NAME, "Enabled": True, "MatchingEventTypes": kinds,
                  "SNSDestination": {"TopicARN": topic_arn}}
        found = self.destination(configuration_set)
        if found is False:
            self.change("ses", "create_configuration_set", ConfigurationSet={"Name": configuration_set})
            found = None
        if found is None:
            self.change("ses", "create_configuration_set_event_destination", ConfigurationSetName=configuration_set,
                        EventDestination=wanted)
        elif (found.get("SNSDestination", {}).get("TopicARN") != topic_arn or not found.get("Enabled")
              or sorted(found.get("MatchingEventTypes", [])) != sorted(kinds)):
            self.change("ses", "update_configuration_set_event_destination", ConfigurationSetName=configuration_set,
                        EventDestination=wanted)


def webhook_attributes(dead_letter_arn):
    return {"RawMessageDelivery": "false", "DeliveryPolicy": json.dumps(DELIVERY_POLICY),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letter_arn})}


def setup(wiring, topic, endpoint, identity=None, configuration_set=None, queue=None, deliveries=True):
    """Build (or correct) the whole wiring; returns the topic's ARN and the intake queue's URL (or None)."""
    topic_arn = wiring.ensure_topic(topic)
    _, dead_arn = wiring.ensure_queue(queue_name_for(topic, "-webhook-dlq"), topic_arn)
    wiring.ensure_subscription(topic_arn, "https", endpoint, webhook_attributes(dead_arn))
    if identity:
        wiring.wire_identity(identity, topic_arn, deliveries)
    if configuration_set:
        wiring.wire_configuration_set(configuration_set, topic_arn, deliveries)
    queue_url = None
    if queue:
        _, queue_dead_arn = wiring.ensure_queue(queue_name_for(queue, "-dead"), topic_arn)
        queue_url, queue_arn = wiring.ensure_queue(queue, topic_arn, redrive_to=queue_dead_arn)
        wiring.ensure_subscription(topic_arn, "sqs", queue_arn, {"RawMessageDelivery": "false"})
    return topic_arn, queue_url


def check(wiring, topic, endpoint, identity=None, configuration_set=None, queue=None, deliveries=True):
    """Every piece of the wiring as found, without changing anything."""
    topic_arn = wiring.find_topic(topic)
    if topic_arn is None:
        return [Piece("topic", False, f"no topic {topic} in {wiring.sns.meta.region_name}",
                      "run `flask sns setup` with the same options (without --check)")]
    pieces = [Piece("topic", True, topic_arn)]
    pieces += check_webhook(wiring, topic_arn, endpoint)
    if identity:
        pieces += check_identity(wiring, identity, topic_arn, deliveries)
    if configuration_set:
        pieces += check_configuration_set(wiring, configuration_set, topic_arn, deliveries)
    if queue:
        pieces += check_queue(wiring, topic_arn, queue)
    return pieces


def check_webhook(wiring, topic_arn, endpoint):
    found = wiring.subscription(topic_arn, "https", endpoint)
    if found is None:
        return [Piece("webhook subscription", False, f"{endpoint} is not subscribed", "run `flask sns setup`")]
    arn = found["SubscriptionArn"]
    if not arn.startswith("arn:"):
        return [Piece("webhook subscription", False, "pending confirmation",
                      "the webhook confirms it when SNS's SubscriptionConfirmation arrives: check ENABLE_SNS_WEBHOOKS=true, "
                      "SNS_TOPIC_ARNS includes the topic, and that SNS can reach the endpoint over HTTPS")]
    attributes = wiring.subscription_attributes(arn)
    pieces = [Piece("webhook subscription", True, "confirmed")]
    raw = attributes.get("RawMessageDelivery", "false") == "true"
    pieces.append(Piece("raw message delivery", not raw, "on" if raw else "off",
                        "turn it off: the webhook needs SNS's signed envelope (run `flask sns setup`)"))
    ours = same_policy(attributes.get("DeliveryPolicy") or attributes.get("EffectiveDeliveryPolicy"), DELIVERY_POLICY)
    pieces.append(Piece("retry policy", ours, "an hour (3 x 20 s, then every minute)" if ours else
                        "not maillist's: SNS's default gives up after 3 retries in about a minute",
                        "run `flask sns setup` to set the one-hour policy"))
    redrive = attributes.get("RedrivePolicy")
    dead_arn = json.loads(redrive).get("deadLetterTargetArn") if redrive else None
    if not dead_arn:
        pieces.append(Piece("dead-letter queue", False, "none: SNS discards a message once it gives up",
                            "run `flask sns setup` to attach one"))
    else:
        depth = wiring.depth(wiring.queue_url(name_of(dead_arn)))
        pieces.append(Piece("dead-letter queue", depth == 0, f"{name_of(dead_arn)}, {depth} message(s) waiting",
                            f"messages SNS could not deliver are waiting: `flask sns poll <URL of {name_of(dead_arn)}> --drain`"))
    return pieces


def check_identity(wiring, identity, topic_arn, deliveries):
    current = wiring.identity_attributes(identity)
    pieces = []
    for kind in EVENT_TYPES if deliveries else EVENT_TYPES[:2]:
        to_topic = current.get(f"{kind}Topic") == topic_arn
        headers = bool(current.get(f"HeadersIn{kind}NotificationsEnabled"))
        found = f"to {current.get(f'{kind}Topic') or 'no topic'}" + (", with headers" if headers else ", without headers")
        pieces.append(Piece(f"SES {identity} {kind} notifications", to_topic and headers, found,
                            "run `flask sns setup --identity` to send them to the topic with headers"))
    return pieces


def check_configuration_set(wiring, configuration_set, topic_arn, deliveries):
    found = wiring.destination(configuration_set)
    kinds = sorted(kind.lower() for kind in (EVENT_TYPES if deliveries else EVENT_TYPES[:2]))
    if not found:
        what = "no such configuration set" if found is False else "no maillist event destination"
        return [Piece(f"SES configuration set {configuration_set}", False, what, "run `flask sns setup --configuration-set`")]
    right = (found.get("Enabled") and found.get("SNSDestination", {}).get("TopicARN") == topic_arn
             and sorted(found.get("MatchingEventTypes", [])) == kinds)
    return [Piece(f"SES configuration set {configuration_set}", bool(right),
                  f"{', '.join(sorted(found.get('MatchingEventTypes', [])))} to {found.get('SNSDestination', {}).get('TopicARN')}",
                  "run `flask sns setup --configuration-set` to correct it")]


def check_queue(wiring, topic_arn, queue):
    url = wiring.queue_url(queue)
    if url is None:
        return [Piece(f"queue {queue}", False, "does not exist", "run `flask sns setup --queue`")]
    arn = wiring.queue_attributes(url, "QueueArn").get("QueueArn")
    found = wiring.subscription(topic_arn, "sqs", arn)
    pieces = [Piece(f"queue {queue}", found is not None, f"{url}, {wiring.depth(url)} message(s) waiting" if found else
                    "not subscribed to the topic", "run `flask sns setup --queue`")]
    if found:
        raw = wiring.subscription_attributes(found["SubscriptionArn"]).get("RawMessageDelivery", "false") == "true"
        pieces.append(Piece(f"queue {queue} raw message delivery", not raw, "on" if raw else "off",
                            "turn it off: the poller needs SNS's signed envelope (run `flask sns setup --queue`)"))
        dead = wiring.depth(wiring.queue_url(queue_name_for(queue, "-dead")))
        pieces.append(Piece(f"queue {queue} dead letters", dead == 0, f"{dead} message(s)" if dead is not None else "no dead-letter queue",
                            "read the poller's log for why they failed; `flask sns poll` on the dead-letter queue retries them"))
    return pieces
