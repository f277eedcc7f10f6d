"""Throttling sign-in attempts so guessing stops without handing anyone a way to lock staff out.

Every attempt is counted before its password is checked, in three counters, each raised inside
one locked transaction (so parallel guesses queue and none slip under a limit):

- the account from this address (`pair`): a few failures pause this account from this address
  only, so a guesser elsewhere cannot lock the real user out;
- the client address (`address`): one address guessing many accounts;
- the account from anywhere (`account`), counting only attempts that reached a password check:
  a much higher ceiling, and past twice the pair limit each attempt must wait twice as long as
  the one before (up to MAX_BACKOFF seconds): a guesser with many addresses is slowed, then
  stopped at the ceiling.

The account's back-off and ceiling do not apply from an address the account signed in from
within KNOWN_FOR (`known`, one row per account and address, kept apart from the counters): a
guesser spread over many addresses stops at the ceiling, while the owner, signing in from where
they usually do, still gets in (their own address keeps its pair limit). Only an owner at an
address they never signed in from waits for the window to pass while such an attack goes on.

A successful sign-in gives back its own attempt, clears the pair's count and remembers the address.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from maillist import unit_of_work
from maillist.extensions import db
from maillist.models import LoginAttempt
from maillist.models.types import utcnow
from maillist.unit_of_work import writes

log = logging.getLogger(__name__)

PAIR, ADDRESS, ACCOUNT, KNOWN = "pair", "address", "account", "known"
COUNTERS = (PAIR, ADDRESS, ACCOUNT)
# How long an address a user signed in from passes the account's ceiling.
KNOWN_FOR = timedelta(days=90)
MAX_BACKOFF = 60
# Back-off starts once an account has had this many pair-limits' worth of checked attempts:
# more than one address could have sent.
BACKOFF_AFTER = 2


@dataclass(frozen=True)
class Attempt:
    """The keys one sign-in attempt was counted under, and whether it may go ahead."""

    keys: dict
    allowed: bool


def keys_for(email, address):
    address = address or "unknown"
    return {PAIR: f"{email} {address}"[:255], ADDRESS: address[:255], ACCOUNT: email[:255]}


def count_attempt(email, address):
    """Count one sign-in attempt under all three keys; says whether it is within every limit."""
    config = current_app.config
    window = timedelta(seconds=config["LOGIN_FAILURE_WINDOW"])
    keys = keys_for(email, address)
    now = utcnow()
    allowed = unit_of_work.transaction(raise_counters, keys, now, window, config)
    forget_expired(now - window - timedelta(seconds=MAX_BACKOFF))
    return Attempt(keys, allowed)


def raise_counters(keys, now, window, config):
    """Count the attempt under the pair and address keys, and under the account's when those allow
    it; whether it is within every limit. (Parallel first attempts on one key can deadlock in
    InnoDB's unique-key checks: the unit of work runs the victim again, counting from the start.)"""
    pair_limit = config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]
    pair, _ = raise_counter(PAIR, keys[PAIR], now, window)
    address, _ = raise_counter(ADDRESS, keys[ADDRESS], now, window)
    if not (pair <= pair_limit and address <= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        return False
    if is_known(keys[PAIR], now):
        return True
    # Only attempts that reach a password check count against the account: one address stopped
    # by its own limit cannot push the account towards its ceiling.
    attempts, previous = raise_counter(ACCOUNT, keys[ACCOUNT], now, window)
    return (attempts <= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
            and not backing_off(attempts - BACKOFF_AFTER * pair_limit, previous, now))


def is_known(pair_key, now):
    """Whether the account signed in from this address within KNOWN_FOR."""
    since = db.session.scalar(select(LoginAttempt.window_start).where(LoginAttempt.scope == KNOWN, LoginAttempt.key == pair_key))
    return since is not None and since >= now - KNOWN_FOR


def backing_off(excess, previous, now):
    """Beyond the pair limit, an account's attempts must be spaced 1, 2, 4, ... seconds apart."""
    if excess <= 0 or previous is None:
        return False
    return now - previous < timedelta(seconds=min(2 ** (excess - 1), MAX_BACKOFF))


def raise_counter(scope, key, now, window):
    """Add one to the counter for (scope, key), starting a new window when the old one is over.

    Returns the count after this attempt and when the one before it was made (None in a new window).
    """
    for _ in range(3):
        row = db.session.execute(
            select(LoginAttempt).where(LoginAttempt.scope == scope, LoginAttempt.key == key).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            try:
                with db.session.begin_nested():
                    db.session.add(LoginAttempt(scope=scope, key=key, attempts=1, window_start=now, last_attempt_at=now))
                return 1, None
            except IntegrityError:
                continue  # another worker created it first: lock and raise theirs
        previous = row.last_attempt_at
        if row.window_start < now - window:
            row.attempts, row.window_start, previous = 1, now, None
        else:
            row.attempts += 1
        row.last_attempt_at = now
        db.session.flush()
        return row.attempts, previous
    raise RuntimeError("could not count a sign-in attempt")


@writes
def give_back(attempt):
    """After a successful sign-in: clear the pair's count, return the attempt to the others, and
    remember the address as one the account signs in from."""
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.scope == PAIR, LoginAttempt.key == attempt.keys[PAIR]))
    remember(attempt.keys[PAIR], utcnow())
    for scope in (ADDRESS, ACCOUNT):
        db.session.execute(
            update(LoginAttempt)
            .where(LoginAttempt.scope == scope, LoginAttempt.key == attempt.keys[scope], LoginAttempt.attempts > 0)
            .values(attempts=LoginAttempt.attempts - 1)
        )


def remember(pair_key, now):
    """Note that the account signed in from this address now (two sign-ins at once: both say so)."""
    known = (LoginAttempt.scope == KNOWN) & (LoginAttempt.key == pair_key)
    if db.session.execute(update(LoginAttempt).where(known).values(window_start=now, last_attempt_at=now)).rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.add(LoginAttempt(scope=KNOWN, key=pair_key, attempts=0, window_start=now, last_attempt_at=now))
    except IntegrityError:
        pass  # another sign-in from the same place remembered it first


def forget_expired(cutoff):
    """Delete counters whose window ended before `cutoff`, in a transaction of its own.

    Another sign-in may be resetting one of them at this moment; that one wins and this
    tidying-up simply waits for the next attempt.
    """
    forget = lambda: db.session.execute(delete(LoginAttempt).where(  # noqa: E731
        ((LoginAttempt.scope.in_(COUNTERS)) & (LoginAttempt.window_start < cutoff))
        | ((LoginAttempt.scope == KNOWN) & (LoginAttempt.window_start < utcnow() - KNOWN_FOR))))
    try:
        unit_of_work.transaction(forget)
    except OperationalError as error:
        log.info("expired sign-in counters left for later: %s", error.orig)
