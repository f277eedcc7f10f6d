"""What a bounce report says happened, whichever way it came in (SES notification or bounce email)."""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from maillist.bounce_reasons import classify


@dataclass(frozen=True)
class Bounce:
    """One bounced recipient."""

    email: str
    bounce_type: str
    subtype: str | None
    diagnostic_code: str | None
    action: str | None
    status: str | None
    feedback_id: str | None
    occurred_at: datetime

    @cached_property
    def reason(self):
        """Why the address failed (maillist.bounce_reasons), read once: the intake reads it before
        it takes SQLite's writer lock, so the lock is not held while the text is read."""
        return classify(self.subtype, self.status, self.diagnostic_code)


@dataclass(frozen=True)
class Complaint:
    """One recipient who marked the mail as spam."""

    email: str
    feedback_type: str | None
    user_agent: str | None
    feedback_id: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class Deliveries:
    """Mail delivered to `count` recipients on `occurred_at`'s day."""

    count: int
    occurred_at: datetime


@dataclass(frozen=True)
class OtherEvent:
    """An SES event maillist does not act on (Send, Open, Click, DeliveryDelay, ...)."""

    kind: str


@dataclass(frozen=True)
class Report:
    """One incoming report as the ledger knows it: the key that makes it count once, and its origin."""

    key: str
    source: str
    kind: str
    topic_arn: str | None = None
