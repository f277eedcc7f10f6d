"""Sign-in, sign-out and changing one's own password."""

import re
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from maillist.auth import bp, services
from maillist.auth.forms import ChangePasswordForm, LoginForm
from maillist.errors import DomainError
from maillist.extensions import db, login_manager
from maillist.htmx import is_htmx
from maillist.models import User
from maillist.permissions import require_login
from maillist.users.services import MIN_PASSWORD_LENGTH, change_own_password


@login_manager.user_loader
def load_user(session_user_id):
    """Flask-Login's look-up of the signed-in user: "<id>:<session version>", both still current."""
    user_id, _, version = str(session_user_id).partition(":")
    if not (user_id.isdigit() and version.isdigit() and len(user_id) < 12):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or str(user.session_version) != version or services.session_expired():
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """Send anonymous visitors to the sign-in page (htmx gets a header, not a swapped page)."""
    target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if is_htmx():
        return "", 401, {"HX-Redirect": target}
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form and sign a user in."""
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr)
        except services.LoginRefused as refused:
            error, status = refused.message, refused.status_code
        else:
            services.start_session(user)
            return redirect(safe_next(request.args.get("next")), code=303)
    elif request.method == "POST":
        error, status = services.LOGIN_ERROR, 401
    return render_template("auth/login.html", form=form, error=error), status


def safe_next(target):
    """Only follow a `next` that is a path on this site, read the way a browser would read it.

    Browsers drop tabs and line breaks from URLs and take a backslash for a slash, so
    "/\t/evil.example" and "/\\evil.example" both mean //evil.example: normalise first, then check.
    """
    if not target:
        return url_for("index")
    cleaned = re.sub(r"[\t\n\r]", "", target).replace("\\", "/")
    parts = urlsplit(cleaned)
    if (not cleaned.startswith("/") or cleaned.startswith("//") or parts.scheme or parts.netloc
            or any(ord(char) < 32 or ord(char) == 127 for char in cleaned)):
        return url_for("index")
    return cleaned


@bp.post("/logout")
@require_login
def logout():
    """Sign the user out, here and wherever else their sessions are open."""
    services.end_all_sessions(current_user)
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@require_login
def change_password():
    """Let any signed-in user change their own password."""
    form = ChangePasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            change_own_password(current_user, form.current_password.data, form.new_password.data)
        except DomainError as refused:
            error = refused.message
        else:
            # The change ended every session of this user; this browser carries on in a new one.
            services.start_session(current_user._get_current_object())
            flash("Your password was changed.", "success")
            return redirect(url_for("auth.change_password"), code=303)
    return render_template("auth/password.html", form=form, error=error, min_password=MIN_PASSWORD_LENGTH), 400 if error else 200
