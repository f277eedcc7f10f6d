"""`flask sns ...`: feeding saved SNS messages through the webhook's pipeline."""

import signal
import threading
from collections import Counter
from pathlib import Path

import click
from cryptography import x509
from flask import current_app

from maillist.aws import AwsError, client
from maillist.cli_support import Group, one_line
from maillist.transports.sns import queue as sqs_queue
from maillist.transports.sns import setup as wiring
from maillist.transports.sns.envelope import parse_envelope
from maillist.transports.sns.errors import CertificateRejected, SnsError
from maillist.transports.sns.messages import handle_message


def local_certificates(cert_dir):
    """A certificate getter reading `<dir>/<last segment of the URL>` instead of fetching it."""

    def get(url):
        path = Path(cert_dir) / url.rsplit("/", 1)[-1]
        if not path.is_file():
            raise CertificateRejected(f"no certificate {path.name} in {cert_dir}")
        return x509.load_pem_x509_certificate(path.read_bytes())

    return get


@click.group("sns", cls=Group)
def sns_cli():
    """Work with SNS messages."""


@sns_cli.command("replay")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-verify", is_flag=True, help="Do not check signatures (local tests only).")
@click.option("--cert-dir", type=click.Path(exists=True, file_okay=False), help="Read signing certificates from this folder instead of fetching them.")
def replay(files, skip_verify, cert_dir):
    """Process saved SNS message bodies exactly as the webhook would, printing each outcome, then a summary line."""
    getter = local_certificates(cert_dir) if cert_dir else None
    failures, outcomes = 0, Counter()
    for name in files:
        try:
            message = parse_envelope(Path(name).read_bytes())
        except SnsError as error:
            click.echo(f"{name}: refused ({error.reason})")
            failures += 1
            outcomes["refused"] += 1
            continue
        result = handle_message(message, verify=not skip_verify, get_certificate=getter)
        click.echo(f"{name}: {result.outcome} {result.status} {result.detail}".rstrip())
        failures += result.status >= 400
        outcomes[result.outcome] += 1
    click.echo(f"replayed {len(files)} message(s): " + ", ".join(f"{what} {count}" for what, count in sorted(outcomes.items())))
    if failures:
        raise click.ClickException(f"{failures} of {len(files)} message(s) were not processed")


@sns_cli.command("setup")
@click.option("--topic", required=True, help="The SNS topic's name (created when missing).")
@click.option("--endpoint", required=True, help="The webhook's public URL: https://HOST/webhooks/sns")
@click.option("--identity", help="An SES identity (domain) whose notifications go to the topic.")
@click.option("--configuration-set", help="An SES configuration set that publishes its events to the topic.")
@click.option("--queue", help="Also create an SQS queue subscribed to the topic, for `flask sns poll`.")
@click.option("--no-deliveries", is_flag=True, help="Leave SES Delivery events out (bounce and complaint rates stay unknown).")
@click.option("--check", "check_only", is_flag=True, help="Change nothing: report each piece and what to do about any gap.")
@click.option("--dry-run", is_flag=True, help="Print the calls that would change something instead of making them.")
def setup_command(topic, endpoint, identity, configuration_set, queue, no_deliveries, check_only, dry_run):
    """Wire SES, SNS (and SQS) for maillist; safe to run again. Uses the standard AWS settings."""
    if not endpoint.startswith("https://") or not endpoint.rstrip("/").endswith("/webhooks/sns"):
        raise click.BadParameter("must be the webhook's HTTPS URL, https://HOST/webhooks/sns", param_hint="--endpoint")
    if identity and configuration_set:
        raise click.UsageError("give --identity or --configuration-set, not both")
    options = dict(identity=identity, configuration_set=configuration_set, queue=queue, deliveries=not no_deliveries)
    try:
        aws = wiring.Wiring(dry_run=dry_run, echo=click.echo)
        if check_only:
            pieces = wiring.check(aws, topic, endpoint, **options)
            for piece in pieces:
                click.echo(str(piece))
            if not all(piece.ok for piece in pieces):
                raise SystemExit(1)
            return
        topic_arn, queue_url = wiring.setup(aws, topic, endpoint, **options)
    except AwsError as error:
        raise one_line(error) from None
    if dry_run:
        click.echo("dry run: nothing was changed")
    click.echo(f"SNS_TOPIC_ARNS={topic_arn}")
    if queue_url:
        click.echo(f"SQS_QUEUE_URL={queue_url}")


@sns_cli.command("poll")
@click.argument("queue_url")
@click.option("--once", is_flag=True, help="Receive one batch, process it and stop.")
@click.option("--drain", is_flag=True, help="Stop when the queue answers empty (to read back a dead-letter queue).")
@click.option("--batch", default=sqs_queue.MAX_BATCH, show_default=True, type=click.IntRange(1, sqs_queue.MAX_BATCH), help="Messages per receive.")
@click.option("--wait", default=sqs_queue.MAX_WAIT, show_default=True, type=click.IntRange(0, sqs_queue.MAX_WAIT), help="Seconds of long polling.")
@click.option("--cert-dir", type=click.Path(exists=True, file_okay=False), help="Read signing certificates from this folder instead of fetching them.")
def poll_command(queue_url, once, drain, batch, wait, cert_dir):
    """Process the SNS messages in an SQS queue subscribed to the topic (or its dead-letter queue).

    Each message goes through the webhook's checks and is deleted only once stored. SIGTERM or
    Ctrl-C stops after the batch in hand.
    """
    if not current_app.config["SNS_TOPIC_ARNS"]:
        raise click.ClickException("SNS_TOPIC_ARNS is empty: set it to the topic ARN(s) this queue is subscribed to")
    stopping = []
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.append(True))
    try:
        tally = sqs_queue.poll(client("sqs"), queue_url, batch=batch, wait=wait, once=once, drain=drain,
                               get_certificate=local_certificates(cert_dir) if cert_dir else None,
                               should_stop=lambda: bool(stopping))
    except AwsError as error:
        raise one_line(error) from None
    click.echo(str(tally))
