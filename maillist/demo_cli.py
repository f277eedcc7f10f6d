"""`flask demo load`: see maillist.demo."""

import click

from maillist import demo
from maillist.cli_support import Group, progress


@click.group("demo", cls=Group)
def demo_cli():
    """Sample data to look around with."""


@demo_cli.command("load")
def load_command():
    """Fill an empty database with sample lists, members and SES notifications (signatures not checked)."""
    try:
        with progress("running sample notifications", demo.notification_count) as advance:
            lists, members, applied = demo.load(on_notification=advance)
    except demo.DemoRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"loaded {lists} lists and {members} members, and ran {applied} sample SES notifications through the "
               "intake (signature checking skipped: they are not signed by AWS)")
