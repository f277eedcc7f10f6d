"""Shared behaviour of the click commands: every failure a person can act on is one line and a
documented exit status, never a traceback.

| status | meaning |
|---|---|
| 1 | refused: bad input, an unknown list or member, a duplicate; or AWS refused, could not be
      reached, or something that is not AWS answered at its address (the line says which) |
| 75 | the database cannot be reached or used now, or is not set up (`flask db upgrade`); try again
       later (Postfix, which pipes bounce emails in, keeps the message and retries) |
"""

import logging
import sys
from contextlib import contextmanager

import click
from botocore.exceptions import BotoCoreError
from sqlalchemy.exc import OperationalError, ProgrammingError

from maillist.aws import AwsError
from maillist.errors import DomainError

EX_TEMPFAIL = 75
# What a database says of a table that is not there: SQLite, then MariaDB's error number.
NO_TABLE = ("no such table", "1146")


class Failed(click.ClickException):
    """A one-line failure with its exit status."""

    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.exit_code = exit_code


def one_line(error):
    """The Failed that says `error` in one line, or None for an error that is a bug (it keeps its traceback)."""
    if isinstance(error, DomainError):
        return Failed(error.message)
    if isinstance(error, AwsError):
        return Failed(str(error))
    if isinstance(error, BotoCoreError):
        return Failed(f"AWS could not be talked to: {type(error).__name__}: {error}")
    if isinstance(error, (OperationalError, ProgrammingError)):
        said = str(error.orig)
        if any(words in said for words in NO_TABLE):
            return Failed("the database is not set up yet: run `flask db upgrade` first", EX_TEMPFAIL)
        if isinstance(error, OperationalError):
            return Failed(f"the database cannot be used now: {said.splitlines()[0][:300]}", EX_TEMPFAIL)
    return None


class Group(click.Group):
    """A command group whose commands (and subgroups) end with one line on a failure a person can act on."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (DomainError, AwsError, BotoCoreError, OperationalError, ProgrammingError) as error:
            failed = one_line(error)
            if failed is None:
                raise
            raise failed from None



def no_progress(done=1):
    """What long work calls after each step when nobody is watching."""


@contextmanager
def progress(label, total):
    """A progress bar on standard error while it is a terminal; yields `advance(steps)` for the
    work to call. `total` is the number of steps, or a function that counts them (called only when
    a bar is drawn: counting may cost a query). Elsewhere (cron, a pipe, a log file) nothing is drawn: the command's summary
    line is what is kept. While the bar is drawn, maillist's own log lines below warnings are held
    back (they would break the bar; the summary says what was done)."""
    if not sys.stderr.isatty():
        yield no_progress
        return
    total = total() if callable(total) else total
    if not total:
        yield no_progress
        return
    logger = logging.getLogger("maillist")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        with click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True) as bar:
            yield lambda steps=1: bar.update(steps)
    finally:
        logger.setLevel(level)
