"""Members page and CSV import at scale: 100,000 members, 50 lists, 500,000 subscriptions,
1,000,000 bounce logs.

    .venv/bin/python bench/members_page.py --backend sqlite
    .venv/bin/python bench/members_page.py --backend mariadb

Builds the data set with the migrations' schema, then times the members page rendered by the
app (through Flask's test client: routing, queries, templates; no network) for the first page,
a search and filters, a 10,000-row CSV import (preview plus apply), and bulk actions on all
100,000 members through the page's bulk form (each run once: they change the data). Prints medians.
"""

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import add_database_arguments, migrated_database  # noqa: E402
from bench.machine import describe  # noqa: E402
from maillist import create_app  # noqa: E402
from maillist.extensions import db  # noqa: E402
from maillist.members.csv_import import apply_import, plan_import  # noqa: E402
from maillist.models import BounceLog, MailingList, Member, Subscription, User  # noqa: E402

FIRST = ["Ann", "Bob", "Cy", "Dee", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lea", "Max", "Noor", "Otto"]
LAST = ["Archer", "Baker", "Carter", "Dyer", "Ellis", "Fisher", "Glover", "Hunter", "Irving", "Jones", "Keller", "Lowe"]


def chunks(rows, size=10_000):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def build(url, members, lists, subscriptions, bounces):
    """Fill an empty, migrated database."""
    rng = random.Random(42)
    engine = create_engine(url)
    now = datetime(2026, 11, 1)
    with engine.begin() as connection:
        connection.execute(insert(MailingList.__table__), [
            {"name": f"List {i}", "address": f"list{i}@lists.example.org", "description": "", "active": True, "created_at": now}
            for i in range(lists)
        ])
        member_rows = []
        for i in range(members):
            status = rng.choices(["clean", "soft", "hard"], [90, 7, 3])[0]
            member_rows.append({
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}", "email": f"member{i:06d}@example.org",
                "active": status != "hard" and rng.random() > 0.05, "bounce_count": 0 if status == "clean" else rng.randint(1, 9),
                "bounce_status": status, "last_bounce_at": None if status == "clean" else now - timedelta(minutes=rng.randint(1, 90 * 1440)),
                "created_at": now, "updated_at": now,
            })
        for part in chunks(member_rows):
            connection.execute(insert(Member.__table__), part)
        pairs = set()
        while len(pairs) < subscriptions:
            pairs.add((rng.randint(1, members), rng.randint(1, lists)))
        for part in chunks([{"member_id": m, "list_id": l, "created_at": now} for m, l in sorted(pairs)]):
            connection.execute(insert(Subscription.__table__), part)
        types = ["Permanent", "Transient", "Undetermined"]
        batch = []
        for i in range(bounces):
            member_id = rng.randint(1, members)
            batch.append({
                "member_id": member_id, "email": f"member{member_id - 1:06d}@example.org", "event": "bounce",
                "bounce_type": rng.choices(types, [20, 75, 5])[0], "bounce_subtype": "General",
                "diagnostic_code": "smtp; 550 5.1.1 user unknown", "status": "5.1.1", "action": "failed",
                "report_key": str(uuid.UUID(int=rng.getrandbits(128))), "occurred_at": now - timedelta(seconds=i * 7),
                "created_at": now,
            })
            if len(batch) == 10_000:
                connection.execute(insert(BounceLog.__table__), batch)
                batch = []
        if batch:
            connection.execute(insert(BounceLog.__table__), batch)
    # Refresh the optimiser's statistics after the bulk load, as a live database has them.
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("ANALYZE"))
        else:
            connection.execute(text("ANALYZE TABLE member, subscription, mailing_list, bounce_log"))
    engine.dispose()


def median_ms(client, url, runs):
    timings = []
    headers = {"HX-Request": "true"} if url.startswith("htmx:") else {}
    url = url.removeprefix("htmx:")
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(timings)


# Bulk actions on every member, in an order where each one changes most of them; a delete is held
# to 10,000 members at once (maillist.members.bulk.MAX_DELETE), so it takes the clean members of
# one list (about 9,000).
BULK = [("deactivate", {}), ("activate", {}), ("subscribe", {"to_list": "1"}), ("unsubscribe", {"to_list": "1"}),
        ("delete", {"list": "7", "status": "clean"}), ("reset", {})]


def time_bulk_actions(client):
    """Each bulk action on all members, through the bulk form as a browser posts it after confirming."""
    for action, extra in BULK:
        started = time.perf_counter()
        response = client.post("/members/bulk", data={"action": action, "scope": "all", "confirmed": "yes", **extra})
        seconds = time.perf_counter() - started
        assert response.status_code == 303, (action, response.status_code)
        with client.session_transaction() as session:
            message = session.get("_flashes", [("", "")])[-1][1]
            session.pop("_flashes", None)
        changed = re.search(r"[0-9,]+ members?", message)
        print(f"  bulk {action:42} {seconds:5.1f} s  ({changed.group(0) if changed else message} changed)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--lists", type=int, default=50)
    parser.add_argument("--subscriptions", type=int, default=500_000)
    parser.add_argument("--bounces", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--import-rows", type=int, default=10_000)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp()
    with migrated_database(args.backend, args.mysql_url, workdir) as url:
        app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False},
                         instance_path=workdir)
        with app.app_context():
            started = time.perf_counter()
            build(url, args.members, args.lists, args.subscriptions, args.bounces)
            print(f"built data set in {time.perf_counter() - started:.0f} s "
                  f"({args.members} members, {args.lists} lists, {args.subscriptions} subscriptions, {args.bounces} bounce logs)")
            user = User(email="bench@example.org", name="Bench", role="admin")
            user.set_password("bench password")
            db.session.add(user)
            db.session.commit()
            client = app.test_client()
            client.post("/login", data={"email": "bench@example.org", "password": "bench password"})
            cases = {
                "first page": "/members/",
                "first page (htmx fragment)": "htmx:/members/",
                "search 'baker'": "/members/?q=baker",
                "search 'member0999'": "/members/?q=member0999",
                "filter status=soft": "/members/?status=soft",
                "filter list=7": "/members/?list=7",
                "filter inactive, sorted by last bounce": "/members/?active=inactive&sort=last_bounce&dir=desc",
                "page 200": "/members/?page=200",
            }
            print(f"backend={args.backend} {describe()} runs={args.runs} (median, ms)")
            for label, url_path in cases.items():
                print(f"  {label:42} {median_ms(client, url_path, args.runs):7.1f}")
            lines = ["name,email,lists"] + [
                f"Import {i},import{i:05d}@example.org,list{i % args.lists}@lists.example.org;list{(i * 7) % args.lists}@lists.example.org"
                for i in range(args.import_rows // 2)
            ] + [f"Renamed {i},member{i:06d}@example.org,list3@lists.example.org" for i in range(args.import_rows - args.import_rows // 2)]
            data = ("\n".join(lines) + "\n").encode()
            started = time.perf_counter()
            plan = plan_import(data)
            preview = time.perf_counter() - started
            db.session.rollback()
            started = time.perf_counter()
            plan = apply_import(data, "bench.csv")
            applied = time.perf_counter() - started
            print(f"  CSV import of {args.import_rows} rows: preview {preview:.1f} s, apply {applied:.1f} s ({plan.summary})")
            time_bulk_actions(client)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
