"""The lists pages: create, edit, deactivate and delete lists; search, add and remove subscribers."""

from flask import flash, redirect, request, url_for

from maillist import directory, subscriptions
from maillist.csv_download import csv_download
from maillist.errors import DomainError
from maillist.htmx import (confirmation, fragment, is_htmx, message_and_go, needs_confirmation, notice_or_back, render,
                           render_dialog)
from maillist.lists import bp, services
from maillist.members.csv_export import COLUMNS, member_rows
from maillist.members.search import MemberQuery, search_members
from maillist.permissions import require_login, require_writer


@bp.get("/")
@require_login
def index():
    """List the mailing lists with subscriber counts."""
    return render("lists/index.html", "lists/_table.html", lists=services.lists_with_counts())


@bp.get("/new")
@require_writer
def new():
    """The form for a new list (a modal for htmx, a page otherwise)."""
    return render_dialog("lists/form.html", mailing_list=None, values={}, error=None)


@bp.post("/")
@require_writer
def create():
    """Create a list; a refused address re-shows the form with what was typed."""
    form = request.form
    try:
        mailing_list = services.add_list(form.get("address", ""), form.get("name", ""), form.get("description", ""),
                                         form.get("post_policy"), form.get("allowed_senders", ""), form.get("owners", ""),
                                         form.get("subject_prefix", ""), form.get("footer", ""))
    except DomainError as error:
        return render_dialog("lists/form.html", status=error.status_code, mailing_list=None,
                      values=form, error=error.message, invalid=error.field)
    return notice_or_back(f"Created list {mailing_list.address}.", url_for("lists.detail", list_id=mailing_list.id),
                          trigger={"close-modal": True, "lists-changed": True})


def subscriber_query(list_id):
    """The subscriber search on a list's page: the members page's query, pinned to this list."""
    query = MemberQuery.from_args(request.args)
    return MemberQuery(text=query.text, list_id=list_id, sort=query.sort, descending=query.descending,
                       page=query.page, per_page=query.per_page)


@bp.get("/<int:list_id>")
@require_login
def detail(list_id):
    """Show one list and its subscribers (for htmx: just the subscriber table)."""
    mailing_list = directory.get_list(list_id)
    query = subscriber_query(list_id)
    return render("lists/detail.html", "lists/_subscribers.html", mailing_list=mailing_list,
                  result=search_members(query), query=query, error=None)


@bp.get("/<int:list_id>/edit")
@require_writer
def edit_form(list_id):
    """The form to change a list's name and description."""
    mailing_list = directory.get_list(list_id)
    values = {"address": mailing_list.address, "name": mailing_list.name, "description": mailing_list.description,
              "post_policy": mailing_list.post_policy, "allowed_senders": mailing_list.allowed_senders,
              "owners": mailing_list.owners, "subject_prefix": mailing_list.subject_prefix, "footer": mailing_list.footer}
    return render_dialog("lists/form.html", mailing_list=mailing_list, values=values, error=None)


@bp.post("/<int:list_id>/edit")
@require_writer
def edit(list_id):
    """Change a list's name and description."""
    mailing_list = directory.get_list(list_id)
    try:
        form = request.form
        services.update_list(mailing_list, form.get("name"), form.get("description"),
                             form.get("post_policy"), form.get("allowed_senders", ""), form.get("owners"),
                             form.get("subject_prefix"), form.get("footer"))
    except DomainError as error:
        return render_dialog("lists/form.html", status=error.status_code,
                      mailing_list=mailing_list, values=request.form, error=error.message, invalid=error.field)
    return list_changed(mailing_list, f"Saved {mailing_list.address}.")


@bp.post("/<int:list_id>/active")
@require_writer
def toggle_active(list_id):
    """Deactivate an active list or reactivate an inactive one."""
    mailing_list = directory.get_list(list_id)
    services.set_list_active(mailing_list, not mailing_list.active)
    return list_changed(mailing_list, f"{mailing_list.address} is now {'active' if mailing_list.active else 'inactive'}.")


@bp.post("/<int:list_id>/delete")
@require_writer
def delete(list_id):
    """Delete a list and its subscriptions (after a confirmation page without JavaScript)."""
    mailing_list = directory.get_list(list_id)
    if needs_confirmation():
        return confirmation(f"Delete the list {mailing_list.address}?", "Its subscriptions go and Postfix stops taking mail "
                            "for the address; the members stay. This cannot be undone.",
                            url_for("lists.detail", list_id=mailing_list.id), "Delete list")
    services.delete_list(mailing_list)
    return message_and_go(f"Deleted list {mailing_list.address}.", url_for("lists.index"))


@bp.post("/<int:list_id>/subscribe")
@require_writer
def subscribe(list_id):
    """Subscribe members, by address, to this list: every address that is a member, each one reported."""
    mailing_list = directory.get_list(list_id)
    texts = request.form.get("emails", "").replace(",", " ").replace(";", " ").split()[:MAX_PASTED]
    report = subscriptions.subscribe_what_can_be(mailing_list, texts)
    message = subscribe_message(report)
    # What could not be subscribed stays in the box, to correct or to add as members first.
    leftover = " ".join(report.unknown + report.invalid)
    if is_htmx():
        query = subscriber_query(list_id)
        return fragment("lists/_subscribers.html", mailing_list=mailing_list, result=search_members(query), query=query,
                        error=None, message=message, emails=leftover, trigger={"lists-changed": True} if report.added else None)
    flash(message, "success" if not (report.unknown or report.invalid) else "error")
    return redirect(url_for("lists.detail", list_id=list_id), code=303)


MAX_PASTED = 1000


def subscribe_message(report):
    """One sentence per kind of outcome, naming the addresses."""
    parts = [f"Subscribed {len(report.added)}{': ' + ', '.join(report.added) if report.added else ''}."]
    if report.already:
        parts.append(f"Already subscribed: {', '.join(report.already)}.")
    if report.unknown:
        parts.append(f"Not members yet (add them on the Members page, then subscribe): {', '.join(report.unknown)}.")
    if report.invalid:
        parts.append(f"Not addresses: {', '.join(report.invalid)}.")
    return " ".join(parts)


@bp.post("/<int:list_id>/unsubscribe/<int:member_id>")
@require_writer
def unsubscribe(list_id, member_id):
    """Remove one member from this list (after a confirmation page without JavaScript)."""
    mailing_list, member = directory.get_list(list_id), directory.get_member(member_id)
    if needs_confirmation():
        return confirmation(f"Unsubscribe {member.email} from {mailing_list.address}?",
                            "They stop receiving this list's mail; the member and their other lists stay.",
                            url_for("lists.detail", list_id=list_id), "Unsubscribe")
    subscriptions.unsubscribe(mailing_list, member)
    if is_htmx():
        # The row goes; the message says so, with an Undo that subscribes them again.
        undo = {"url": url_for("lists.subscribe", list_id=list_id), "target": "#subscribers", "fields": [("emails", member.email)]}
        return fragment("_flashes_oob.html", notices=[("success", f"Unsubscribed {member.email} from {mailing_list.address}.")],
                        undo=undo)
    flash("Unsubscribed.", "success")
    return redirect(url_for("lists.detail", list_id=list_id), code=303)


@bp.get("/<int:list_id>/export.csv")
@require_login
def export(list_id):
    """Download this list's subscribers as CSV."""
    mailing_list = directory.get_list(list_id)
    filename = mailing_list.address.replace("@", "_at_") + ".csv"
    return csv_download(filename, COLUMNS, member_rows(MemberQuery(list_id=list_id)))


def list_changed(mailing_list, message):
    """After a change to a list's settings: reload its page (htmx) or redirect with a message."""
    return message_and_go(message, url_for("lists.detail", list_id=mailing_list.id))
