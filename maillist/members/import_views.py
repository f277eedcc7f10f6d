"""CSV import of members: upload, preview the per-row plan, apply."""

from flask import render_template, request

from maillist.errors import DomainError, InvalidInput
from maillist.htmx import render
from maillist.members import bp
from maillist.members.csv_import import apply_import, plan_import
from maillist.permissions import require_writer


def uploaded_csv():
    """The CSV the person sent: an uploaded file, or the text carried over from the preview."""
    upload = request.files.get("file")
    if upload and upload.filename:
        return upload.read(), upload.filename
    text = request.form.get("csv_text", "")
    if not text:
        raise InvalidInput("Choose a CSV file to import.")
    return text.encode("utf-8"), request.form.get("filename", "")


@bp.get("/import")
@require_writer
def import_form():
    """The CSV upload form."""
    return render_template("members/import.html", plan=None, error=None, csv_text="", filename="", applied=False)


@bp.post("/import/preview")
@require_writer
def import_preview():
    """Show what importing the file would do, row by row, changing nothing."""
    return run_import(plan_import, applied=False)


@bp.post("/import")
@require_writer
def import_apply():
    """Apply the import: every accepted row in one transaction, then the report."""
    return run_import(apply_import, applied=True)


def run_import(step, applied):
    """Run `step` on the uploaded CSV and render the report (or the reason the file was refused)."""
    data, filename = b"", ""
    try:
        data, filename = uploaded_csv()
        plan = step(data, filename) if applied else step(data)
    except DomainError as error:
        return render("members/import.html", "members/_import_result.html", status=error.status_code, plan=None,
                      error=error.message, csv_text="", filename=filename, applied=False)
    return render("members/import.html", "members/_import_result.html", plan=plan, error=None,
                  csv_text=data.decode("utf-8-sig"), filename=filename, applied=applied)
