"""How fast the webhook answers 503 while the database is down (SNS retries those).

    .venv/bin/python bench/database_down.py [--requests 2000] [--tree DIR --app-module MODULE]

Starts gunicorn (gthread, 2 workers x 2 threads) on a MariaDB URL nobody listens on, as after
`kill -9` of the server, and sends signed bounce notifications from 4 keep-alive connections.
Every answer must be 503. `--tree` and `--app-module` run another checkout (an older commit in a
git worktree, say) in the same way, so two versions compare in one session on one machine.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from bench.webhook_throughput import build_messages, send_all  # noqa: E402
from tests import helpers  # noqa: E402


def start(tree, module, port, workdir):
    cert = Path(workdir) / "cert.pem"
    cert.write_bytes(helpers.cert_pem())
    url = f"mysql+pymysql://maillist:pw@127.0.0.1:{helpers.free_port()}/maillist"
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", ENABLE_SNS_WEBHOOKS="true", ENABLE_BOUNCE_HANDLING="true",
               SNS_TOPIC_ARNS=helpers.TOPIC_ARN, BENCH_CERT_URL=helpers.CERT_URL, BENCH_CERT_PEM=str(cert),
               LOG_LEVEL="ERROR", PYTHONPATH=str(tree))
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                "--worker-class", "gthread", "--threads", "2", "--log-level", "error", module],
                               cwd=tree, env=env, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            import http.client

            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/login")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--tree", default=str(ROOT))
    parser.add_argument("--app-module", default="tests.system.gunicorn_sns_app:app")
    args = parser.parse_args()
    bodies, _ = build_messages(args.requests, 100)
    port = helpers.free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = start(args.tree, args.app_module, port, workdir)
        try:
            elapsed, latencies, statuses = send_all(port, bodies, 4)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(describe())
    print(f"{args.tree}: {len(latencies) / elapsed:.0f} answers/s while the database is down, "
          f"median {statistics.median(latencies) * 1000:.1f} ms, statuses={statuses}, cpus={os.cpu_count()}")
    if set(statuses) != {503}:
        raise SystemExit("every answer should be 503")


if __name__ == "__main__":
    main()
