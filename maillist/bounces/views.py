"""The Bounces tab: recent events, figures against SES's limits, a 30-day chart, CSV export."""

from flask import Response, current_app, request, stream_with_context

from maillist.auth.decorators import require_login
from maillist.bounces import bp
from maillist.bounces.chart import daily_chart
from maillist.bounces.events import EventQuery, event_csv_lines, recent_events
from maillist.bounces.stats import BOUNCE_RATE_LIMIT, COMPLAINT_RATE_LIMIT, daily_series, dashboard_figures
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
        bounce_limit=BOUNCE_RATE_LIMIT, complaint_limit=COMPLAINT_RATE_LIMIT, **context,
    )


@bp.get("/export.csv")
@require_login
def export():
    """Download the bounce log (honouring the type and date filters) as CSV."""
    lines = event_csv_lines(EventQuery.from_args(request.args))
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="bounce-log.csv"'})
