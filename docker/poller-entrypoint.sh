#!/bin/sh
# The poller service: SNS messages read from an SQS queue subscribed to the topic, through the
# same checks and ledger as the webhook (README: "Scaling out", "How long an outage SNS survives").
# Run as many as you like, on as many hosts: each message is applied once.
set -eu
: "${SQS_QUEUE_URL:?set SQS_QUEUE_URL in .env to the queue URL flask sns setup --queue printed}"
exec flask sns poll "$SQS_QUEUE_URL"
