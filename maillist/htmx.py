"""Helpers for answering htmx requests and plain browser requests from one view."""

import json

from flask import flash, make_response, redirect, render_template, request


def is_htmx():
    """Whether this request came from htmx and wants a fragment, not a page.

    A history restore (Back/Forward to a page htmx has no snapshot of) asks for the whole page:
    htmx 2 marks it HX-History-Restore-Request, and sends HX-Request too when
    historyRestoreAsHxRequest is on.
    """
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(page_template, fragment_template, /, status=200, url=None, form_id=None, **context):
    """Render the fragment for htmx requests and the page otherwise, marking the answer as varying.

    Fragments are rendered with `oob` true, so they can update what lies outside the swapped
    region (out-of-band). When the filter form `form_id` asked, the address bar gets `url`, the
    view's own rendering of the query with empty parameters dropped, in place of the current entry
    (links that page or sort push their own, already clean, URLs).
    """
    htmx = is_htmx()
    html = render_template(fragment_template if htmx else page_template, oob=htmx, **context)
    headers = {"Vary": "HX-Request, HX-History-Restore-Request"}
    if htmx and url and form_id and request.headers.get("HX-Trigger") == form_id:
        headers["HX-Replace-Url"] = url
    return html, status, headers


def render_dialog(template, /, status=200, **context):
    """Render a dialog template (see templates/_dialog.html): a modal for htmx, its own page otherwise."""
    html = render_template(template, as_modal=is_htmx(), **context)
    return html, status, {"Vary": "HX-Request"}


def fragment(template, /, status=200, retarget=None, reswap=None, trigger=None, **context):
    """An htmx answer: a rendered fragment, optionally sent to another target, firing events."""
    response = make_response(render_template(template, **context) if template else "", status)
    if retarget:
        response.headers["HX-Retarget"] = retarget
    if reswap:
        response.headers["HX-Reswap"] = reswap
    if trigger:
        response.headers["HX-Trigger"] = json.dumps(trigger)
    response.headers["Vary"] = "HX-Request"
    return response


def notice(message, category="success", status=200, trigger=None, undo=None):
    """An htmx answer that shows `message` in the flash area, wherever the request aimed, with an
    optional Undo (see _flashes.html)."""
    return fragment("_flashes.html", status=status, retarget="#flashes", reswap="outerHTML", trigger=trigger,
                    notices=[(category, message)], undo=undo)


def notice_or_back(message, back, category="success", trigger=None, undo=None):
    """How a write ends: for htmx, `message` where messages go (with its events and Undo); for a
    plain form, the message flashed and a 303 back to `back`."""
    if is_htmx():
        return notice(message, category, trigger=trigger, undo=undo)
    flash(message, category)
    return redirect(back, code=303)


def message_and_go(message, url, category="success"):
    """How a write that leaves the page ends: the message flashed, and the browser sent to `url`
    (HX-Redirect for htmx, a 303 otherwise)."""
    flash(message, category)
    if is_htmx():
        return "", 200, {"HX-Redirect": url}
    return redirect(url, code=303)


def needs_confirmation():
    """Whether a destructive POST still has to be confirmed: htmx asked the person already
    (hx-confirm); without JavaScript the server shows a confirmation page first."""
    return not is_htmx() and request.form.get("confirmed") != "yes"


def confirmation(question, consequence, cancel_url, button="Confirm"):
    """The confirmation step: the question, what will happen, and a form that posts the same
    request again (every field it carried, confirmed) or a way back. A page of its own, or for
    htmx a dialog whose answer lands in the status region."""
    fields = [(name, value) for name, value in request.form.items(multi=True) if name not in ("csrf_token", "confirmed")]
    return render_dialog("confirm.html", question=question, consequence=consequence, cancel_url=cancel_url,
                         button=button, action=request.path, fields=fields)
