"""/metrics under gunicorn with two workers: counts from the database and the latency histogram add up
across workers after a burst of messages on each."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests import helpers
from tests.system.gunicorn_servers import gunicorn

HEADERS = dict(helpers.SNS_HEADERS, **{"x-amz-sns-message-type": "Notification"})


def post(base, message):
    # A new connection each time: gunicorn's workers share the listening socket, so both take some.
    return requests.post(f"{base}/webhooks/sns", data=helpers.sns_body(message), headers=HEADERS, timeout=60).status_code


def value(text, name):
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_counts_and_latency_add_up_across_two_workers(app, database_url, tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    emails = [helpers.make_member(f"m{i}@example.org").email for i in range(20)]
    messages = [helpers.sns_notification(helpers.ses_identity("Bounce", [email], bounce_type="Transient")) for email in emails * 10]
    with gunicorn(database_url, tmp_path, workers=2, threads=4, PROMETHEUS_MULTIPROC_DIR=str(folder), METRICS_TOKEN="t") as base:
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(lambda m: post(base, m), messages)) == {200}
        deadline = time.monotonic() + 30
        while True:  # each worker writes its counts out within a few seconds
            text = requests.get(f"{base}/metrics", headers={"Authorization": "Bearer t"}, timeout=10).text
            applied = value(text, 'maillist_intake_messages_total{outcome="applied",source="sns"}')
            if applied == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert applied == 200, text
        assert value(text, "maillist_webhook_seconds_count") == 200, "every worker's histogram is added up"
        assert len(list(folder.glob("histogram_*.db"))) == 2, "both workers answered some of the burst"
        assert requests.get(f"{base}/metrics", timeout=10).status_code == 403
