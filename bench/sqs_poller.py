"""The SQS intake beside the webhook, in one run: one poller, two pollers, and gunicorn, on the same messages.

    .venv/bin/python bench/sqs_poller.py --backend sqlite
    .venv/bin/python bench/sqs_poller.py --backend mariadb --mysql-url mysql+pymysql://root@127.0.0.1:3306/

For each repetition, interleaved: a fresh database with the members, the same N signed
notifications (mixed bounces, complaints, deliveries), then

- `flask sns poll QUEUE --drain` as 1 process, then as 2 processes on one queue (the queue is
  moto's SQS, served over HTTP by its own process: it stands in for Amazon SQS and is itself a
  large part of the cost, more so as the queue grows);
- the queue alone: receiving and deleting every message without processing it, the ceiling the
  stand-in queue sets;
- the webhook under gunicorn (2 workers x 2 threads, 4 keep-alive connections), as
  bench/webhook_throughput.py drives it.

Filling the queue is not timed. Every run checks each member's count is exact. Prints messages
per second for each, the ratios to the webhook with their range over repetitions, and the CPU.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import add_database_arguments, migrated_database  # noqa: E402
from bench.machine import describe  # noqa: E402
from bench.webhook_throughput import add_members, build_messages, check_counts, send_all, start_gunicorn  # noqa: E402
from tests import helpers  # noqa: E402


def start_moto(port):
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("moto did not start")


def fill_queue(sqs, name, bodies):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body.decode() if isinstance(body, bytes) else body}
                   for i, body in enumerate(bodies[start:start + 10])]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return url


def run_pollers(count, database_url, queue_url, cert_dir, aws_env):
    env = dict(os.environ, **aws_env, DATABASE_URL=database_url, SECRET_KEY="bench", ENABLE_BOUNCE_HANDLING="true",
               SNS_TOPIC_ARNS=helpers.TOPIC_ARN, LOG_LEVEL="WARNING", FLASK_SKIP_DOTENV="1", PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "sns", "poll", queue_url, "--drain", "--wait", "2",
               "--cert-dir", str(cert_dir)]
    started = time.perf_counter()
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL) for _ in range(count)]
    if any(process.wait() for process in processes):
        raise SystemExit("a poller failed")
    # --drain waits out one empty long poll (2 s) at the end: not part of the work.
    return time.perf_counter() - started - 2


def drain_alone(sqs, queue_url):
    """Receive and delete every message without processing it: what the stand-in queue alone allows."""
    started = time.perf_counter()
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return time.perf_counter() - started
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                              for i, m in enumerate(messages)])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--repetitions", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--moto-port", type=int, default=5077)
    args = parser.parse_args()

    moto = start_moto(args.moto_port)
    aws_env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{args.moto_port}", "AWS_ACCESS_KEY_ID": "bench",
               "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": helpers.REGION}
    sqs = boto3.client("sqs", region_name=helpers.REGION, endpoint_url=aws_env["AWS_ENDPOINT_URL"],
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    bodies, transient = build_messages(args.messages, args.members)
    rates = {"queue alone": [], "1 poller": [], "2 pollers": [], "webhook": []}
    try:
        for repetition in range(args.repetitions):
            for label in rates:
                with tempfile.TemporaryDirectory() as workdir, migrated_database(args.backend, args.mysql_url, workdir) as url:
                    add_members(url, args.members)
                    if label == "queue alone":
                        elapsed = drain_alone(sqs, fill_queue(sqs, f"bench-{repetition}-alone", bodies))
                        rates[label].append(args.messages / elapsed)
                        print(f"  run {repetition + 1} {label:11} {args.messages / elapsed:6.0f} msg/s", flush=True)
                        continue
                    if label == "webhook":
                        server = start_gunicorn(url, args.port, 2, 2, workdir)
                        try:
                            elapsed, _, statuses = send_all(args.port, bodies, 4)
                        finally:
                            server.terminate()
                            server.wait(timeout=30)
                        assert set(statuses) == {200}, statuses
                    else:
                        cert_dir = Path(workdir) / "certs"
                        cert_dir.mkdir()
                        (cert_dir / helpers.CERT_URL.rsplit("/", 1)[-1]).write_bytes(helpers.cert_pem())
                        queue = fill_queue(sqs, f"bench-{repetition}-{label[0]}", bodies)  # "1 poller", "2 pollers"
                        elapsed = run_pollers(int(label[0]), url, queue, cert_dir, aws_env)
                    wrong = check_counts(url, transient)
                    if wrong:
                        raise SystemExit(f"{label}: counts wrong for {len(wrong)} members")
                    rates[label].append(args.messages / elapsed)
                    print(f"  run {repetition + 1} {label:11} {args.messages / elapsed:6.0f} msg/s", flush=True)
    finally:
        moto.terminate()
        moto.wait(timeout=30)
    print(f"backend={args.backend} messages={args.messages} members={args.members} {describe()}")
    for label, values in rates.items():
        ratios = [value / hook for value, hook in zip(values, rates["webhook"])]
        print(f"{label:11} median {statistics.median(values):6.0f} msg/s  (runs: {', '.join(f'{v:.0f}' for v in values)})"
              + ("" if label == "webhook" else f"  vs webhook {min(ratios):.2f}-{max(ratios):.2f}x"))


if __name__ == "__main__":
    main()
