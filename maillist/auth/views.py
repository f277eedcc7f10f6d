"""Sign-in, sign-out and changing one's own password."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from maillist.auth import bp, services
from maillist.users.services import change_own_password
from maillist.auth.decorators import require_login
from maillist.auth.forms import ChangePasswordForm, LoginForm
from maillist.errors import DomainError
from maillist.extensions import db, login_manager
from maillist.htmx import is_htmx
from maillist.models import User


@login_manager.user_loader
def load_user(user_id):
    """Flask-Login's look-up of the signed-in user."""
    return db.session.get(User, int(user_id)) if str(user_id).isdigit() and len(str(user_id)) < 12 else None


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
            login_user(user)
            return redirect(safe_next(request.args.get("next")), code=303)
    elif request.method == "POST":
        error, status = services.LOGIN_ERROR, 401
    return render_template("auth/login.html", form=form, error=error), status


def safe_next(target):
    """Only follow a `next` that stays on this site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("index")


@bp.post("/logout")
@require_login
def logout():
    """Sign the user out."""
    logout_user()
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
            flash("Your password was changed.", "success")
            return redirect(url_for("auth.change_password"), code=303)
    return render_template("auth/password.html", form=form, error=error), 400 if error else 200
