"""`flask bounces ...`: bounce emails, clean-up and figures from the shell."""

import sys

import click

from maillist.bounces import maintenance
from maillist.bounces.email_intake import log_result, process_dsn, report_key
from maillist.bounces.stats import dashboard_figures
from maillist.vocabulary import BOUNCE_STATUSES


@click.group("bounces")
def bounces_cli():
    """Bounce records."""


@bounces_cli.command("process-dsn")
@click.argument("source", type=click.File("rb"), default="-")
def process_dsn_command(source):
    """Apply a bounce email (a DSN) read from SOURCE or standard input, as Postfix pipes it.

    Exits 75 (try again later) when the database cannot store it, 0 otherwise.
    """
    raw = source.read()
    result = process_dsn(raw)
    log_result(result, report_key(raw) if raw else "")
    click.echo(f"{result.outcome} {result.detail}".rstrip())
    sys.exit(result.exit_code)


@bounces_cli.command("cleanup")
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True, help="Keep this many days.")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def cleanup_command(days, dry_run):
    """Delete bounce logs and processed-message records older than --days, in small batches."""
    counts = maintenance.cleanup(days, dry_run)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {counts['bounce_log']} bounce log rows and {counts['processed_report']} processed-message records older than {days} days")


@bounces_cli.command("stats")
def stats_command():
    """Print bounce figures: member states, events, and the dashboard's windows."""
    totals = maintenance.totals()
    members = totals["members"]
    by_status = ", ".join(f"{members.get(status, 0)} {status}" for status in BOUNCE_STATUSES)
    click.echo(f"members: {by_status}; {totals['inactive']} inactive")
    for event, bounce_type, count in sorted(totals["events"], key=lambda row: (row[0], row[1] or "")):
        click.echo(f"events: {event}{' ' + bounce_type if bounce_type else ''}: {count}")
    click.echo(f"processed messages: {totals['processed']}")
    for window in dashboard_figures():
        rate = "unknown (no deliveries recorded)" if window.bounce_rate is None else f"{window.bounce_rate:.2%}"
        complaint_rate = "unknown" if window.complaint_rate is None else f"{window.complaint_rate:.3%}"
        click.echo(f"{window.label}: {window.bounces} bounces, {window.complaints} complaints, "
                   f"bounce rate {rate}, complaint rate {complaint_rate}")
