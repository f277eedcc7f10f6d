"""Members as CSV, streamed a batch at a time."""

import csv
import io

from maillist.members.search import iter_members

# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ["name", "email", "active", "bounce_status", "bounce_count", "last_bounce_at", "lists"]


def safe_cell(value):
    """Text that a spreadsheet will show, not run: a leading quote before formula characters."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def member_csv_lines(query):
    """The CSV text for every member matching `query`, a line at a time (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for member in iter_members(query):
        writer.writerow([
            safe_cell(member.name), member.email, "yes" if member.active else "no", member.bounce_status, member.bounce_count,
            member.last_bounce_at.isoformat(timespec="seconds") + "Z" if member.last_bounce_at else "",
            ";".join(lst.address for lst in member.lists),
        ])
        yield flush()
