"""SES's account-level suppression list: SES drops mail to an address on it, whatever maillist does.

A member reactivated here still receives nothing while SES keeps them on that list, silently. So
a Suppressed / OnAccountSuppressionList bounce marks the member (`Member.ses_suppressed`), Reset
Bounce Status offers to take the address off SES's list too (SES v2 DeleteSuppressedDestination),
and `flask ses suppression list|remove|compare` shows and edits SES's list against the members.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError
from sqlalchemy import select

from maillist import audit, member_state, unit_of_work
from maillist.aws import AwsError, client, pages, plain_errors
from maillist.extensions import db
from maillist.models import Member
from maillist.unit_of_work import writes

REMOVED, NOT_LISTED = "removed", "not-listed"
CREDENTIAL_SETTINGS = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI")


def aws_configured(environ=None):
    """Whether AWS is set up for this process: a region, and credentials named in the environment or
    in ~/.aws/credentials (read without calling AWS or the instance metadata service)."""
    env = os.environ if environ is None else environ
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    credentials_file = Path(env.get("AWS_SHARED_CREDENTIALS_FILE") or Path.home() / ".aws" / "credentials")
    return bool(region) and (any(env.get(name) for name in CREDENTIAL_SETTINGS) or credentials_file.is_file())


@dataclass(frozen=True)
class Suppressed:
    """One address on SES's list."""

    email: str
    reason: str
    since: str


def listed(sesv2=None):
    """Every address on SES's account-level suppression list."""
    sesv2 = sesv2 or client("sesv2")
    return [Suppressed(item["EmailAddress"].strip().lower(), item.get("Reason", ""), str(item.get("LastUpdateTime", "")))
            for page in pages(sesv2.list_suppressed_destinations, "sesv2.list_suppressed_destinations")
            for item in page.get("SuppressedDestinationSummaries", [])]


def remove(email, sesv2=None, actor=None):
    """Take `email` off SES's list; REMOVED or NOT_LISTED (raises AwsError otherwise). Audited, and
    the member's mark cleared: they can receive mail through SES again."""
    sesv2 = sesv2 or client("sesv2")
    try:
        sesv2.delete_suppressed_destination(EmailAddress=email)
        outcome = REMOVED
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NotFoundException":
            with plain_errors("sesv2.delete_suppressed_destination"):
                raise
        outcome = NOT_LISTED
    mark_removed(email, outcome, actor)
    return outcome


@writes
def mark_removed(email, outcome, actor=None):
    """Clear the member's mark and audit what SES answered (after the call to AWS: no lock is held across it)."""
    member_state.change(db.session.connection(), member_state.suppression_cleared, email=email)
    audit.record("member.ses_suppression_remove", email, outcome, actor=actor)


def remove_with_message(email):
    """Remove `email` from SES's list for a staff action; the sentence to show. A failure is audited too."""
    try:
        outcome = remove(email)
    except AwsError as error:
        unit_of_work.transaction(audit.record, "member.ses_suppression_remove", email, f"failed: {error}")
        return f"SES's suppression list was not changed: {error}"
    if outcome == REMOVED:
        return "Removed from SES's suppression list: SES delivers to it again."
    return "It was not on SES's suppression list."


def compare(suppressed):
    """SES's list against the members: who SES silently drops while maillist sends, and the rest."""
    on_list = {item.email: item for item in suppressed}
    members = {row.email: row for row in db.session.execute(select(Member.email, Member.active, Member.ses_suppressed))}
    return {
        "active_here_dropped_by_ses": sorted(email for email, row in members.items() if email in on_list and row.active),
        "inactive_here": sorted(email for email, row in members.items() if email in on_list and not row.active),
        "not_members": sorted(email for email in on_list if email not in members),
        "marked_but_not_listed": sorted(email for email, row in members.items() if row.ses_suppressed and email not in on_list),
    }
