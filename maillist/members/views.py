"""The members page: search, add, edit, activate and delete members."""

from flask import flash, redirect, render_template, request, url_for

from maillist.auth.decorators import require_login, require_writer
from maillist.errors import DomainError
from maillist.htmx import render
from maillist.members import bp, services


def search_args():
    """The search text, filters and paging named in the query string."""
    args = request.args
    active = {"active": True, "inactive": False}.get(args.get("active", ""))
    return {
        "query": args.get("q", ""),
        "active": active,
        "bounce_status": args.get("status") or None,
        "list_id": args.get("list", type=int),
        "page": args.get("page", 1, type=int),
        "per_page": args.get("per_page", 25, type=int),
    }


@bp.get("/")
@require_login
def index():
    """List members, as a page or (for htmx) just the table."""
    criteria = search_args()
    members, total = services.search_members(**criteria)
    return render(
        "members/index.html",
        "members/_table.html",
        members=members,
        total=total,
        criteria=criteria,
        lists=services.all_lists(),
        form_values={},
        error=None,
    )


@bp.post("/")
@require_writer
def create():
    """Add a member; a refused address re-shows the form with what was typed."""
    form = request.form
    try:
        member = services.add_member(form.get("email", ""), form.get("name", ""), form.getlist("lists"))
    except DomainError as error:
        criteria = search_args()
        members, total = services.search_members(**criteria)
        page = render_template(
            "members/index.html", members=members, total=total, criteria=criteria,
            lists=services.all_lists(), form_values=form, error=error.message,
        )
        return page, error.status_code
    flash(f"Added {member.email}.", "success")
    return redirect(url_for("members.index"), code=303)


@bp.post("/<int:member_id>/edit")
@require_writer
def edit(member_id):
    """Change a member's address or name."""
    member = services.update_member(services.get_member(member_id), request.form.get("email", ""), request.form.get("name", ""))
    flash(f"Saved {member.email}.", "success")
    return redirect(url_for("members.index"), code=303)


@bp.post("/<int:member_id>/active")
@require_writer
def toggle_active(member_id):
    """Deactivate an active member or reactivate an inactive one."""
    member = services.get_member(member_id)
    services.set_member_active(member, not member.active)
    flash(f"{member.email} is now {'active' if member.active else 'inactive'}.", "success")
    return redirect(url_for("members.index"), code=303)


@bp.post("/<int:member_id>/delete")
@require_writer
def delete(member_id):
    """Delete a member and their subscriptions."""
    member = services.get_member(member_id)
    services.delete_member(member)
    flash(f"Deleted {member.email}.", "success")
    return redirect(url_for("members.index"), code=303)
