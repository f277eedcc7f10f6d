"""Jinja filters for showing times to people."""

from maillist.models.types import utcnow


def ago(moment, now=None):
    """A naive-UTC time as a short relative phrase: 'just now', '5 min ago', '3 days ago'."""
    if moment is None:
        return ""
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 0:
        return "just now"
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            if unit == "day":
                return f"{count} day{'s' if count != 1 else ''} ago"
            return f"{count} {unit} ago"
    return "just now"


def register(app):
    """Make the filters available in templates."""
    app.jinja_env.filters["ago"] = ago
