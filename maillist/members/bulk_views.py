"""Bulk work on the members page: act on the ticked members or all matching the filters, or export them."""

from flask import request, url_for

from maillist.csv_download import csv_download
from maillist.directory import get_list
from maillist.htmx import confirmation, is_htmx, notice_or_back
from maillist.members import bp, bulk
from maillist.members.csv_export import COLUMNS, member_rows
from maillist.members.selection import MAX_TICKED, TICKED, Selection
from maillist.permissions import require_login, require_writer
from maillist.validation import whole_number

# What each action asks first and says after; {n} members, {list} the list's address.
QUESTIONS = {
    bulk.DEACTIVATE: ("Deactivate {n}?", "They stop receiving list mail; their subscriptions and histories stay."),
    bulk.ACTIVATE: ("Activate {n}?", "They receive list mail again on the lists they are subscribed to."),
    bulk.SUBSCRIBE: ("Subscribe {n} to {list}?", "They receive {list}'s mail from its next message."),
    bulk.UNSUBSCRIBE: ("Unsubscribe {n} from {list}?", "They stop receiving {list}'s mail; they stay members."),
    bulk.RESET_BOUNCES: ("Reset the bounce status of {n}?", "Counts go to 0, statuses to clean, and they are "
                         "reactivated; their histories are kept. This cannot be undone."),
    bulk.DELETE: ("Delete {n}?", "The members, their subscriptions and their place on every list go; their bounce "
                  "history stays, without a member. This cannot be undone."),
}
DONE = {bulk.DEACTIVATE: "Deactivated {n}.", bulk.ACTIVATE: "Activated {n}.", bulk.SUBSCRIBE: "Subscribed {n} to {list}.",
        bulk.UNSUBSCRIBE: "Unsubscribed {n} from {list}.", bulk.RESET_BOUNCES: "Reset the bounce status of {n}.",
        bulk.DELETE: "Deleted {n}."}


def members(count):
    return f"{count:,} member{'' if count == 1 else 's'}"


def chosen_list(form):
    """The list a subscribe or unsubscribe names (None for other actions)."""
    if form.get("action") not in bulk.LIST_ACTIONS:
        return None
    list_id = whole_number(form.get("to_list"), "List")
    return get_list(list_id) if list_id else None


@bp.post("/bulk")
@require_writer
def bulk_action():
    """Act on the selected members, after a confirmation that says how many and what happens."""
    form, action = request.form, request.form.get("action", "")
    selection, mailing_list = Selection.from_form(form), chosen_list(form)
    words = {"list": mailing_list.address if mailing_list else ""}
    back = url_for("members.index", **selection.query.args(page=1))
    if form.get("confirmed") != "yes":
        count, note = bulk.preview(action, selection, mailing_list)
        if not count:
            return answer(f"Nothing to do: none of the selected members would change. {note}".strip(), "info", back)
        question, consequence = QUESTIONS[action]
        return confirmation(question.format(n=members(count), **words),
                            " ".join(filter(None, (consequence.format(**words), no_undo(action, count), note))),
                            back, bulk.ACTION_LABELS[action])
    result = bulk.apply(action, selection, mailing_list)
    message = f"{DONE[action].format(n=members(len(result.changed)), **words)} {result.note}".strip()
    undo = undo_for(result, mailing_list)
    if action in bulk.UNDO and undo is None and result.changed:
        message += f" There is no Undo for a change to more than {MAX_TICKED:,} members."
    # Never a green "done" while SES still drops some of the members' mail.
    category = "error" if action == bulk.RESET_BOUNCES and result.note else "success"
    return answer(message, category, back, undo=undo)


def no_undo(action, count):
    """Why no Undo will follow this change, where one would otherwise (the confirmation says so before it is made)."""
    if action not in bulk.UNDO:
        return ""  # its consequence says it cannot be undone, or (activating) another action undoes it
    if count > MAX_TICKED:
        return f"This change is final: there is no Undo for more than {MAX_TICKED:,} members."
    if not is_htmx():
        return "This change is final here: the Undo button needs JavaScript (the opposite action undoes it)."
    return ""


def undo_for(result, mailing_list):
    """The Undo of a bulk change, where one is exact (see bulk.UNDO) and the changed members fit a form."""
    if result.action not in bulk.UNDO or not result.changed or len(result.changed) > MAX_TICKED:
        return None
    fields = {"action": bulk.UNDO[result.action], "scope": TICKED, "ids": result.changed, "confirmed": "yes"}
    if mailing_list:
        fields["to_list"] = mailing_list.id
    return {"url": url_for("members.bulk_action"), "target": "#flashes", "fields": fields}


def answer(message, category, back, undo=None):
    """The status region's message (the table refreshes itself) for htmx; otherwise back to the page."""
    return notice_or_back(message, back, category, trigger={"close-modal": True, "members-changed": True}, undo=undo)


@bp.post("/export-selection.csv")
@require_login
def export_selection():
    """Download the ticked members, or all matching the filters, as CSV (a read: every role may)."""
    selection = Selection.from_form(request.form)
    return csv_download("members.csv", COLUMNS, member_rows(selection.query, selection.conditions()))
