"""Subscriptions: which members receive which list's mail, changed from either side.

Members and lists know nothing of each other's services; what joins them lives here, and finding
either by id or address in maillist.directory, below all three.
"""

from dataclasses import dataclass

from sqlalchemy import select

from maillist import audit
from maillist.addresses import normalise_email
from maillist.directory import all_lists, find_member_by_email
from maillist.errors import NotFound
from maillist.extensions import db
from maillist.models import Subscription
from maillist.unit_of_work import writes


def list_choices():
    """Every list, by address: the lists a member can be put on."""
    return all_lists()


def subscribed_ids(mailing_list):
    """The ids of the members on `mailing_list`."""
    return set(db.session.scalars(select(Subscription.member_id).where(Subscription.list_id == mailing_list.id)))


@writes
def add_to_list(mailing_list, members):
    """Subscribe those of `members` not on the list yet, in one audited transaction; returns them."""
    existing, added = subscribed_ids(mailing_list), []
    for member in members:
        if member.id not in existing:
            db.session.add(Subscription(member_id=member.id, list_id=mailing_list.id))
            existing.add(member.id)
            added.append(member)
    if added:
        audit.record("list.subscribe", mailing_list.address, ",".join(m.email for m in added))
    return added


def subscribe(mailing_list, emails):
    """Subscribe existing members by address; all or nothing. Returns the newly subscribed."""
    members, unknown = [], []
    for email in emails:
        member = find_member_by_email(email)
        (members.append(member) if member else unknown.append(normalise_email(email)))
    if unknown:
        raise NotFound(f"No member with email {', '.join(unknown)}.")
    return add_to_list(mailing_list, members)


@dataclass(frozen=True)
class SubscribeReport:
    """What subscribing pasted addresses did, address by address."""

    added: tuple
    already: tuple
    unknown: tuple
    invalid: tuple


def subscribe_what_can_be(mailing_list, texts):
    """Subscribe every pasted address that is a member; report the rest (already on the list, not a
    member, not an address) instead of refusing the batch. One transaction, audited."""
    members, already, unknown, invalid, seen = [], [], [], [], set()
    existing = subscribed_ids(mailing_list)
    for text in texts:
        email = normalise_email(text)
        if email in seen:
            continue
        seen.add(email)
        if "@" not in email or len(email) > 255:
            invalid.append(text[:100])
            continue
        member = find_member_by_email(email)
        if member is None:
            unknown.append(email)
        elif member.id in existing:
            already.append(email)
        else:
            members.append(member)
    added = add_to_list(mailing_list, members)
    return SubscribeReport(tuple(m.email for m in added), tuple(already), tuple(unknown), tuple(invalid))


@writes
def unsubscribe(mailing_list, member):
    """Remove a member from a list; unsubscribing a non-subscriber is a no-op."""
    subscription = db.session.scalar(
        select(Subscription).where(Subscription.list_id == mailing_list.id, Subscription.member_id == member.id)
    )
    if subscription is not None:
        db.session.delete(subscription)
        audit.record("list.unsubscribe", mailing_list.address, member.email)
    return subscription is not None


@writes
def set_subscriptions(member, list_ids):
    """Make `member` subscribed to exactly the lists in `list_ids`; returns (added, removed) addresses."""
    lists = {str(lst.id): lst for lst in all_lists()}
    if any(str(i) not in lists for i in list_ids):
        raise NotFound("No such list.")
    wanted = {lists[str(i)].id for i in list_ids}
    lists = {lst.id: lst for lst in lists.values()}
    current = {s.list_id: s for s in member.subscriptions}
    added = [lists[i].address for i in sorted(wanted - set(current))]
    removed = [lists[i].address for i in sorted(set(current) - wanted)]
    for list_id in wanted - set(current):
        db.session.add(Subscription(member_id=member.id, list_id=list_id))
    for list_id in set(current) - wanted:
        db.session.delete(current[list_id])
    if added or removed:
        audit.record("member.lists", member.email, f"added={','.join(added)} removed={','.join(removed)}")
    return added, removed
