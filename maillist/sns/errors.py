"""Why an SNS message was refused."""


class SnsError(Exception):
    """An SNS message maillist will not act on; `status` is the HTTP answer."""

    status = 400

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class MalformedMessage(SnsError):
    """The body is not an SNS message (400)."""


class RawDeliveryOn(MalformedMessage):
    """The body is a bare SES event: the subscription has raw message delivery on (400)."""


class MessageTooLarge(SnsError):
    """The body is larger than any SNS message (413)."""

    status = 413


class VerificationFailed(SnsError):
    """Signature, certificate or age check failed (403)."""

    status = 403


class TopicNotAllowed(SnsError):
    """The message is from a topic outside SNS_TOPIC_ARNS (403)."""

    status = 403


class UpstreamError(SnsError):
    """SNS itself could not be reached (confirming a subscription, fetching a certificate): 502."""

    status = 502
