"""A member's bounce history (a modal on the members page) and resetting their bounce status."""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from maillist import directory
from maillist.bounces.services import HISTORY_PAGE_SIZE, bounce_history, reset_bounce_status
from maillist.extensions import db
from maillist.htmx import confirmation, fragment, is_htmx, needs_confirmation, render_dialog
from maillist.integrations import ses_suppression
from maillist.members import bp
from maillist.permissions import require_login, require_writer
from maillist.validation import MAX_PAGE, whole_number


def history_context(member, page):
    rows, total = bounce_history(member, page)
    pages = max((total - 1) // HISTORY_PAGE_SIZE + 1, 1)
    return dict(member=member, events=rows, total=total, page=page, pages=pages,
                ses_removal_offered=ses_suppression.aws_configured())


@bp.get("/<int:member_id>")
@require_login
def row(member_id):
    """One member: their table row for htmx, the members page searched for them otherwise."""
    member = directory.get_member(member_id)
    if is_htmx():
        return fragment("members/_row.html", member=member)
    return redirect(url_for("members.index", q=member.email))


@bp.get("/<int:member_id>/bounces")
@require_login
def bounces(member_id):
    """A member's bounce history, newest first: the dialog, its paged list alone, or a page."""
    member = directory.get_member(member_id)
    context = history_context(member, whole_number(request.args.get("page"), "Page", 1, maximum=MAX_PAGE))
    if request.headers.get("HX-Target") == "bounce-history":
        return fragment("members/_bounce_history.html", **context)
    return render_dialog("members/bounces.html", **context)


@bp.post("/<int:member_id>/bounces/reset")
@require_writer
def reset_bounces(member_id):
    """Clear a member's bounce count and status and reactivate them, keeping the history (after a
    confirmation page without JavaScript)."""
    member = directory.get_member(member_id)
    if needs_confirmation():
        warning = (" SES still has the address on its suppression list and drops mail to it until it is removed there."
                   if member.ses_suppressed else "")
        return confirmation(f"Reset the bounce status of {member.email}?",
                            "The count goes to 0, the status to clean, and the member is reactivated; the history is kept."
                            + warning, url_for("members.bounces", member_id=member.id), "Reset Bounce Status")
    member = reset_bounce_status(member, current_user.email)
    said_by_ses = ""
    if request.form.get("ses_suppression") == "remove":
        said_by_ses = " " + ses_suppression.remove_with_message(member.email)
        db.session.refresh(member)
    message, category = f"Bounce status reset; {member.email} is active again.{said_by_ses}", "success"
    if member.ses_suppressed:  # never a green "active again" while SES drops every message
        message, category = (f"Bounce status reset, but {member.email} is still suppressed at SES: mail to it will be "
                             f"dropped until it is removed there (flask ses suppression remove {member.email})."
                             f"{said_by_ses}"), "error"
    if is_htmx():
        # The history answers the request; the member's row refreshes itself on the event.
        return fragment("members/_bounce_history.html", trigger={f"member-{member.id}-changed": True},
                        message=message, message_category=category, **history_context(member, 1))
    flash(message, category)
    return redirect(url_for("members.bounces", member_id=member.id), code=303)
