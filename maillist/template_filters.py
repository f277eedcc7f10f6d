"""What templates get besides their context: a filter for showing times, and the vocabulary."""

from maillist.models.types import utcnow
from maillist.vocabulary import template_globals


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
    """Make the filters and the vocabulary (roles, statuses, event kinds) available in templates."""
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.globals.update(template_globals())
