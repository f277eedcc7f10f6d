"""`flask sns poll`: the SNS intake through an SQS queue subscribed to the topic.

SNS retries an HTTPS endpoint for an hour at most; an SQS subscription it retries for 23 days, and
the queue keeps messages for up to 14. Each body read from the queue goes through exactly what the
webhook does (envelope, signature, topic allow-list, once-only ledger, bounce engine) and is
deleted only once stored. A storage failure leaves it for SQS to deliver again after the
visibility timeout; a body that can never be processed (bad signature, raw delivery on, a foreign
topic) is logged with its reason and left to the queue's redrive policy, never deleted here.
Several pollers, on several hosts, may share one queue: the ledger applies each message once.
"""

import logging
import time
from dataclasses import dataclass, field

from maillist.aws import AwsError, plain_errors
from maillist.extensions import db
from maillist.transports.sns.envelope import parse_envelope
from maillist.transports.sns.errors import SnsError
from maillist.transports.sns.messages import Result, handle_message, log_result
from maillist.vocabulary import SOURCE_SQS

log = logging.getLogger("maillist.transports.sns")

# SQS's own limits: at most 10 messages per receive, at most 20 seconds of long polling.
MAX_BATCH, MAX_WAIT = 10, 20
# --drain: how long to wait for messages in flight with none stored meanwhile, and how often to look.
DRAIN_PATIENCE, DRAIN_LOOK_AGAIN = 60, 0.5
# How long to wait before polling again after the database or AWS failed (doubling, capped).
FIRST_PAUSE, LONGEST_PAUSE = 1, 60


@dataclass
class Tally:
    """What one run of the poller did."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    left: int = 0
    outcomes: dict = field(default_factory=dict)

    def count(self, result):
        self.received += 1
        self.outcomes[result.outcome] = self.outcomes.get(result.outcome, 0) + 1
        if result.status >= 400:
            self.left += 1
        elif result.outcome == "duplicate":
            self.duplicates += 1
        else:
            self.stored += 1

    def __str__(self):
        return (f"received {self.received}: stored {self.stored}, duplicates {self.duplicates}, "
                f"left in the queue {self.left}")


def process_body(body, get_certificate=None):
    """Run one queue message body through the webhook's pipeline; returns its Result."""
    try:
        message = parse_envelope(body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)
    except SnsError as error:
        result = Result(error.status, "refused", error.reason, error.code)
        log_result(result, source=SOURCE_SQS)
        return result
    return handle_message(message, get_certificate=get_certificate, source=SOURCE_SQS)


def receive(sqs, queue_url, batch, wait):
    """One long poll: up to `batch` messages, each with how often SQS has handed it out."""
    with plain_errors("receiving from the queue"):
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=batch, WaitTimeSeconds=wait,
                                     MessageSystemAttributeNames=["ApproximateReceiveCount"])
    return answer.get("Messages", [])


def delete(sqs, queue_url, messages):
    """Delete stored messages from the queue; one that fails to delete comes back and is a duplicate then."""
    if not messages:
        return
    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    with plain_errors("deleting stored messages from the queue"):
        answer = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    for failure in answer.get("Failed", []):
        log.warning("sqs could not delete a stored message (%s): it will come back and count as a duplicate",
                    failure.get("Code"))


def handle_batch(sqs, queue_url, messages, tally, get_certificate=None):
    """Process one received batch; returns True when the database could not store one of them."""
    stored, storage_failed = [], False
    for message in messages:
        result = process_body(message.get("Body", ""), get_certificate)
        db.session.remove()
        tally.count(result)
        if result.status < 400:
            stored.append(message)
        elif result.status >= 500:
            storage_failed = True
        else:
            received = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
            log.warning("sqs message %s left in the queue for its redrive policy (received %s times): %s",
                        message.get("MessageId", "-"), received, result.detail)
    delete(sqs, queue_url, stored)
    return storage_failed


def in_flight(sqs, queue_url):
    """Whether the queue still holds messages, visible or handed out and not yet deleted."""
    with plain_errors("reading the queue's attributes"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    counts = attributes.get("Attributes", {})
    return any(int(counts.get(name, 0)) for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"))


def poll(sqs, queue_url, batch=MAX_BATCH, wait=MAX_WAIT, once=False, drain=False, get_certificate=None,
         should_stop=lambda: False, sleep=time.sleep):
    """Receive and process until stopped; `once`: one receive; `drain`: until the queue is empty,
    none of its messages in flight either (one this or another poller could not store comes back
    after its visibility timeout, and is taken then), or until DRAIN_PATIENCE seconds pass without
    one stored (what is left then is refused every time, for the redrive policy).

    AWS failing on the very first receive (no such queue, no permission) raises AwsError; later
    failures, and the database failing, are logged and waited out, longer each time.
    """
    tally, pause, first = Tally(), FIRST_PAUSE, True
    progress_at, taken = time.monotonic(), 0
    while not should_stop():
        try:
            messages = receive(sqs, queue_url, batch, wait)
            trouble = handle_batch(sqs, queue_url, messages, tally, get_certificate) if messages else False
        except AwsError as error:
            if first or once or drain:
                raise
            log.warning("sqs poll failed, trying again in %ds: %s", pause, error)
            trouble, messages = True, []
        first = False
        if tally.stored + tally.duplicates > taken:
            progress_at, taken = time.monotonic(), tally.stored + tally.duplicates
        if once:
            break
        if drain and not messages:
            if not in_flight(sqs, queue_url) or time.monotonic() - progress_at > DRAIN_PATIENCE:
                break
            sleep(DRAIN_LOOK_AGAIN)  # what is in flight comes back, or is deleted, soon
            continue
        if trouble:
            sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)
        else:
            pause = FIRST_PAUSE
    return tally
