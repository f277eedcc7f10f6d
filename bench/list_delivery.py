"""List delivery with signed per-member bounce addresses, for a list of 10,000 active members.

    .venv/bin/python bench/list_delivery.py [--backend sqlite|mariadb]

Loads a throw-away database through the migrations (10,000 subscribed members plus 90,000
others and a second list) and times the real `flask lists deliver LIST` process, as Postfix's
list pipe runs it (start-up, the members query, one signed envelope and one SMTP transaction per
member over one connection), against an SMTP sink on loopback standing in for Postfix's
re-injection listener. Checks that every member got one message with a sender of their own.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import add_database_arguments, migrated_database  # noqa: E402
from bench.machine import describe  # noqa: E402
from maillist.models import MailingList, Member, Subscription  # noqa: E402
from tests import helpers  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser, backend="mariadb")
    parser.add_argument("--list-size", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=90_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with migrated_database(args.backend, args.mysql_url) as url:
        measure(args, url)


class Sink:
    """Counts messages and the distinct envelope senders they came with."""

    def __init__(self):
        self.senders, self.recipients = set(), 0

    async def handle_DATA(self, server, session, envelope):
        self.senders.add(envelope.mail_from)
        self.recipients += len(envelope.rcpt_tos)
        return "250 OK"


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
    engine.dispose()
    message = b"From: Secretary <secretary@example.org>\nTo: big@lists.example.org\nSubject: News\n\n" + b"Hello, members.\n" * 200
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", LOG_LEVEL="WARNING")
    timings = []
    for _ in range(args.runs):
        sink, port = Sink(), helpers.free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "flask", "--app", str(ROOT / "wsgi.py"), "lists", "deliver",
                        "--reinject", f"127.0.0.1:{port}", "big@lists.example.org"], input=message, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        timings.append(time.perf_counter() - started)
        controller.stop()
        assert sink.recipients == args.list_size and len(sink.senders) == args.list_size, (sink.recipients, len(sink.senders))
    median = statistics.median(timings)
    print(describe())
    print(f"flask lists deliver, list of {args.list_size} active members among {total} members, {args.backend}, "
          f"{args.runs} runs, cpus={os.cpu_count()}: every member one message, {len(sink.senders)} distinct senders")
    print(f"median {median:.2f} s ({args.list_size / median:.0f} messages/s), fastest {min(timings):.2f} s, slowest {max(timings):.2f} s")


if __name__ == "__main__":
    main()
