"""Postfix list expansion on MariaDB: `postmap -q` for a list of 10,000 active members.

    .venv/bin/python bench/postfix_expansion.py

Loads a throw-away MariaDB database through the migrations (10,000 subscribed members plus
90,000 others and a second list), renders maillist's Postfix tables for it, and times the real
`postmap -q LIST mysql:.../mysql-list-members.cf` (process start, MySQL connection, query,
output) over repeated runs. Prints the median and the slowest.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "postfix"))

import render  # noqa: E402
from bench.databases import add_database_arguments, migrated_database  # noqa: E402
from maillist.models import MailingList, Member, Subscription  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser, backend="mariadb", backends=("mariadb",))
    parser.add_argument("--list-size", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=90_000)
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()
    with migrated_database("mariadb", args.mysql_url) as url:
        measure(args, url)


def measure(args, url):
    """Load the members, render the tables, and time postmap."""
    now = datetime(2026, 11, 1)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(insert(MailingList.__table__), [
            {"name": "Big", "address": "big@lists.example.org", "description": "", "active": True, "created_at": now},
            {"name": "Other", "address": "other@lists.example.org", "description": "", "active": True, "created_at": now},
        ])
        total = args.list_size + args.others
        rows = [{"name": f"M{i}", "email": f"m{i:06d}@example.org", "active": True, "bounce_count": 0,
                 "bounce_status": "clean", "created_at": now, "updated_at": now} for i in range(total)]
        for start in range(0, total, 10_000):
            connection.execute(insert(Member.__table__), rows[start:start + 10_000])
        subs = [{"member_id": i + 1, "list_id": 1 if i < args.list_size else 2, "created_at": now} for i in range(total)]
        for start in range(0, total, 10_000):
            connection.execute(insert(Subscription.__table__), subs[start:start + 10_000])
        connection.execute(text("ANALYZE TABLE member, subscription, mailing_list"))
    engine.dispose()
    config = render.render(tempfile.mkdtemp(), {"DATABASE_URL": url, "POSTFIX_RELAYHOST": "[127.0.0.1]:1"})
    command = ["postmap", "-q", "big@lists.example.org", f"mysql:{config}/mysql-list-members.cf"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert output.strip().count(",") == args.list_size - 1, "expansion is incomplete"
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"postmap -q, list of {args.list_size} active members among {total} members, {args.runs} runs, cpus={os.cpu_count()}")
    print(f"median {statistics.median(timings):.1f} ms, fastest {min(timings):.1f} ms, slowest {max(timings):.1f} ms")


if __name__ == "__main__":
    main()
