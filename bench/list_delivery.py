"""List delivery with signed per-member bounce addresses and personal headers.

    .venv/bin/python bench/list_delivery.py [--backend sqlite|mariadb] [--list-size 5000] [--paced-rate 50]

Loads a throw-away database through the migrations (the list's subscribed members plus others
and a second list) and times the real `flask lists deliver LIST` process, as Postfix's list pipe
runs it (start-up, the members query, From rewriting, one signed envelope, one personal
List-Unsubscribe and one SMTP transaction per member over one connection), against the SES-rules
relay (tests/ses_relay.py) on loopback standing in for Postfix's re-injection listener: a copy
SES would refuse fails the run. Reports messages per second and the pipe's CPU time per copy
(user + system of the process), unpaced (SES_MAX_SEND_RATE=0); then, with --paced-rate, one
paced run of a tenth of the list, to show the pace kept.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import add_database_arguments, migrated_database  # noqa: E402
from bench.machine import describe  # noqa: E402
from maillist.models import MailingList, Member, Subscription  # noqa: E402
from tests import ses_relay  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser, backend="mariadb")
    parser.add_argument("--list-size", type=int, default=5_000)
    parser.add_argument("--others", type=int, default=45_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--paced-rate", type=int, default=0, help="also time a paced run at this SES_MAX_SEND_RATE")
    args = parser.parse_args()
    with migrated_database(args.backend, args.mysql_url) as url:
        measure(args, url)


def measure(args, url):
    """Load the members, then time `flask lists deliver` into a sink."""
    now = datetime(2026, 11, 1)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(insert(MailingList.__table__), [
            # Open to any sender: the benchmark's message comes from outside the list.
            {"name": "Big", "address": "big@lists.example.org", "description": "", "active": True, "created_at": now,
             "post_policy": "open", "allowed_senders": ""},
            {"name": "Other", "address": "other@lists.example.org", "description": "", "active": True, "created_at": now,
             "post_policy": "open", "allowed_senders": ""},
        ])
        total = args.list_size + args.others
        rows = [{"name": f"M{i}", "email": f"m{i:06d}@example.org", "active": True, "bounce_count": 0,
                 "bounce_status": "clean", "created_at": now, "updated_at": now} for i in range(total)]
        for start in range(0, total, 10_000):
            connection.execute(insert(Member.__table__), rows[start:start + 10_000])
        subs = [{"member_id": i + 1, "list_id": 1 if i < args.list_size else 2, "created_at": now} for i in range(total)]
        for start in range(0, total, 10_000):
            connection.execute(insert(Subscription.__table__), subs[start:start + 10_000])
        if args.backend == "mariadb":
            connection.execute(text("ANALYZE TABLE member, subscription, mailing_list"))
    message = b"From: Secretary <secretary@example.org>\nTo: big@lists.example.org\nSubject: News\n\n" + b"Hello, members.\n" * 200
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", LOG_LEVEL="WARNING", PUBLIC_URL="https://lists.example.org")
    timings, cpu = [], []
    for _ in range(args.runs):
        elapsed, seconds, relay = deliver(message, dict(env, SES_MAX_SEND_RATE="0"))
        timings.append(elapsed)
        cpu.append(seconds)
        check(relay, args.list_size)
    median = statistics.median(timings)
    print(describe())
    print(f"flask lists deliver, list of {args.list_size} active members among {total} members, {args.backend}, "
          f"{args.runs} runs, cpus={os.cpu_count()}: every member one copy through the SES-rules relay, From rewritten, "
          f"{args.list_size} distinct senders and unsubscribe links")
    print(f"unpaced: median {median:.2f} s ({args.list_size / median:.0f} messages/s), fastest {min(timings):.2f} s, "
          f"slowest {max(timings):.2f} s; pipe CPU {statistics.median(cpu) / args.list_size * 1e3:.3f} ms per copy (median)")
    if args.paced_rate:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM subscription WHERE list_id = 1 AND member_id > :n"), {"n": args.list_size // 10})
        elapsed, _, relay = deliver(message, dict(env, SES_MAX_SEND_RATE=str(args.paced_rate)), rate=args.paced_rate)
        check(relay, args.list_size // 10)
        print(f"paced at SES_MAX_SEND_RATE={args.paced_rate}: {args.list_size // 10} copies in {elapsed:.2f} s "
              f"({args.list_size // 10 / elapsed:.1f} messages/s), none throttled by a relay holding the same rate")
    engine.dispose()


def deliver(message, env, rate=0):
    """(wall seconds, the pipe's CPU seconds, the relay) of one `flask lists deliver` run."""
    relay = ses_relay.start(["lists.example.org"], rate=rate)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flask", "--app", str(ROOT / "wsgi.py"), "lists", "deliver",
                    "--reinject", f"127.0.0.1:{relay.port}", "big@lists.example.org"], input=message, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    relay.shutdown()
    relay.server_close()
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), relay


def check(relay, expected):
    """Every member one copy, none refused, each with its own sender and unsubscribe link and the list's From."""
    messages = relay.outbox.messages
    assert not relay.outbox.refused, relay.outbox.refused[:3]
    assert len(messages) == expected and len({sender for sender, _, _ in messages}) == expected, len(messages)
    links = {BytesHeaderParser().parsebytes(data)["List-Unsubscribe"] for _, _, data in messages}
    assert len(links) == expected
    assert all(b'\r\nFrom: "Secretary via Big" <big@lists.example.org>\r\n' in data for _, _, data in messages[:10])


if __name__ == "__main__":
    main()
