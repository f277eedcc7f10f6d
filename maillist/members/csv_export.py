"""Members as CSV rows, read a batch at a time (see `maillist.csv_download`)."""

from maillist.members.search import iter_members

COLUMNS = ["name", "email", "active", "bounce_status", "bounce_count", "last_bounce_at", "lists"]


def member_rows(query, conditions=None):
    """One row of COLUMNS for every member matching `query` (or `conditions`, in the query's order)."""
    for member in iter_members(query, conditions):
        yield [
            member.name, member.email, "yes" if member.active else "no", member.bounce_status, member.bounce_count,
            member.last_bounce_at.isoformat(timespec="seconds") + "Z" if member.last_bounce_at else "",
            ";".join(lst.address for lst in member.lists),
        ]
