"""GET /metrics for Prometheus: intake counts, refusals, bounces, complaints, members, webhook latency.

Not public: answered only with the bearer token in METRICS_TOKEN or to an address in
METRICS_ALLOW_FROM, and 404 when neither is set. Counters come from the database (every worker
and host writes its intake counts there), so they are right under any number of gunicorn workers.
The webhook's latency histogram lives in each process; with PROMETHEUS_MULTIPROC_DIR set (the
docker image sets it) prometheus-client's multiprocess mode adds up every worker's.
"""

import hmac
import ipaddress
import os

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from maillist.extensions import db
from maillist.intake import door_counts
from maillist.models import BounceLog, IntakeCount, Member
from maillist.vocabulary import BOUNCE, COMPLAINT

bp = Blueprint("metrics", __name__)


def prepare_multiprocess_folder():
    """Make PROMETHEUS_MULTIPROC_DIR when it is set but missing: prometheus-client writes into it
    as soon as a metric exists, and a flask command run beside gunicorn should not die for it."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as error:
            raise SystemExit(f"maillist: PROMETHEUS_MULTIPROC_DIR={folder!r} cannot be made: {error.strerror}") from None


prepare_multiprocess_folder()

# Observed by the webhook view; registered per scrape (below), or read from the multiprocess files.
WEBHOOK_SECONDS = Histogram("maillist_webhook_seconds", "Time to answer one SNS message at the webhook",
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15), registry=None)


def allowed_networks(config):
    """METRICS_ALLOW_FROM as networks (addresses count as /32 or /128)."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in config["METRICS_ALLOW_FROM"].split(",") if part.strip()]


def direct_peer():
    """The address that connected to the app itself: behind PROXY_FIX_HOPS, `remote_addr` is what the
    X-Forwarded-For header claims, which any container reaching api:8000 directly could write. nginx
    never passes /metrics on, so a scraper allowed by address always connects directly."""
    original = request.environ.get("werkzeug.proxy_fix.orig") or {}
    return original.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR") or ""


def may_read(config):
    token = config["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(direct_peer())
    except ValueError:
        return False
    return any(address in network for network in allowed_networks(config))


@bp.get("/metrics")
def metrics():
    """The metrics in Prometheus's text format, for a scraper that is allowed to read them."""
    config = current_app.config
    if not config["METRICS_TOKEN"] and not config["METRICS_ALLOW_FROM"]:
        abort(404)
    if not may_read(config):
        abort(403)
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(WEBHOOK_SECONDS)
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4; charset=utf-8")


class DatabaseCollector:
    """Counts read from the database at scrape time."""

    def collect(self):
        door_counts.counts.flush()
        rows = db.session.execute(select(IntakeCount.source, IntakeCount.outcome, IntakeCount.reason, func.sum(IntakeCount.count))
                                  .group_by(IntakeCount.source, IntakeCount.outcome, IntakeCount.reason)).all()
        messages = CounterMetricFamily("maillist_intake_messages", "Reports answered, by door and outcome",
                                       labels=["source", "outcome"])
        refusals = CounterMetricFamily("maillist_intake_refusals", "Reports refused, by door and reason",
                                       labels=["source", "reason"])
        by_outcome, by_reason = {}, {}
        for source, outcome, reason, total in rows:
            by_outcome[(source, outcome)] = by_outcome.get((source, outcome), 0) + int(total)
            if reason:
                by_reason[(source, reason)] = by_reason.get((source, reason), 0) + int(total)
        for labels, value in sorted(by_outcome.items()):
            messages.add_metric(list(labels), value)
        for labels, value in sorted(by_reason.items()):
            refusals.add_metric(list(labels), value)
        yield messages
        yield refusals

        bounces = CounterMetricFamily("maillist_bounces", "Bounces in the bounce log, by type and reason",
                                      labels=["type", "reason"])
        for bounce_type, reason, total in db.session.execute(
                select(BounceLog.bounce_type, BounceLog.reason, func.count()).where(BounceLog.event == BOUNCE)
                .group_by(BounceLog.bounce_type, BounceLog.reason)):
            bounces.add_metric([bounce_type or "", reason or ""], total)
        yield bounces
        complaints = CounterMetricFamily("maillist_complaints", "Complaints in the bounce log, by feedback type",
                                         labels=["feedback_type"])
        for feedback_type, total in db.session.execute(
                select(BounceLog.feedback_type, func.count()).where(BounceLog.event == COMPLAINT).group_by(BounceLog.feedback_type)):
            complaints.add_metric([feedback_type or ""], total)
        yield complaints

        members = GaugeMetricFamily("maillist_members", "Members by bounce status and whether mail goes to them",
                                    labels=["bounce_status", "active"])
        for status, active, total in db.session.execute(
                select(Member.bounce_status, Member.active, func.count()).group_by(Member.bounce_status, Member.active)):
            members.add_metric([status, "true" if active else "false"], total)
        yield members
        deactivated = GaugeMetricFamily("maillist_members_deactivated", "Members mail does not go to", labels=[])
        deactivated.add_metric([], db.session.scalar(select(func.count()).select_from(Member).where(Member.active.is_(False))))
        yield deactivated
