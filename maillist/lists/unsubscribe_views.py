"""The public one-click unsubscribe pages: no sign-in, no cookie, no CSRF token (the signed token is the authority)."""

from flask import Blueprint, abort, render_template, request

from maillist.lists import unsubscribe as one_click

bp = Blueprint("unsubscribe", __name__)


@bp.get("/<token>")
def confirm(token):
    """A page with a button: link scanners fetch URLs, so a GET changes nothing."""
    mailing_list, member = read_or_404(token)
    return render_template("lists/unsubscribe.html", mailing_list=mailing_list, member=member, done=False)


@bp.post("/<token>")
def unsubscribe(token):
    """RFC 8058's POST (`List-Unsubscribe=One-Click`), from a mail client or the page's button."""
    if request.form.get("List-Unsubscribe") != "One-Click":
        abort(400, description="This address takes List-Unsubscribe=One-Click only.")
    mailing_list, member = read_or_404(token)
    one_click.unsubscribe(mailing_list, member, via="web")
    return render_template("lists/unsubscribe.html", mailing_list=mailing_list, member=member, done=True)


def read_or_404(token):
    try:
        return one_click.read_token(token)
    except one_click.BadUnsubscribeToken:
        abort(404, description="This unsubscribe link is not valid. Use the link in a recent message from the list.")
