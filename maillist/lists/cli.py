"""`flask lists ...`: mailing lists from the shell."""

import click

from maillist.cli_support import domain_errors_exit
from maillist import subscriptions
from maillist.lists import services


@click.group("lists")
def lists_cli():
    """Manage mailing lists."""


@lists_cli.command("add")
@click.argument("address")
@click.option("--name", required=True, help="The list's display name.")
@click.option("--description", default="", help="What the list is for.")
@domain_errors_exit
def add_list(address, name, description):
    """Create a mailing list."""
    mailing_list = services.add_list(address, name, description)
    click.echo(f"Created list {mailing_list.address}")


@lists_cli.command("subscribe")
@click.argument("address")
@click.argument("emails", nargs=-1, required=True)
@domain_errors_exit
def subscribe(address, emails):
    """Subscribe existing members to a list (all or none)."""
    mailing_list = services.get_list_by_address(address)
    added = subscriptions.subscribe(mailing_list, emails)
    click.echo(f"Subscribed {len(added)} member(s) to {mailing_list.address}")


@lists_cli.command("list")
def list_lists():
    """List the mailing lists with their subscriber counts."""
    for mailing_list, total, active in services.lists_with_counts():
        state = "active" if mailing_list.active else "inactive"
        click.echo(f"{mailing_list.address}\t{mailing_list.name}\t{state}\t{total} subscribed, {active} active")
