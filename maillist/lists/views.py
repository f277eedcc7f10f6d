"""The lists page: create, edit, deactivate and delete lists, and manage subscribers."""

from flask import flash, redirect, render_template, request, url_for

from maillist.auth.decorators import require_login, require_writer
from maillist.errors import DomainError
from maillist.lists import bp, services
from maillist.members.services import get_member, search_members


def render_index(form_values=None, error=None, status=200):
    """The lists page with its create form."""
    return render_template(
        "lists/index.html", lists=services.lists_with_counts(), form_values=form_values or {}, error=error
    ), status


@bp.get("/")
@require_login
def index():
    """List the mailing lists with subscriber counts."""
    return render_index()


@bp.post("/")
@require_writer
def create():
    """Create a list; a refused address re-shows the form with what was typed."""
    form = request.form
    try:
        mailing_list = services.add_list(form.get("address", ""), form.get("name", ""), form.get("description", ""))
    except DomainError as error:
        return render_index(form, error.message, error.status_code)
    flash(f"Created list {mailing_list.address}.", "success")
    return redirect(url_for("lists.detail", list_id=mailing_list.id), code=303)


@bp.get("/<int:list_id>")
@require_login
def detail(list_id):
    """Show one list and its subscribers."""
    mailing_list = services.get_list(list_id)
    page = request.args.get("page", 1, type=int)
    members, total = search_members(query=request.args.get("q", ""), list_id=list_id, page=page, per_page=50)
    return render_template("lists/detail.html", mailing_list=mailing_list, members=members, total=total, page=page)


@bp.post("/<int:list_id>/edit")
@require_writer
def edit(list_id):
    """Change a list's name and description."""
    mailing_list = services.update_list(services.get_list(list_id), request.form.get("name"), request.form.get("description"))
    flash(f"Saved {mailing_list.address}.", "success")
    return redirect(url_for("lists.detail", list_id=list_id), code=303)


@bp.post("/<int:list_id>/active")
@require_writer
def toggle_active(list_id):
    """Deactivate an active list or reactivate an inactive one."""
    mailing_list = services.get_list(list_id)
    services.set_list_active(mailing_list, not mailing_list.active)
    flash(f"{mailing_list.address} is now {'active' if mailing_list.active else 'inactive'}.", "success")
    return redirect(url_for("lists.detail", list_id=list_id), code=303)


@bp.post("/<int:list_id>/delete")
@require_writer
def delete(list_id):
    """Delete a list and its subscriptions."""
    mailing_list = services.get_list(list_id)
    services.delete_list(mailing_list)
    flash(f"Deleted list {mailing_list.address}.", "success")
    return redirect(url_for("lists.index"), code=303)


@bp.post("/<int:list_id>/subscribe")
@require_writer
def subscribe(list_id):
    """Subscribe members, by address, to this list."""
    mailing_list = services.get_list(list_id)
    emails = request.form.get("emails", "").replace(",", " ").split()
    added = services.subscribe(mailing_list, emails)
    flash(f"Subscribed {len(added)} member(s).", "success")
    return redirect(url_for("lists.detail", list_id=list_id), code=303)


@bp.post("/<int:list_id>/unsubscribe/<int:member_id>")
@require_writer
def unsubscribe(list_id, member_id):
    """Remove one member from this list."""
    services.unsubscribe(services.get_list(list_id), get_member(member_id))
    flash("Unsubscribed.", "success")
    return redirect(url_for("lists.detail", list_id=list_id), code=303)
