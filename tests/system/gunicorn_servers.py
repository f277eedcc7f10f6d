"""Running the app under real gunicorn processes for multi-process tests."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from tests import helpers
from tests.helpers import free_port

ROOT = helpers.ROOT



@contextmanager
def gunicorn(database_url, tmp_path, workers=2, threads=4, **settings):
    """A gunicorn serving the app on a free loopback port; yields its base URL."""
    cert = tmp_path / "sns-cert.pem"
    cert.write_bytes(helpers.cert_pem())
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="test", ENABLE_SNS_WEBHOOKS="true",
               ENABLE_BOUNCE_HANDLING="true", SNS_TOPIC_ARNS=helpers.TOPIC_ARN, BENCH_CERT_URL=helpers.CERT_URL, BENCH_CERT_PEM=str(cert),
               LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT), **{k: str(v) for k, v in settings.items()})
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning", "tests.system.gunicorn_sns_app:app"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
