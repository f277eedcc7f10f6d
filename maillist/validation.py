"""Input checks shared by the services and the views' query arguments."""

from datetime import date

from email_validator import EmailNotValidError, validate_email

from maillist.addresses import normalise_email
from maillist.errors import InvalidInput

# Ids are INTEGER columns; pages beyond this would ask the database for absurd offsets.
MAX_ID = 2**31 - 1
MAX_PAGE = 1_000_000
# Date filters: the range people mean, and that every supported database stores.
EARLIEST_DAY, LATEST_DAY = date(1970, 1, 1), date(9998, 12, 31)


def whole_number(value, name, default=None, maximum=MAX_ID):
    """A query argument as a whole number up to `maximum`; `default` when absent, not a number or below 1.

    A number too large is refused with a message, so it never reaches the database.
    """
    text = (value or "").strip()
    if not (text.isascii() and text.lstrip("-").isdigit()):
        return default
    if len(text) > len(str(maximum)) or int(text) > maximum:
        raise InvalidInput(f"{name} must be a whole number from 1 to {maximum:,}.")
    number = int(text)
    return number if number >= 1 else default


def day(value, name):
    """A YYYY-MM-DD date from a filter field, or None when empty; refuses other text and far-off years."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2026-11-27.") from None
    if not EARLIEST_DAY <= parsed <= LATEST_DAY:
        raise InvalidInput(f"{name} must be a date between {EARLIEST_DAY} and {LATEST_DAY}.")
    return parsed


def check_email(address):
    """Return the normalised form of a syntactically valid address, or raise InvalidInput."""
    address = normalise_email(address)
    if not address:
        raise InvalidInput("An email address is required.")
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as error:
        raise InvalidInput(f"{address!r} is not a valid email address: {error}") from None
    return address
