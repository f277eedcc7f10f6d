"""Forms for the administrators' Users page."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from maillist.vocabulary import ROLES, VIEWER


class UserCreateForm(FlaskForm):
    """A new staff account."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    name = StringField("Name", validators=[Length(max=200)])
    role = SelectField("Role", choices=list(ROLES), default=VIEWER)
    password = PasswordField("Password", validators=[DataRequired()])


class RoleForm(FlaskForm):
    """A new role for a user."""

    role = SelectField("Role", choices=list(ROLES))


class PasswordResetForm(FlaskForm):
    """An admin setting another user's password."""

    password = PasswordField("New password", validators=[DataRequired()])
