"""Staff account management, for administrators only."""

from flask import flash, redirect, render_template, url_for

from maillist.errors import DomainError, InvalidInput
from maillist.htmx import notice_or_back
from maillist.permissions import require_admin
from maillist.users import bp, services
from maillist.users.forms import PasswordResetForm, RoleForm, UserCreateForm


def render_page(form=None, error=None, status=200):
    """The users page with its create form."""
    return render_template(
        "users/index.html", users=services.list_users(), form=form or UserCreateForm(), error=error
    ), status


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
    user = services.set_role(services.get_user(user_id), form.role.data)
    # Saved as the role was chosen: the answer says so where messages go.
    return notice_or_back(f"Saved: {user.email} is now {user.role}.", url_for("users.index"))


@bp.post("/<int:user_id>/active")
@require_admin
def toggle_active(user_id):
    """Deactivate an active user or reactivate an inactive one."""
    user = services.get_user(user_id)
    services.set_active(user, not user.active)
    flash(f"{user.email} is now {'active' if user.active else 'inactive'}.", "success")
    return redirect(url_for("users.index"), code=303)


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
