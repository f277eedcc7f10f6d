"""CSV downloads: every export streams through here, so every cell is made safe the same way."""

import csv
import io
import itertools
import logging

from flask import Response, stream_with_context

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV injection rule).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500

log = logging.getLogger(__name__)


def safe_cell(value):
    """A cell a spreadsheet shows but never runs: text starting like a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def logged(lines, filename):
    """Pass `lines` through, logging a failure part way before it ends the transfer."""
    try:
        yield from lines
    except Exception:
        log.exception("export %s failed part way; the download was cut off", filename)
        raise


def csv_lines(header, rows, rows_per_chunk=ROWS_PER_CHUNK):
    """CSV text for `header` and `rows`, a chunk of rows at a time, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header)
    yield flush()
    pending = 0
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        pending += 1
        if pending >= rows_per_chunk:
            yield flush()
            pending = 0
    if pending:
        yield flush()


def csv_download(filename, header, rows):
    """A streamed CSV attachment named `filename`.

    The first row is read before the answer starts, so a query that fails at once gets a proper
    error page; a failure later cuts the transfer off (no final chunk), which browsers report as
    a failed download rather than saving a short file as if it were whole.
    """
    rows = iter(rows)
    first = list(itertools.islice(rows, 1))
    lines = stream_with_context(logged(csv_lines(header, itertools.chain(first, rows)), filename))
    return Response(lines, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
