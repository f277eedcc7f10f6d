"""The members page: search, add, edit, activate, delete, subscriptions, CSV in and out.

Every action works as a plain form or link; htmx requests get just the fragment they swap.
"""

from flask import request, url_for

from maillist import directory, subscriptions
from maillist.csv_download import csv_download
from maillist.errors import DomainError
from maillist.htmx import confirmation, needs_confirmation, notice_or_back, render, render_dialog
from maillist.member_state import HardBounced
from maillist.members import bp, bulk, services
from maillist.members.csv_export import COLUMNS, member_rows
from maillist.members.search import PAGE_SIZES, SORT_LABELS, MemberQuery, search_members
from maillist.permissions import require_login, require_writer

CLOSE_AND_REFRESH = {"close-modal": True, "members-changed": True}


def page_context(query=None, **extra):
    """What the members page and its table need."""
    query = query or MemberQuery.from_args(request.args)
    return dict(result=search_members(query), query=query, lists=subscriptions.list_choices(), page_sizes=PAGE_SIZES,
                SORT_LABELS=SORT_LABELS, bulk_actions=bulk.ACTION_LABELS, **extra)


@bp.get("/")
@require_login
def index():
    """List members, as a page or (for htmx) just the table."""
    context = page_context()
    return render("members/index.html", "members/_table.html", url=url_for("members.index", **context["query"].args()),
                  form_id="member-filters", **context)


@bp.get("/new")
@require_writer
def new():
    """The form for a new member (a modal for htmx, a page otherwise)."""
    return render_dialog("members/form.html", member=None, values={}, lists=subscriptions.list_choices(), error=None)


@bp.post("/")
@require_writer
def create():
    """Add a member; a refused address re-shows the form with what was typed."""
    form = request.form
    try:
        member = services.add_member(form.get("email", ""), form.get("name", ""), form.getlist("lists"))
    except DomainError as error:
        return render_dialog("members/form.html", status=error.status_code, member=None,
                      values=form, lists=subscriptions.list_choices(), error=error.message, invalid=error.field)
    return notice_or_back(f"Added {member.email}.", url_for("members.index"), trigger=CLOSE_AND_REFRESH)


@bp.get("/<int:member_id>/edit")
@require_writer
def edit_form(member_id):
    """The form to change a member's address or name."""
    member = directory.get_member(member_id)
    return render_dialog("members/form.html", member=member,
                  values={"email": member.email, "name": member.name}, lists=[], error=None)


@bp.post("/<int:member_id>/edit")
@require_writer
def edit(member_id):
    """Change a member's address or name; a taken address changes nothing and says so."""
    member = directory.get_member(member_id)
    try:
        services.update_member(member, request.form.get("email", ""), request.form.get("name", ""))
    except DomainError as error:
        return render_dialog("members/form.html", status=error.status_code, member=member,
                      values=request.form, lists=[], error=error.message, invalid=error.field)
    return row_answer(member, f"Saved {member.email}.", close_modal=True)


@bp.post("/<int:member_id>/active")
@require_writer
def toggle_active(member_id):
    """Deactivate an active member or reactivate an inactive one."""
    member = directory.get_member(member_id)
    try:
        services.set_member_active(member, not member.active)
    except HardBounced as error:  # Postfix skips hard-bounced members: activating alone would send nothing
        return notice_or_back(error.message, url_for("members.bounces", member_id=member.id), "error")
    undo = {"url": url_for("members.toggle_active", member_id=member.id), "target": "#flashes", "fields": []}
    return row_answer(member, f"{member.email} is now {'active' if member.active else 'inactive'}.", undo=undo)


@bp.post("/<int:member_id>/delete")
@require_writer
def delete(member_id):
    """Delete a member and their subscriptions (after a confirmation page without JavaScript)."""
    member = directory.get_member(member_id)
    if needs_confirmation():
        return confirmation(f"Delete {member.email}?", "The member, their subscriptions and their place on every list "
                            "go; their bounce history stays, without a member. This cannot be undone.",
                            url_for("members.index", q=member.email), "Delete")
    services.delete_member(member)
    return notice_or_back(f"Deleted {member.email}.", url_for("members.index"), trigger={"members-changed": True})


@bp.get("/<int:member_id>/lists")
@require_writer
def lists_form(member_id):
    """The form to choose which lists a member is on."""
    member = directory.get_member(member_id)
    return render_dialog("members/lists.html", member=member, lists=subscriptions.list_choices())


@bp.post("/<int:member_id>/lists")
@require_writer
def set_lists(member_id):
    """Subscribe a member to exactly the ticked lists."""
    member = directory.get_member(member_id)
    added, removed = subscriptions.set_subscriptions(member, request.form.getlist("list_ids"))
    return row_answer(member, f"Lists saved for {member.email} ({len(added)} added, {len(removed)} removed).", close_modal=True)


@bp.get("/export.csv")
@require_login
def export():
    """Download the members matching the current search and filters as CSV."""
    return csv_download("members.csv", COLUMNS, member_rows(MemberQuery.from_args(request.args)))


def row_answer(member, message, close_modal=False, undo=None):
    """After a change to one member: for htmx the message (with its Undo) in the status region, and
    the table refreshed, so the row, the count and the filters stay true (a member deactivated
    under "active only" leaves the table); a redirect with the message otherwise."""
    trigger = {"close-modal": True, "members-changed": True} if close_modal else {"members-changed": True}
    return notice_or_back(message, url_for("members.index"), trigger=trigger, undo=undo)
