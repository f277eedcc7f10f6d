"""Domain errors and the one place they become HTTP answers."""

import logging

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from maillist.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A request maillist refuses, with a message fit to show the person who made it."""

    status_code = 400

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """The input is malformed: a bad address, a missing field."""


class NotFound(DomainError):
    """The object named does not exist."""

    status_code = 404


class Conflict(DomainError):
    """The change would break a uniqueness rule (a duplicate member, list or user)."""

    status_code = 409


def wants_json():
    """Whether the client asked for JSON rather than a page."""
    return request.accept_mimetypes.best == "application/json" or request.path.startswith("/webhooks/")


def register(app):
    """Install the error handlers."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error):
        db.session.rollback()
        if wants_json():
            return jsonify(error=error.message), error.status_code
        return render_template("error.html", message=error.message, code=error.status_code), error.status_code

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        message = "The form was not sent from a maillist page or has expired. Reload the page and try again."
        if wants_json():
            return jsonify(error=message), 400
        return render_template("error.html", message=message, code=400), 400

    @app.errorhandler(403)
    def forbidden(error):
        if wants_json():
            return jsonify(error="forbidden"), 403
        return render_template("error.html", message="You do not have permission to do that.", code=403), 403

    @app.errorhandler(404)
    def not_found(error):
        if wants_json():
            return jsonify(error="not found"), 404
        return render_template("error.html", message="That page does not exist.", code=404), 404

    @app.errorhandler(500)
    def internal_error(error):
        db.session.rollback()
        log.error("internal error on %s %s", request.method, request.path)
        if wants_json():
            return jsonify(error="internal error"), 500
        return render_template("error.html", message="Something went wrong on our side.", code=500), 500
