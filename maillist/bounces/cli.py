"""`flask bounces ...`: bounce emails, clean-up and figures from the shell."""

import json
import sys

import click
from flask import current_app

from maillist.bounces import maintenance
from maillist.bounces.stats import dashboard_figures
from maillist.cli_support import Group, progress
from maillist.integrations import digests
from maillist.transports.email.dsn_parser import read_report
from maillist.transports.email.pipe import log_result, process_dsn
from maillist.transports.email.report_parts import MAX_REPORT_BYTES
from maillist.transports.sns import reprocess
from maillist.vocabulary import BOUNCE_STATUSES


@click.group("bounces", cls=Group)
def bounces_cli():
    """Bounce records."""


@bounces_cli.command("process-dsn")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--recipient", metavar="ADDRESS", help="The bounce address the report came to (Postfix passes ${recipient}).")
@click.option("--dry-run", is_flag=True, help="Only say what each file is and would do; change nothing, need no token.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: one JSON object per file, one per line.")
def process_dsn_command(files, recipient, dry_run, as_json):
    """Apply a bounce email read from FILE or standard input, as Postfix's bounce pipe hands it over.

    Exits 75 (try again later) only when the database cannot store it; 0 for anything the
    report itself holds, including reports that change nothing.
    """
    if dry_run:
        failures = sum(not describe(name, as_json) for name in files or ["-"])
        sys.exit(1 if failures else 0)
    if len(files) > 1:
        raise click.UsageError("give one report at a time (or --dry-run for several)")
    if not recipient:
        raise click.UsageError("--recipient is required: the bounce address the report came to")
    with click.open_file(files[0] if files else "-", "rb") as source:
        raw = source.read(MAX_REPORT_BYTES + 1)
    result = process_dsn(raw, recipient)
    log_result(result, recipient)
    click.echo(f"{result.outcome} {result.detail}".rstrip())
    sys.exit(result.exit_code)


def describe(name, as_json):
    """Print what the report in file `name` is and names; returns False when it could not be read."""
    try:
        with click.open_file(name, "rb") as source:
            reading = read_report(source.read(MAX_REPORT_BYTES + 1))
    except OSError as error:
        report = {"file": name, "kind": None, "recipients": [], "error": f"{type(error).__name__}: {error.strerror or error}"}
        click.echo(json.dumps(report) if as_json else f"{name}: could not be read ({report['error']})")
        return False
    report = {"file": name, **reading.as_dict(), "error": None}
    if as_json:
        click.echo(json.dumps(report))
        return True
    click.echo(f"{name}: {reading.kind}")
    for entry in report["recipients"]:
        click.echo(f"  {entry['email']}: {entry['bounce_type'] or 'not a failure'} {entry['status'] or ''} {entry['diagnostic'] or ''}".rstrip())
    return True


@bounces_cli.command("cleanup")
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True, help="Keep this many days.")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def cleanup_command(days, dry_run):
    """Delete bounce logs, processed-message records and intake counts older than --days, in small
    batches, and return soft members with no bounce for SOFT_BOUNCE_WINDOW_DAYS to clean."""
    if dry_run:
        counts = maintenance.cleanup(days, dry_run=True)
    else:
        with progress("deleting old rows", lambda: sum(maintenance.cleanup(days, dry_run=True).values())) as advance:
            counts = maintenance.cleanup(days, on_batch=advance)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {counts['bounce_log']} bounce log rows, {counts['processed_report']} processed-message records "
               f"and {counts['intake_count']} hourly intake counts older than {days} days")
    window = current_app.config["SOFT_BOUNCE_WINDOW_DAYS"]
    if window:
        if dry_run:
            cleaned = maintenance.expire_soft(window, dry_run=True)
        else:
            with progress("returning soft members", lambda: len(maintenance.soft_candidates(window))) as advance:
                cleaned = maintenance.expire_soft(window, on_member=advance)
        click.echo(f"{'would return' if dry_run else 'returned'} {cleaned} soft member(s) with no bounce for {window} days to clean")


@bounces_cli.command("notify")
@click.option("--dry-run", is_flag=True, help="Say who would be told of how many members; send nothing.")
def notify_command(dry_run):
    """Email list owners a digest of the members deactivated by hard bounces or complaints since the last one."""
    try:
        told, untold = digests.notify(dry_run)
    except digests.NoticeFailed as error:
        raise click.ClickException(str(error)) from None
    for recipient, count in sorted(told.items()):
        click.echo(f"{'would tell' if dry_run else 'told'} {recipient} of {count} member(s)")
    if not told:
        click.echo("nothing to tell")
    if untold:
        click.echo(f"{untold} deactivation(s) have no owner to tell: set the lists' owners or NOTIFY_ADMIN")


@bounces_cli.command("apply-ignored")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only those received on or after this day (UTC).")
def apply_ignored_command(since):
    """Apply the SNS notifications kept while ENABLE_BOUNCE_HANDLING was off, oldest first, each once."""
    day = since.date() if since else None
    try:
        with progress("applying kept notifications", lambda: len(reprocess.kept_while_off(day))) as advance:
            done = reprocess.apply_ignored(day, on_message=advance)
    except reprocess.NotReprocessable as error:
        raise click.ClickException(str(error)) from None
    click.echo(reprocess.in_words(done))


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
