"""Mailing-list operations shared by the web pages and the `flask lists` commands (subscriptions: `maillist.subscriptions`)."""

from sqlalchemy import case, func, select

from maillist import audit
from maillist.directory import find_list_by_address
from maillist.errors import Conflict, InvalidInput, about
from maillist.extensions import db
from maillist.models import MailingList, Member, Subscription
from maillist.unit_of_work import writes
from maillist.validation import check_email
from maillist.vocabulary import POST_MEMBERS, POST_POLICIES, POST_SENDERS


def lists_with_counts():
    """Every list with its number of subscribers and of active subscribers."""
    active = func.sum(case((Member.active.is_(True), 1), else_=0))
    query = (
        select(MailingList, func.count(Subscription.id), active)
        .outerjoin(Subscription, Subscription.list_id == MailingList.id)
        .outerjoin(Member, Member.id == Subscription.member_id)
        .group_by(MailingList.id)
        .order_by(MailingList.address)
    )
    return [(lst, total, int(active or 0)) for lst, total, active in db.session.execute(query)]


MAX_OWNERS = 20


def check_addresses(text):
    """Addresses typed one per line (or separated by commas or semicolons), checked and normalised, once each."""
    found = []
    for word in (text or "").replace(",", " ").replace(";", " ").split():
        address = check_email(word)
        if address not in found:
            found.append(address)
    return found


def check_owners(text):
    """The owners' addresses, one per line; refuses bad addresses and more than MAX_OWNERS."""
    with about("owners"):
        owners = check_addresses(text)
    if len(owners) > MAX_OWNERS:
        raise InvalidInput(f"At most {MAX_OWNERS} owners.", field="owners")
    return "\n".join(owners)


def check_posting(post_policy, allowed_senders):
    """The policy and the normalised sender addresses, one per line; refuses unknown policies and bad addresses."""
    post_policy = (post_policy or POST_MEMBERS).strip().lower()
    if post_policy not in POST_POLICIES:
        raise InvalidInput(f"Who may post must be one of {', '.join(POST_POLICIES)}.", field="post_policy")
    with about("allowed_senders"):
        senders = check_addresses(allowed_senders)
    if post_policy == POST_SENDERS and not senders:
        raise InvalidInput("List the addresses allowed to post, one per line.", field="allowed_senders")
    return post_policy, "\n".join(senders)


MAX_PREFIX = 60
MAX_FOOTER = 2000


def check_prefix(prefix):
    """A subject prefix on one line, at most MAX_PREFIX characters; empty for none."""
    prefix = " ".join((prefix or "").split())
    if len(prefix) > MAX_PREFIX:
        raise InvalidInput(f"A subject prefix has at most {MAX_PREFIX} characters.", field="subject_prefix")
    return prefix


def check_footer(footer):
    """A footer of at most MAX_FOOTER characters, line ends made plain; empty for none."""
    footer = "\n".join(line.rstrip() for line in (footer or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")).strip()
    if len(footer) > MAX_FOOTER:
        raise InvalidInput(f"A footer has at most {MAX_FOOTER} characters.", field="footer")
    if any(ord(c) < 32 and c not in "\n\t" for c in footer):
        raise InvalidInput("A footer cannot hold control characters.", field="footer")
    return footer


@writes
def add_list(address, name, description="", post_policy=POST_MEMBERS, allowed_senders="", owners="", subject_prefix="",
             footer=""):
    """Create a list; refuses a bad or taken address, an empty name, a bad posting rule, owner address, prefix or footer."""
    with about("address"):
        address = check_email(address)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A list needs a name.", field="name")
    post_policy, allowed_senders = check_posting(post_policy, allowed_senders)
    owners = check_owners(owners)
    subject_prefix, footer = check_prefix(subject_prefix), check_footer(footer)
    if find_list_by_address(address):
        raise Conflict(f"A list with address {address} already exists.", field="address")
    mailing_list = MailingList(address=address, name=name[:200], description=(description or "").strip(),
                               post_policy=post_policy, allowed_senders=allowed_senders, owners=owners,
                               subject_prefix=subject_prefix, footer=footer)
    db.session.add(mailing_list)
    audit.record("list.create", address, f"name={name} post={post_policy}")
    return mailing_list


@writes
def update_list(mailing_list, name, description, post_policy=None, allowed_senders=None, owners=None, subject_prefix=None,
                footer=None):
    """Change a list's name, description, who may post, owners, subject prefix and footer (each left as it is when not given)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A list needs a name.", field="name")
    if post_policy is None:
        post_policy, allowed_senders = mailing_list.post_policy, mailing_list.allowed_senders
    post_policy, allowed_senders = check_posting(post_policy, allowed_senders)
    mailing_list.name, mailing_list.description = name[:200], (description or "").strip()
    if owners is not None:
        mailing_list.owners = check_owners(owners)
    if subject_prefix is not None:
        mailing_list.subject_prefix = check_prefix(subject_prefix)
    if footer is not None:
        mailing_list.footer = check_footer(footer)
    mailing_list.post_policy, mailing_list.allowed_senders = post_policy, allowed_senders
    audit.record("list.update", mailing_list.address, f"name={name} post={post_policy} owners={len(mailing_list.owner_list)}")
    return mailing_list


@writes
def set_list_active(mailing_list, active):
    """Activate or deactivate a list (an inactive list delivers to nobody)."""
    mailing_list.active = active
    audit.record("list.activate" if active else "list.deactivate", mailing_list.address)
    return mailing_list


@writes
def delete_list(mailing_list):
    """Delete a list and its subscriptions."""
    audit.record("list.delete", mailing_list.address)
    db.session.delete(mailing_list)


