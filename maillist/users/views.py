"""Staff account management, for administrators only."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from maillist.errors import DomainError, InvalidInput
from maillist.htmx import confirmation, fragment, is_htmx, message_and_go, needs_confirmation, notice_or_back
from maillist.permissions import require_admin
from maillist.users import bp, services
from maillist.users.forms import PasswordResetForm, RoleForm, UserCreateForm


def render_page(form=None, error=None, status=200):
    """The users page with its create form."""
    return render_template(
        "users/index.html", users=services.list_users(), form=form or UserCreateForm(), error=error,
        min_password=services.MIN_PASSWORD_LENGTH), status


@bp.get("/")
@require_admin
def index():
    """List staff accounts."""
    return render_page()


@bp.post("/")
@require_admin
def create():
    """Create a staff account."""
    form = UserCreateForm()
    if not form.validate():
        return render_page(form, "Email and password are required.", 400)
    try:
        user = services.create_user(form.email.data, form.password.data, form.role.data, form.name.data)
    except DomainError as error:
        # The form again with what was typed (the password aside) and the reason beside it.
        form.password.data = ""
        return render_page(form, error.message, error.status_code)
    flash(f"Created {user.email}.", "success")
    return redirect(url_for("users.index"), code=303)


@bp.post("/<int:user_id>/role")
@require_admin
def change_role(user_id):
    """Give a user another role."""
    form = RoleForm()
    if not form.validate():
        raise InvalidInput("Choose a valid role.")
    user = services.get_user(user_id)
    try:
        services.set_role(user, form.role.data)
    except DomainError as error:
        if not is_htmx():
            raise
        # The select goes back to the role in force, and the reason shows where messages go.
        return fragment("users/_role_form.html", user=services.get_user(user_id), notices=[("error", error.message)],
                        status=error.status_code)
    message = f"Saved: {user.email} is now {user.role}."
    if is_htmx():
        return fragment("users/_role_form.html", user=user, notices=[("success", message)])
    return notice_or_back(message, url_for("users.index"))


@bp.post("/<int:user_id>/active")
@require_admin
def toggle_active(user_id):
    """Deactivate an active user or reactivate an inactive one."""
    user = services.get_user(user_id)
    if user.active and needs_confirmation():
        return confirmation(f"Deactivate {user.email}?", "They are signed out everywhere and cannot sign in until an "
                            "administrator activates them again.", url_for("users.index"), "Deactivate")
    services.set_active(user, not user.active, by=current_user)
    return message_and_go(f"{user.email} is now {'active' if user.active else 'inactive'}.", url_for("users.index"))


@bp.post("/<int:user_id>/password")
@require_admin
def reset_password(user_id):
    """Set another user's password."""
    form = PasswordResetForm()
    if not form.validate():
        raise InvalidInput("Type a new password.")
    user = services.set_password(services.get_user(user_id), form.password.data)
    flash(f"Password changed for {user.email}.", "success")
    return redirect(url_for("users.index"), code=303)
