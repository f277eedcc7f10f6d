"""`flask users ...`: staff accounts from the shell."""

import sys

import click

from maillist.users import services
from maillist.cli_support import Group
from maillist.vocabulary import ROLES, VIEWER


def read_password(password_stdin, prompt):
    """A password from standard input or from an interactive prompt, typed twice."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


@click.group("users", cls=Group)
def users_cli():
    """Manage staff accounts."""


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default=VIEWER, show_default=True)
@click.option("--name", default="", help="The person's name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email, role, name, password_stdin):
    """Create a staff account."""
    password = read_password(password_stdin, "Password")
    user = services.create_user(email, password, role=role, name=name)
    click.echo(f"Created {user.role} {user.email}")


@users_cli.command("list")
def list_users():
    """List staff accounts."""
    for user in services.list_users():
        state = "active" if user.active else "inactive"
        last = user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{user.role}\t{state}\tlast login {last}")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(email, password_stdin):
    """Set a staff account's password."""
    user = services.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    services.set_password(user, read_password(password_stdin, "New password"))
    click.echo(f"Password changed for {user.email}")


@users_cli.command("ensure-admin")
@click.option("--email", envvar="MAILLIST_ADMIN_EMAIL", default="admin@example.com", show_default=True)
def ensure_admin(email):
    """Create a first administrator with a random password when there is no user at all."""
    password = services.ensure_first_admin(email)
    if password is None:
        click.echo("Staff users exist already; sign in with yours (flask users set-password EMAIL resets one).")
        return
    click.echo(f"Created administrator {email} with password: {password}")
