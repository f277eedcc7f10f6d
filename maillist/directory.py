"""Finding members and lists by id or address: what lists, members, subscriptions and the
transports all need, so it lives below all of them."""

from sqlalchemy import select

from maillist.addresses import normalise_email
from maillist.errors import found
from maillist.extensions import db
from maillist.models import MailingList, Member, Subscription
from maillist.vocabulary import HARD


def find_member_by_email(email):
    """The member with this address (any case), or None."""
    return db.session.scalar(select(Member).where(Member.email == normalise_email(email)))


def get_member(member_id):
    """The member with this id, or NotFound."""
    return found(db.session.get(Member, member_id), "No such member.")


def get_member_by_email(email):
    """The member with this address, or NotFound."""
    return found(find_member_by_email(email), f"No member with email {normalise_email(email)}.")


def find_list_by_address(address):
    """The list with this address (any case), or None."""
    return db.session.scalar(select(MailingList).where(MailingList.address == normalise_email(address)))


def get_list_by_address(address):
    """The list with this address, or NotFound."""
    return found(find_list_by_address(address), f"No list with address {normalise_email(address)}.")


def get_list(list_id):
    """The list with this id, or NotFound."""
    return found(db.session.get(MailingList, list_id), "No such list.")


def all_lists():
    """Every mailing list, by address, for filters and subscription choices."""
    return db.session.scalars(select(MailingList).order_by(MailingList.address)).all()


def readers_of(mailing_list, *columns):
    """SELECT `columns` of the list's readers: its subscribers who are active and not hard-bounced,
    whom its mail goes to and who may post to a members-only list."""
    return (select(*columns).join(Subscription, Subscription.member_id == Member.id)
            .where(Subscription.list_id == mailing_list.id, Member.active.is_(True), Member.bounce_status != HARD))
