"""Finding members and lists by id or address: what lists, members, subscriptions and the
transports all need, so it lives below all of them."""

from sqlalchemy import select

from maillist.errors import NotFound
from maillist.extensions import db
from maillist.models import MailingList, Member
from maillist.models.member import normalise_email


def find_member_by_email(email):
    """The member with this address (any case), or None."""
    return db.session.scalar(select(Member).where(Member.email == normalise_email(email)))


def get_member(member_id):
    """The member with this id, or NotFound."""
    member = db.session.get(Member, member_id)
    if member is None:
        raise NotFound("No such member.")
    return member


def get_member_by_email(email):
    """The member with this address, or NotFound."""
    member = find_member_by_email(email)
    if member is None:
        raise NotFound(f"No member with email {normalise_email(email)}.")
    return member


def find_list_by_address(address):
    """The list with this address (any case), or None."""
    return db.session.scalar(select(MailingList).where(MailingList.address == normalise_email(address)))


def get_list_by_address(address):
    """The list with this address, or NotFound."""
    mailing_list = find_list_by_address(address)
    if mailing_list is None:
        raise NotFound(f"No list with address {normalise_email(address)}.")
    return mailing_list


def get_list(list_id):
    """The list with this id, or NotFound."""
    mailing_list = db.session.get(MailingList, list_id)
    if mailing_list is None:
        raise NotFound("No such list.")
    return mailing_list


def all_lists():
    """Every mailing list, by address, for filters and subscription choices."""
    return db.session.scalars(select(MailingList).order_by(MailingList.address)).all()
