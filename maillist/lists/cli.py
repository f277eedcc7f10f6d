"""`flask lists ...`: mailing lists from the shell."""

import sys

import click
from flask import current_app

from maillist import directory, subscriptions
from maillist.cli_support import Group
from maillist.integrations.ses_cli import aws_call, ses_cli
from maillist.lists import delivery, identities, posting, services
from maillist.lists import unsubscribe as one_click


@click.group("lists", cls=Group)
def lists_cli():
    """Manage mailing lists."""


@lists_cli.command("add")
@click.argument("address")
@click.option("--name", required=True, help="The list's display name.")
@click.option("--description", default="", help="What the list is for.")
def add_list(address, name, description):
    """Create a mailing list."""
    mailing_list = services.add_list(address, name, description)
    click.echo(f"Created list {mailing_list.address}")


@lists_cli.command("subscribe")
@click.argument("address")
@click.argument("emails", nargs=-1, required=True)
def subscribe(address, emails):
    """Subscribe existing members to a list (all or none)."""
    mailing_list = directory.get_list_by_address(address)
    added = subscriptions.subscribe(mailing_list, emails)
    click.echo(f"Subscribed {len(added)} member(s) to {mailing_list.address}")


@lists_cli.command("list")
def list_lists():
    """List the mailing lists with their subscriber counts."""
    for mailing_list, total, active in services.lists_with_counts():
        state = "active" if mailing_list.active else "inactive"
        click.echo(f"{mailing_list.address}\t{mailing_list.name}\t{state}\t{total} subscribed, {active} active")


@lists_cli.command("policy")
def policy():
    """Answer Postfix's policy requests on standard input: may this sender post to this list?

    Postfix runs it through spawn(8) (see postfix/master.cf.in), one process per connection.
    """

    def write(answer):
        sys.stdout.write(answer)
        sys.stdout.flush()

    posting.serve(sys.stdin, write)


@lists_cli.command("unsubscribe-mail")
@click.option("--recipient", required=True, help="The <list>-unsubscribe+<token>@ address the mail came to.")
def unsubscribe_mail(recipient):
    """Take the member a one-click unsubscribe address names off its list (Postfix's unsubscribe pipe).

    The mail on standard input is read and dropped. Exits 0 whatever the token: a forged one is
    logged, never returned to a sender anyone could have forged.
    """
    sys.stdin.buffer.read()
    try:
        mailing_list, member = one_click.read_mail_address(recipient)
    except one_click.BadUnsubscribeToken as error:
        click.echo(f"{recipient}: not unsubscribing: {error}", err=True)
        return
    done = one_click.unsubscribe(mailing_list, member, via="mail")
    click.echo(f"{member.email}: {'unsubscribed from' if done else 'was not on'} {mailing_list.address}")


@lists_cli.command("deliver")
@click.argument("address")
@click.option("--reinject", default="127.0.0.1:10025", show_default=True, metavar="HOST:PORT",
              help="Postfix's re-injection listener.")
def deliver(address, reinject):
    """Send the message on standard input to every member of the list ADDRESS (Postfix's list pipe).

    Exits 0 when sent or discarded (a post that may not go out after all is logged, never
    returned to its envelope sender), 75 when Postfix should try again later.
    """
    host, _, port = reinject.rpartition(":")
    result = delivery.deliver(address, sys.stdin.buffer.read(), host, int(port))
    if result.reason:
        click.echo(f"{address}: {result.reason}", err=True)
    click.echo(f"{address}: sent to {result.sent} member(s), {len(result.refused)} refused")
    sys.exit(result.exit_code)


@ses_cli.command("identities")
def identities_command():
    """The account's verified identities, and whose posts to each list keep their From."""
    statuses = aws_call(identities.account_identities)
    for name, status in sorted(statuses.items()):
        click.echo(f"{name}\t{status}")
    reports, unverified = identities.report(statuses, current_app.config)
    for identity in unverified:
        click.echo(f"warning: SES_VERIFIED_IDENTITIES names {identity}, which SES has not verified: "
                   "SES refuses posts that keep such a From", err=True)
    for list_report in reports:
        click.echo(identities.describe(list_report))
