"""End-to-end webhook throughput: signed SES bounce notifications over HTTP into gunicorn.

    .venv/bin/python bench/webhook_throughput.py --backend sqlite
    .venv/bin/python bench/webhook_throughput.py --backend mariadb --vs-floor --repeat 3

Starts gunicorn (gthread workers) on 127.0.0.1, creates members, sends N distinct signed
notifications (mixed Transient/Permanent bounces, complaints, deliveries) from a pool of
keep-alive connections, then checks every member's count in the database and prints
throughput, latency percentiles and the server's CPU time per message. The load generator runs
on the same machine.

With --vs-floor, each repetition runs maillist and the floor (bench/webhook_floor.py: a bare
Flask view, RSA verify + UPDATE + INSERT with the raw driver) one after the other on fresh
databases, and the summary gives maillist's throughput as a share of the floor's, with its
range over the repetitions, and the machine's CPU model: figures from one run on one machine.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import add_database_arguments, migrated_database  # noqa: E402
from bench.machine import describe  # noqa: E402
from tests import helpers  # noqa: E402


def add_members(url, count):
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO member (name, email, active, bounce_count, bounce_status, created_at, updated_at) "
                 "VALUES (:name, :email, 1, 0, 'clean', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            [{"name": f"M{i}", "email": f"m{i}@example.org"} for i in range(count)],
        )
    engine.dispose()


def build_messages(count, members, seed=7, deliveries_only=False):
    """Distinct signed notifications; returns (bodies, expected transient bounces per address)."""
    rng = random.Random(seed)
    bodies, transient = [], {}
    for _ in range(count):
        address = f"m{rng.randrange(members)}@example.org"
        roll = 1.0 if deliveries_only else rng.random()
        if roll < 0.7:
            payload = helpers.ses_identity("Bounce", [address], bounce_type="Transient")
            transient[address] = transient.get(address, 0) + 1
        elif roll < 0.8:
            payload = helpers.ses_event("Complaint", [address])
        else:
            payload = helpers.ses_event("Delivery", [address])
        bodies.append(json.dumps(helpers.sns_notification(payload, version=rng.choice("12"))).encode())
    return bodies, transient


APPS = {"maillist": "tests.system.gunicorn_sns_app:app", "floor": "bench.webhook_floor:app",
        "floor+ledger": "bench.webhook_floor:app"}


def start_gunicorn(url, port, workers, threads, workdir, system="maillist"):
    cert = Path(workdir) / "cert.pem"
    cert.write_bytes(helpers.cert_pem())
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", ENABLE_SNS_WEBHOOKS="true",
               ENABLE_BOUNCE_HANDLING="true", SNS_TOPIC_ARNS=helpers.TOPIC_ARN, BENCH_CERT_URL=helpers.CERT_URL, BENCH_CERT_PEM=str(cert),
               LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT), FLOOR_LEDGER="1" if system == "floor+ledger" else "0")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning", APPS[system]],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,  # the access log, one line a message
    )
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def server_cpu_seconds(master_pid):
    """CPU time (user + system) used so far by gunicorn's master and its workers."""
    pids = [master_pid]
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def send_all(port, bodies, concurrency):
    """POST every body from `concurrency` keep-alive connections; returns latencies and statuses."""
    latencies, statuses, lock = [], {}, threading.Lock()
    queue = list(reversed(bodies))
    headers = dict(helpers.SNS_HEADERS, **{"x-amz-sns-message-type": "Notification"})

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            started = time.perf_counter()
            connection.request("POST", "/webhooks/sns", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def check_counts(url, transient):
    """Every member's bounce_count must equal the transient bounces sent to them."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT email, bounce_count FROM member")).all())
    engine.dispose()
    wrong = {email: (rows.get(email), n) for email, n in transient.items() if rows.get(email) != n}
    return wrong


def run_once(system, args):
    """One run of `system` on a fresh database: throughput, latencies, CPU per message, exactness."""
    with tempfile.TemporaryDirectory() as workdir, migrated_database(args.backend, args.mysql_url, workdir) as url:
        add_members(url, args.members)
        bodies, transient = build_messages(args.requests, args.members)
        server = start_gunicorn(url, args.port, args.workers, args.threads, workdir, system)
        try:
            warm_up = build_messages(200, args.members, seed=1, deliveries_only=True)[0]
            send_all(args.port, warm_up, args.concurrency)
            cpu_before = server_cpu_seconds(server.pid)
            elapsed, latencies, statuses = send_all(args.port, bodies, args.concurrency)
            cpu = server_cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=30)
        wrong = check_counts(url, transient)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    result = {"system": system, "throughput": len(latencies) / elapsed, "p50": p(0.5), "p95": p(0.95), "p99": p(0.99),
              "max": latencies[-1] * 1000, "cpu_ms": cpu * 1000 / len(latencies), "statuses": statuses, "exact": not wrong}
    print(f"  {system:12} throughput={result['throughput']:.0f} msg/s  p50={result['p50']:.1f} ms  p95={result['p95']:.1f} ms  "
          f"p99={result['p99']:.1f} ms  max={result['max']:.1f} ms  server CPU={result['cpu_ms']:.2f} ms/msg  "
          f"statuses={statuses}  counts exact: {'yes' if not wrong else wrong}", flush=True)
    if set(statuses) != {200} or wrong:
        raise SystemExit(f"{system}: some notifications were not stored exactly once")
    return result


def spread(values, fmt="{:.2f}"):
    """'median (min-max)' of `values`."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--repeat", type=int, default=1, help="repetitions (interleaved with the floor's)")
    parser.add_argument("--vs-floor", action="store_true", help="run the bare floor beside maillist, interleaved")
    parser.add_argument("--ledger-floor", action="store_true",
                        help="with --vs-floor, also the floor that records each MessageId once (FLOOR_LEDGER=1)")
    args = parser.parse_args()

    systems = ["maillist", "floor"] if args.vs_floor else ["maillist"]
    if args.vs_floor and args.ledger_floor:
        systems.append("floor+ledger")
    print(f"backend={args.backend} requests={args.requests} concurrency={args.concurrency} "
          f"gunicorn={args.workers}x{args.threads} {describe()}", flush=True)
    runs = {system: [] for system in systems}
    for repetition in range(args.repeat):
        print(f"repetition {repetition + 1}:")
        for system in systems if repetition % 2 == 0 else reversed(systems):  # alternate who goes first
            runs[system].append(run_once(system, args))
    for system, results in runs.items():
        print(f"{system}: throughput {spread([r['throughput'] for r in results], '{:.0f}')} msg/s, "
              f"p99 {spread([r['p99'] for r in results], '{:.1f}')} ms, "
              f"server CPU {spread([r['cpu_ms'] for r in results])} ms/msg")
    for floor in systems[1:]:
        ratios = [m["throughput"] / f["throughput"] for m, f in zip(runs["maillist"], runs[floor])]
        cpu = [m["cpu_ms"] / f["cpu_ms"] for m, f in zip(runs["maillist"], runs[floor])]
        print(f"maillist / {floor}: throughput {spread(ratios)}, server CPU per message {spread(cpu)} "
              f"(median, range over {args.repeat} repetition{'s' if args.repeat != 1 else ''})")


if __name__ == "__main__":
    main()
