"""What a report that came to a bounce address says: its kind, and each recipient it names."""

from dataclasses import dataclass, field
from datetime import datetime

from maillist.bounce_reasons import classify, is_dead
from maillist.models.types import utcnow
from maillist.vocabulary import PERMANENT, TRANSIENT, UNDETERMINED

# What kind of report it is.
BOUNCE, DELAY, AUTO_REPLY, COMPLAINT, NOT_A_BOUNCE = "bounce", "delay", "auto-reply", "complaint", "not-a-bounce"
REPORT_KINDS = (BOUNCE, DELAY, AUTO_REPLY, COMPLAINT, NOT_A_BOUNCE)
SEVERITY = {PERMANENT: 3, TRANSIENT: 2, UNDETERMINED: 1}


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient a report names, with what it says of them."""

    email: str
    bounce_type: str | None  # None: delayed, or delivered
    status: str | None
    diagnostic: str | None
    action: str | None

    @property
    def reason(self):
        """Why it failed (maillist.bounce_reasons), or None when it did not fail."""
        return classify("DSN", self.status, self.diagnostic) if self.bounce_type else None

    @property
    def deactivates(self):
        """What the engine would do with it under the default HARD_BOUNCE_POLICY=reason."""
        return self.bounce_type == PERMANENT and is_dead(self.reason)


@dataclass(frozen=True)
class Reading:
    """What a report says: its kind, the recipients it names, and when it was written."""

    kind: str
    recipients: tuple = ()
    occurred_at: datetime = field(default_factory=utcnow)
    feedback_type: str | None = None
    user_agent: str | None = None
    message_id: str | None = None
    # Written by a mail server (MAILER-DAEMON, postmaster, ...), not typed or set up by a person.
    from_server: bool = True

    def most_severe(self):
        """The failed recipient whose failure is the most permanent, or None."""
        failed = [r for r in self.recipients if r.bounce_type]
        return max(failed, key=lambda r: SEVERITY[r.bounce_type], default=None)

    def for_address(self, email):
        """The failed entry for `email` if the report names it; else, in a mail server's report, the
        most severe failure (it may name a forwarding target, or nobody readable); else None: a
        person's mail that names someone else's failure says nothing about `email`."""
        named = [r for r in self.recipients if r.email == email and r.bounce_type]
        if named:
            return named[0]
        return self.most_severe() if self.from_server else None

    def as_dict(self):
        """The reading as `flask bounces process-dsn --dry-run --json` prints it."""
        return {
            "kind": self.kind,
            "recipients": [{"email": r.email, "bounce_type": r.bounce_type, "status": r.status,
                            "diagnostic": r.diagnostic, "reason": r.reason, "deactivates": r.deactivates}
                           for r in self.recipients],
        }
