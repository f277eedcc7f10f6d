"""Shared behaviour of the click commands."""

from functools import wraps

import click

from maillist.errors import DomainError


def domain_errors_exit(command):
    """Turn a refused operation into a one-line message and a non-zero exit."""

    @wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            raise click.ClickException(error.message) from None

    return wrapped
