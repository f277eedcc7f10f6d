"""Helpers for answering htmx requests and plain browser requests from one view."""

from flask import render_template, request


def is_htmx():
    """Whether this request came from htmx (and wants a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


def render(page, fragment, **context):
    """Render `fragment` for htmx requests and `page` otherwise, marking the answer as varying."""
    html = render_template(fragment if is_htmx() else page, **context)
    return html, 200, {"Vary": "HX-Request"}
