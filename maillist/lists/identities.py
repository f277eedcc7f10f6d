"""SES's verified identities against the lists: whose posts keep their From, and which lists SES would refuse.

`flask ses identities` reads the account's identities (SES's ListIdentities and
GetIdentityVerificationAttributes) and holds them against SES_VERIFIED_IDENTITIES and every list.
"""

from dataclasses import dataclass

from sqlalchemy import select

from maillist.aws import client, pages, plain_errors
from maillist.extensions import db
from maillist.lists.headers import REWRITE_ALWAYS, REWRITE_NEVER, covered
from maillist.models import MailingList

VERIFIED = "Success"
BATCH = 100  # GetIdentityVerificationAttributes takes at most 100 identities a call


@dataclass(frozen=True)
class ListReport:
    """What SES makes of one list's mail."""

    address: str
    domain_verified: bool
    kept_for: tuple
    rewrite: str


def account_identities(ses=None):
    """{identity: verification status} of every identity in the SES account (domains and addresses)."""
    ses = ses or client("ses")
    names = [name for page in pages(ses.list_identities, "ses.list_identities") for name in page.get("Identities", [])]
    statuses = {}
    for start in range(0, len(names), BATCH):
        with plain_errors("ses.get_identity_verification_attributes"):
            answer = ses.get_identity_verification_attributes(Identities=names[start:start + BATCH])
        for name, attributes in answer.get("VerificationAttributes", {}).items():
            statuses[name.lower()] = attributes.get("VerificationStatus", "")
    return statuses


def identity_verified(identity, verified):
    """Whether a configured identity (domain or address) is covered by SES's verified ones."""
    return covered(identity if "@" in identity else f"postmaster@{identity}", verified)


def report(statuses, config):
    """(one ListReport per list, configured identities SES has not verified)."""
    verified = {name for name, status in statuses.items() if status == VERIFIED}
    configured = [identity.lower() for identity in config.get("SES_VERIFIED_IDENTITIES", [])]
    mode = config.get("FROM_REWRITE")
    lists = db.session.scalars(select(MailingList).order_by(MailingList.address)).all()
    reports = []
    for mailing_list in lists:
        kept = () if mode == REWRITE_ALWAYS else tuple(i for i in configured if identity_verified(i, verified))
        reports.append(ListReport(mailing_list.address, covered(mailing_list.address, verified), kept, mode))
    return reports, [identity for identity in configured if not identity_verified(identity, verified)]


def describe(list_report):
    """One line a person reads about one list."""
    if not list_report.domain_verified:
        return f"{list_report.address}: its domain is not verified in SES: SES refuses every post (verify it in the SES console)"
    if list_report.rewrite == REWRITE_NEVER:
        return f"{list_report.address}: From is never rewritten: SES refuses posts by authors outside the verified identities"
    if list_report.rewrite == REWRITE_ALWAYS or not list_report.kept_for:
        return f"{list_report.address}: every post leaves From the list, with the author in Reply-To"
    return (f"{list_report.address}: posts by authors at {', '.join(list_report.kept_for)} keep their From; "
            "every other post leaves From the list, with the author in Reply-To")
