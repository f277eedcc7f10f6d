"""CSV downloads: every export streams through here, so every cell is made safe the same way."""

import csv
import io

from flask import Response, stream_with_context

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV injection rule).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def safe_cell(value):
    """A cell a spreadsheet shows but never runs: text starting like a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


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
    """A streamed CSV attachment named `filename`."""
    lines = stream_with_context(csv_lines(header, rows))
    return Response(lines, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
