"""`flask sns ...`: feeding saved SNS messages through the webhook's pipeline."""

from pathlib import Path

import click
from cryptography import x509

from maillist.sns.envelope import parse_envelope
from maillist.sns.errors import SnsError, VerificationFailed
from maillist.sns.intake import handle_message


def local_certificates(cert_dir):
    """A certificate getter reading `<dir>/<last segment of the URL>` instead of fetching it."""

    def get(url):
        path = Path(cert_dir) / url.rsplit("/", 1)[-1]
        if not path.is_file():
            raise VerificationFailed(f"no certificate {path.name} in {cert_dir}")
        return x509.load_pem_x509_certificate(path.read_bytes())

    return get


@click.group("sns")
def sns_cli():
    """Work with SNS messages."""


@sns_cli.command("replay")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-verify", is_flag=True, help="Do not check signatures (local tests only).")
@click.option("--cert-dir", type=click.Path(exists=True, file_okay=False), help="Read signing certificates from this folder instead of fetching them.")
def replay(files, skip_verify, cert_dir):
    """Process saved SNS message bodies exactly as the webhook would, printing each outcome."""
    getter = local_certificates(cert_dir) if cert_dir else None
    failures = 0
    for name in files:
        try:
            message = parse_envelope(Path(name).read_bytes())
        except SnsError as error:
            click.echo(f"{name}: refused ({error.reason})")
            failures += 1
            continue
        result = handle_message(message, verify=not skip_verify, get_certificate=getter)
        click.echo(f"{name}: {result.outcome} {result.status} {result.detail}".rstrip())
        failures += result.status >= 400
    if failures:
        raise click.ClickException(f"{failures} of {len(files)} message(s) were not processed")
