"""POST /webhooks/sns: where Amazon SNS delivers bounce and complaint notifications."""

import json

from flask import abort, current_app, request

from maillist.metrics import WEBHOOK_SECONDS
from maillist.transports.sns import bp
from maillist.transports.sns.envelope import parse_envelope
from maillist.transports.sns.errors import MessageTooLarge, SnsError
from maillist.transports.sns.messages import Result, handle_message, log_result


@bp.post("/sns")
def webhook():
    """Verify and process one SNS message; the answer tells SNS whether to retry."""
    with WEBHOOK_SECONDS.time():
        return answer()


def answer():
    if not current_app.config["ENABLE_SNS_WEBHOOKS"]:
        log_result(Result(404, "disabled", "ENABLE_SNS_WEBHOOKS is off"))
        abort(404)
    try:
        body = read_body(current_app.config["SNS_MAX_BODY_BYTES"])
        message = parse_envelope(body, request.headers.get("x-amz-sns-message-type"))
    except SnsError as error:
        result = Result(error.status, "refused", error.reason, error.code)
        log_result(result)
    else:
        result = handle_message(message)
    return reply(result)


def reply(result):
    """The JSON answer SNS (and a person reading the logs) gets: the outcome and a detail."""
    body = json.dumps({"detail": result.detail, "outcome": result.outcome}, separators=(",", ":"))
    return current_app.response_class(body, result.status, mimetype="application/json")


def read_body(limit):
    """The raw body, whatever the Content-Type says (SNS sends text/plain); refuses oversize ones."""
    if request.content_length is not None and request.content_length > limit:
        raise MessageTooLarge(f"body is larger than {limit} bytes")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise MessageTooLarge(f"body is larger than {limit} bytes")
    return body
