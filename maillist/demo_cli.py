"""`flask demo load`: see maillist.demo."""

import click

from maillist.cli_support import Group
from maillist import demo


@click.group("demo", cls=Group)
def demo_cli():
    """Sample data to look around with."""


@demo_cli.command("load")
def load_command():
    """Fill an empty database with sample lists, members and SES notifications (signatures not checked)."""
    try:
        lists, members, applied = demo.load()
    except demo.DemoRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"loaded {lists} lists and {members} members, and ran {applied} sample SES notifications through the "
               "intake (signature checking skipped: they are not signed by AWS)")
