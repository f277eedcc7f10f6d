"""Forms for signing in and changing passwords."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from maillist.models.user import ROLES


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired()])


class ChangePasswordForm(FlaskForm):
    """The current password and a new one, typed twice."""

    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired()])
    confirm = PasswordField("Repeat new password", validators=[EqualTo("new_password", "The passwords differ.")])


class UserCreateForm(FlaskForm):
    """A new staff account."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=list(ROLES), default="viewer")
    password = PasswordField("Password", validators=[DataRequired()])


class RoleForm(FlaskForm):
    """A new role for a user."""

    role = SelectField("Role", choices=list(ROLES))


class PasswordResetForm(FlaskForm):
    """An admin setting another user's password."""

    password = PasswordField("New password", validators=[DataRequired()])
