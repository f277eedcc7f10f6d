"""`flask members ...`: members from the shell."""

import json

import click

from maillist import directory
from maillist.bounce_addresses import bounce_address
from maillist.cli_support import Group
from maillist.directory import get_list_by_address
from maillist.members import csv_import, services


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
    """Print the signed bounce address list mail from --list to EMAIL leaves with today."""
    member = directory.get_member_by_email(email)
    mailing_list = get_list_by_address(list_address)
    click.echo(bounce_address(mailing_list.address, member.id, member.email))


def printable(text):
    """`text` with control characters shown as escapes: a file's contents never drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@members_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Only say what each row would do; change nothing.")
def import_members(file, dry_run):
    """Add or update members from a CSV FILE (`-` for standard input) with the columns name,email,lists
    (lists separated by `;`), as the web import does: every accepted row in one transaction, or nothing.

    Each skipped row is named with its reason (with --dry-run, every row that would change too),
    then one summary line. A file that cannot be read at all changes nothing and exits 1.
    """
    data = file.read(csv_import.MAX_IMPORT_BYTES + 1)
    name = getattr(file, "name", "<stdin>")
    plan = csv_import.plan_import(data) if dry_run else csv_import.apply_import(data, "standard input" if name == "<stdin>" else name)
    for row in plan.rows:
        if row.action == "skip":
            click.echo(f"line {row.line}: skipped {printable(row.email) or '(no address)'}: {printable(row.reason)}")
        elif dry_run and row.action in ("add", "update"):
            said = f": {printable(row.reason)}" if row.reason else ""
            click.echo(f"line {row.line}: would {row.action} {row.email}{said}")
    summary = plan.summary
    verbs = ("would add", "would update") if dry_run else ("added", "updated")
    click.echo(f"{verbs[0]} {summary['add']}, {verbs[1]} {summary['update']}, unchanged {summary['unchanged']}, "
               f"skipped {summary['skip']}" + (" (dry run: nothing changed)" if dry_run else ""))
