"""Member operations shared by the web pages and the `flask members` commands (subscriptions: `maillist.subscriptions`)."""

from maillist import audit, member_state
from maillist.directory import find_member_by_email, get_list_by_address
from maillist.errors import Conflict, about
from maillist.extensions import db
from maillist.models import BounceLog, Member, Subscription
from maillist.models.types import utcnow
from maillist.unit_of_work import writes
from maillist.validation import check_email
from maillist.vocabulary import STAFF_CHANGE


@writes
def add_member(email, name="", list_addresses=()):
    """Create a member subscribed to the lists at `list_addresses`; refuses a bad or taken address
    and unknown lists (nothing is created then)."""
    with about("email"):
        email = check_email(email)
    lists = {}
    for address in list_addresses:
        mailing_list = get_list_by_address(address)
        lists.setdefault(mailing_list.id, mailing_list)  # the same list twice is one subscription
    lists = list(lists.values())
    if find_member_by_email(email):
        raise Conflict(f"A member with email {email} already exists.", field="email")
    member = Member(email=email, name=(name or "").strip()[:200])
    db.session.add(member)
    for mailing_list in lists:
        db.session.add(Subscription(member=member, mailing_list=mailing_list))
    audit.record("member.create", email, f"lists={','.join(lst.address for lst in lists)}")
    return member


@writes
def update_member(member, email, name):
    """Change a member's address or name; a taken address is refused and nothing changes."""
    with about("email"):
        email = check_email(email)
    other = find_member_by_email(email)
    if other is not None and other.id != member.id:
        raise Conflict(f"A member with email {email} already exists.", field="email")
    changes = []
    if member.email != email:
        changes.append(f"email {member.email} -> {email}")
    if member.name != (name or "").strip():
        changes.append("name")
    member.email, member.name = email, (name or "").strip()[:200]
    audit.record("member.update", email, "; ".join(changes))
    return member


@writes
def set_member_active(member, active):
    """Activate or deactivate a member (an inactive member receives no list mail); HardBounced when
    activating a hard-bounced one."""
    actor = audit.current_actor().name
    decision = member_state.change_member(db.session, member, member_state.staff_active, active, actor)
    audit.record("member.activate" if active else "member.deactivate", member.email)
    # The member's history says it too, beside the bounces and complaints.
    db.session.add(BounceLog(member_id=member.id, email=member.email, event=STAFF_CHANGE, occurred_at=utcnow(),
                             details=decision.why))
    return member


@writes
def delete_member(member):
    """Delete a member and their subscriptions (their bounce history is kept, unlinked)."""
    audit.record("member.delete", member.email)
    db.session.delete(member)


def member_summary(member):
    """A JSON-ready description of a member, as `flask members show --json` prints it."""
    return {
        "id": member.id,
        "email": member.email,
        "name": member.name,
        "active": member.active,
        "bounce_status": member.bounce_status,
        "bounce_count": member.bounce_count,
        "last_bounce_at": member.last_bounce_at.isoformat() + "Z" if member.last_bounce_at else None,
        "lists": [lst.address for lst in member.lists],
        "created_at": member.created_at.isoformat() + "Z",
    }
