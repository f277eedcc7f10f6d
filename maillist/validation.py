"""Input checks shared by the services."""

from email_validator import EmailNotValidError, validate_email

from maillist.errors import InvalidInput
from maillist.models.member import normalise_email


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
