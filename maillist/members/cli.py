"""`flask members ...`: members from the shell."""

import json

import click

from maillist import directory
from maillist.bounce_addresses import bounce_address
from maillist.cli_support import Group
from maillist.directory import get_list_by_address
from maillist.members import services


@click.group("members", cls=Group)
def members_cli():
    """Manage list members."""


@members_cli.command("add")
@click.argument("email")
@click.option("--name", default="", help="The member's name.")
@click.option("--list", "list_addresses", multiple=True, metavar="ADDRESS", help="Subscribe to this list (repeatable).")
def add_member(email, name, list_addresses):
    """Add a member, optionally subscribed to lists."""
    member = services.add_member(email, name, list_addresses)
    click.echo(f"Added {member.email}")


@members_cli.command("show")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def show_member(email, as_json):
    """Show a member's state, lists and bounce record."""
    summary = services.member_summary(directory.get_member_by_email(email))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    for key, value in summary.items():
        if key == "lists":
            value = ", ".join(value) or "(none)"
        click.echo(f"{key:15} {value}")


@members_cli.command("bounce-address")
@click.argument("email")
@click.option("--list", "list_address", required=True, metavar="ADDRESS", help="The list the mail comes from.")
def bounce_address_command(email, list_address):
    """Print the signed bounce address list mail from --list to EMAIL leaves with."""
    member = directory.get_member_by_email(email)
    mailing_list = get_list_by_address(list_address)
    click.echo(bounce_address(mailing_list.address, member.id))
