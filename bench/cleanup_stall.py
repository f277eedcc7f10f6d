"""Does `flask bounces cleanup` stall the webhook? Deletes 1,000,000 old bounce logs while
signed bounce notifications keep arriving, and reports the webhook's latency meanwhile.

    .venv/bin/python bench/cleanup_stall.py --backend mariadb
    .venv/bin/python bench/cleanup_stall.py --backend sqlite

The clean-up runs as its own process (`flask bounces cleanup --days 90`), as an operator or cron
would run it; the webhook requests go through the app in this process. The figure that matters
is the slowest webhook request while the clean-up runs (target: under 200 ms).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import add_database_arguments, migrated_database  # noqa: E402
from bench.machine import describe  # noqa: E402
from maillist import create_app  # noqa: E402
from maillist.models import BounceLog, Member  # noqa: E402
from maillist.transports.sns.certificates import cache  # noqa: E402
from tests import helpers  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser, backend="mariadb")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp()
    with migrated_database(args.backend, args.mysql_url, workdir) as url:
        run(args, url, workdir)


def run(args, url, workdir):
    """Load the old rows, then run the clean-up and the webhook side by side."""
    settings = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "ENABLE_SNS_WEBHOOKS": True,
                "ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}
    app = create_app(overrides=settings, instance_path=workdir)
    engine = create_engine(url)
    old = datetime.utcnow() - timedelta(days=200)
    with engine.begin() as connection:
        connection.execute(insert(Member.__table__), [
            {"name": f"M{i}", "email": f"m{i}@example.org", "active": True, "bounce_count": 0, "bounce_status": "clean",
             "created_at": old, "updated_at": old} for i in range(1000)])
        for start in range(0, args.rows, 10_000):
            connection.execute(insert(BounceLog.__table__), [
                {"member_id": (i % 1000) + 1, "email": f"m{i % 1000}@example.org", "event": "bounce",
                 "bounce_type": "Transient", "occurred_at": old + timedelta(seconds=i), "created_at": old,
                 "report_key": str(uuid.uuid4())} for i in range(start, min(start + 10_000, args.rows))])
    engine.dispose()
    cache.put(helpers.CERT_URL, helpers.signing_pair()[1])
    client = app.test_client()
    messages = [helpers.sns_body(helpers.sns_notification(helpers.ses_identity("Bounce", [f"m{i % 1000}@example.org"], bounce_type="Transient")))
                for i in range(20_000)]
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", FLASK_APP="wsgi:app", LOG_LEVEL="WARNING")
    started = time.perf_counter()
    cleanup = subprocess.Popen([sys.executable, "-m", "flask", "bounces", "cleanup", "--days", "90"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, text=True)
    latencies = []
    while cleanup.poll() is None and len(latencies) < len(messages):
        before = time.perf_counter()
        response = client.post("/webhooks/sns", data=messages[len(latencies)], headers=helpers.SNS_HEADERS)
        latencies.append((time.perf_counter() - before) * 1000)
        assert response.status_code == 200, response.get_json()
    output = cleanup.communicate()[0].strip()
    elapsed = time.perf_counter() - started
    latencies.sort()
    print(f"backend={args.backend} {describe()}: {output} in {elapsed:.1f} s")
    print(f"webhook meanwhile: {len(latencies)} requests, median {statistics.median(latencies):.1f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)]:.1f} ms, slowest {latencies[-1]:.1f} ms")


if __name__ == "__main__":
    main()
