"""The Bounces tab: recent events, figures against SES's limits, a 30-day chart, CSV export."""

from flask import current_app, flash, redirect, render_template, request, url_for

from maillist.bounce_reasons import LABELS as REASON_LABELS
from maillist.bounces import bp
from maillist.bounces import status as status_page
from maillist.bounces import storm_holds
from maillist.bounces.bounce_log import CSV_COLUMNS, KIND_LABELS, EventQuery, event_rows, recent_events
from maillist.bounces.chart import daily_chart
from maillist.bounces.stats import BOUNCE_RATE_LIMIT, COMPLAINT_RATE_LIMIT, daily_series, dashboard_figures
from maillist.csv_download import csv_download
from maillist.htmx import render
from maillist.permissions import require_admin, require_login
from maillist.transports.sns import reprocess as stored_messages
from maillist.transports.sns.reprocess import NotReprocessable, reprocess


@bp.get("/")
@require_login
def index():
    """The dashboard, or (for htmx) just the filtered event list."""
    query = EventQuery.from_args(request.args)
    events, has_next = recent_events(query)
    context = dict(query=query, events=events, has_next=has_next)
    if request.headers.get("HX-Target") == "bounce-events":
        return render("bounces/index.html", "bounces/_events.html", url=url_for("bounces.index", **query.args()),
                      form_id="bounce-filters", **context)
    deactivating = current_app.config["COMPLAINT_ACTION"] == "deactivate"
    return render(
        "bounces/index.html", "bounces/_dashboard.html",
        figures=dashboard_figures(deactivating, hard_bounce_policy=current_app.config["HARD_BOUNCE_POLICY"]), storms=[(hold, storm_holds.summary(hold)) for hold in storm_holds.open_holds()], chart=daily_chart(daily_series(30)),
        bounce_limit=BOUNCE_RATE_LIMIT, complaint_limit=COMPLAINT_RATE_LIMIT, kind_labels=KIND_LABELS, reason_labels=REASON_LABELS, **context,
    )


@bp.get("/export.csv")
@require_login
def export():
    """Download the bounce log (honouring the type and date filters) as CSV."""
    return csv_download("bounce-log.csv", CSV_COLUMNS, event_rows(EventQuery.from_args(request.args)))


@bp.post("/storms/<int:hold_id>/release")
@require_admin
def release_storm(hold_id):
    """Apply the bounces a bounce-storm hold kept (deactivating dead addresses)."""
    return close_storm(storm_holds.release, hold_id, "Released the bounces held for {domain}: they now count as usual.")


@bp.post("/storms/<int:hold_id>/dismiss")
@require_admin
def dismiss_storm(hold_id):
    """Leave the members a bounce-storm hold kept as they are."""
    return close_storm(storm_holds.dismiss, hold_id, "Dismissed the bounces held for {domain}: no member was changed.")


def close_storm(action, hold_id, message):
    """Run `action` on the hold and say what happened, back on the Bounces tab."""
    try:
        hold = action(hold_id)
    except storm_holds.HoldClosed:
        flash("That hold was already released or dismissed; nothing changed.", "error")
    else:
        flash(message.format(domain=hold.domain), "success")
    return redirect(url_for("bounces.index"), code=303)


@bp.get("/status")
@require_login
def status():
    """Whether bounce handling works, and if not, why: settings, topics, counts, malformed messages, diagnoses."""
    return render_template("bounces/status.html", reason_labels=REASON_LABELS, **status_page.status())


@bp.post("/status/apply-ignored")
@require_admin
def apply_ignored():
    """Apply the notifications kept while bounce handling was off, oldest first (audited, each once)."""
    try:
        flash(stored_messages.in_words(stored_messages.apply_ignored()), "success")
    except NotReprocessable as error:
        flash(str(error), "error")
    return redirect(url_for("bounces.status"), code=303)


@bp.post("/status/reports/<int:report_id>/reprocess")
@require_admin
def reprocess_report(report_id):
    """Run one stored malformed message through the current pipeline again (audited)."""
    try:
        flash(f"Reprocessed: {reprocess(report_id)}", "success")
    except NotReprocessable:
        flash("That message is no longer waiting to be reprocessed; nothing changed.", "error")
    return redirect(url_for("bounces.status"), code=303)
