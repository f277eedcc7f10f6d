"""Domain errors and the one place they become HTTP answers."""

import logging
from contextlib import contextmanager

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden

from maillist.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A request maillist refuses, with a message fit to show the person who made it, and the form
    field it is about when there is one (so the form can lead to it)."""

    status_code = 400

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


@contextmanager
def about(field):
    """Mark a DomainError raised inside (by a check that does not know the form) as about `field`."""
    try:
        yield
    except DomainError as error:
        error.field = error.field or field
        raise


class InvalidInput(DomainError):
    """The input is malformed: a bad address, a missing field."""


class NotFound(DomainError):
    """The object named does not exist."""

    status_code = 404


def found(value, message):
    """`value`, or NotFound saying `message` when a look-up found nothing (None)."""
    if value is None:
        raise NotFound(message)
    return value


class Conflict(DomainError):
    """The change would break a uniqueness rule (a duplicate member, list or user)."""

    status_code = 409


def wants_json():
    """Whether the client asked for JSON rather than a page."""
    return request.accept_mimetypes.best == "application/json" or request.path.startswith("/webhooks/")


def error_answer(message, code):
    """The same refusal as JSON, as an htmx notice, or as a page, whichever the client wants."""
    from maillist.htmx import is_htmx, notice

    if wants_json():
        return jsonify(error=message), code
    if is_htmx():
        return notice(message, "error", status=code)
    return render_template("error.html", message=message, code=code), code


def register(app):
    """Install the error handlers."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error):
        db.session.rollback()
        return error_answer(error.message, error.status_code)

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return error_answer("The form was not sent from a maillist page or has expired. Reload the page and try again.", 400)

    @app.errorhandler(403)
    def forbidden(error):
        # maillist.permissions says who may do it; werkzeug's own description says nothing useful.
        needs = error.description if error.description != Forbidden.description else ""
        return error_answer(" ".join(filter(None, ("You do not have permission to do that.", needs))), 403)

    @app.errorhandler(404)
    def not_found(error):
        return error_answer("That page does not exist.", 404)

    @app.errorhandler(500)
    def internal_error(error):
        db.session.rollback()
        log.error("internal error on %s %s", request.method, request.path)
        return error_answer("Something went wrong on our side.", 500)
