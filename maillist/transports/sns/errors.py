"""Why an SNS message was refused: one exception class per reason, each carrying its code.

The code (`SnsError.code`) is what the intake counts, /metrics and the status page read; the
message is for the log and the person reading it, and may be reworded freely.
"""

from maillist.vocabulary import REFUSED_CERTIFICATE as CERTIFICATE
from maillist.vocabulary import REFUSED_CERTIFICATE_URL as CERTIFICATE_URL
from maillist.vocabulary import REFUSED_FUTURE as FUTURE
from maillist.vocabulary import REFUSED_MALFORMED as MALFORMED
from maillist.vocabulary import REFUSED_RAW_DELIVERY as RAW_DELIVERY
from maillist.vocabulary import REFUSED_SIGNATURE as SIGNATURE
from maillist.vocabulary import REFUSED_STALE as STALE
from maillist.vocabulary import REFUSED_TOPIC as TOPIC
from maillist.vocabulary import REFUSED_UPSTREAM as UPSTREAM


class SnsError(Exception):
    """An SNS message maillist will not act on; `status` is the HTTP answer, `code` the reason counted."""

    status = 400
    code = MALFORMED

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class MalformedMessage(SnsError):
    """The body is not an SNS message (400)."""


class RawDeliveryOn(MalformedMessage):
    """The body is a bare SES event: the subscription has raw message delivery on (400)."""

    code = RAW_DELIVERY


class MessageTooLarge(SnsError):
    """The body is larger than any SNS message (413)."""

    status = 413


class VerificationFailed(SnsError):
    """The message is not signed by SNS as it claims (403): the signature, or a field it covers."""

    status = 403
    code = SIGNATURE


class CertificateRejected(VerificationFailed):
    """The signing certificate is missing, unreadable, expired or not SNS's (403)."""

    code = CERTIFICATE


class CertificateUrlRejected(VerificationFailed):
    """SigningCertURL or SubscribeURL does not point at SNS (403)."""

    code = CERTIFICATE_URL


class MessageStale(VerificationFailed):
    """The message is older than SNS_MAX_MESSAGE_AGE (403)."""

    code = STALE


class MessageFromFuture(VerificationFailed):
    """The message's Timestamp is ahead of this clock by more than the tolerance (403)."""

    code = FUTURE


class TopicNotAllowed(SnsError):
    """The message is from a topic outside SNS_TOPIC_ARNS (403)."""

    status = 403
    code = TOPIC


class UpstreamError(SnsError):
    """SNS itself could not be reached (confirming a subscription, fetching a certificate): 502."""

    status = 502
    code = UPSTREAM
