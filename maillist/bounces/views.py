"""The Bounces tab: recent events, figures against SES's limits, a 30-day chart, CSV export."""

from flask import current_app, request

from maillist.auth.decorators import require_login
from maillist.bounces import bp
from maillist.bounces.bounce_log import CSV_COLUMNS, KIND_LABELS, EventQuery, event_rows, recent_events
from maillist.bounces.chart import daily_chart
from maillist.bounces.reasons import LABELS as REASON_LABELS
from maillist.bounces.stats import BOUNCE_RATE_LIMIT, COMPLAINT_RATE_LIMIT, daily_series, dashboard_figures
from maillist.csv_download import csv_download
from maillist.htmx import render


@bp.get("/")
@require_login
def index():
    """The dashboard, or (for htmx) just the filtered event list."""
    query = EventQuery.from_args(request.args)
    events, has_next = recent_events(query)
    context = dict(query=query, events=events, has_next=has_next)
    if request.headers.get("HX-Target") == "bounce-events":
        return render("bounces/index.html", "bounces/_events.html", **context)
    deactivating = current_app.config["COMPLAINT_ACTION"] == "deactivate"
    return render(
        "bounces/index.html", "bounces/_dashboard.html",
        figures=dashboard_figures(deactivating), chart=daily_chart(daily_series(30)),
        bounce_limit=BOUNCE_RATE_LIMIT, complaint_limit=COMPLAINT_RATE_LIMIT, kind_labels=KIND_LABELS, reason_labels=REASON_LABELS, **context,
    )


@bp.get("/export.csv")
@require_login
def export():
    """Download the bounce log (honouring the type and date filters) as CSV."""
    return csv_download("bounce-log.csv", CSV_COLUMNS, event_rows(EventQuery.from_args(request.args)))
