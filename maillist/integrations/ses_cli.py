"""`flask ses suppression ...`: SES's account-level suppression list against the members."""

import json

import click

from maillist.cli_support import Group, one_line
from maillist.aws import AwsError
from maillist.integrations import ses_suppression


@click.group("ses", cls=Group)
def ses_cli():
    """Amazon SES, as maillist sees it."""


@ses_cli.group("suppression")
def suppression_cli():
    """SES's account-level suppression list (SES drops mail to the addresses on it)."""


@suppression_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per address.")
def list_command(as_json):
    """Every address on SES's suppression list, with SES's reason."""
    for item in aws_call(ses_suppression.listed):
        if as_json:
            click.echo(json.dumps({"email": item.email, "reason": item.reason, "since": item.since}))
        else:
            click.echo(f"{item.email}\t{item.reason}\t{item.since}")


@suppression_cli.command("remove")
@click.argument("emails", nargs=-1, required=True)
def remove_command(emails):
    """Take addresses off SES's suppression list (audited)."""
    for email in emails:
        outcome = aws_call(ses_suppression.remove, email.strip().lower())
        click.echo(f"{email}: {'removed' if outcome == ses_suppression.REMOVED else 'was not on the list'}")


@suppression_cli.command("compare")
@click.option("--json", "as_json", is_flag=True, help="The comparison as one JSON object.")
def compare_command(as_json):
    """SES's list against the members: above all, active members SES silently drops."""
    found = ses_suppression.compare(aws_call(ses_suppression.listed))
    if as_json:
        click.echo(json.dumps(found))
        return
    titles = {
        "active_here_dropped_by_ses": "active here, but SES drops their mail (Reset Bounce Status can remove them from SES's list)",
        "inactive_here": "inactive here and on SES's list",
        "not_members": "on SES's list, not members",
        "marked_but_not_listed": "marked suppressed here, no longer on SES's list",
    }
    for key, title in titles.items():
        click.echo(f"{title}: {len(found[key])}")
        for email in found[key]:
            click.echo(f"  {email}")


def aws_call(function, *args):
    """`function(*args)`, AWS's errors as one line (maillist.cli_support)."""
    try:
        return function(*args)
    except AwsError as error:
        raise one_line(error) from None
