"""Importing members from CSV (`name,email,lists`, lists separated by `;`): plan, then apply.

`plan_import` reads the file and decides, row by row, what would happen and why, touching
nothing. `apply_import` plans again (the database may have changed since the preview) and
applies every accepted row in one transaction: a rejected file changes nothing at all.
"""

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, select, update

from maillist import audit
from maillist.errors import InvalidInput
from maillist.extensions import db
from maillist.models import MailingList, Member, Subscription
from maillist.models.types import utcnow
from maillist.unit_of_work import writes
from maillist.validation import check_email

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
LOOKUP_CHUNK = 500


@dataclass
class RowPlan:
    """What one CSV row would do: `add`, `update`, `unchanged` or `skip` (with the reason)."""

    line: int
    email: str
    name: str
    lists: list
    action: str
    reason: str = ""
    member: Member | None = None
    new_list_ids: list = field(default_factory=list)
    member_id: int | None = None  # set when the row is applied


@dataclass
class ImportPlan:
    """The plan for a whole file."""

    rows: list

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def summary(self):
        return {action: self.count(action) for action in ("add", "update", "unchanged", "skip")}


def read_rows(data):
    """The CSV's rows as (line number, fields) pairs; a file that cannot be read is rejected whole."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split it and import the parts.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text. Save it as CSV UTF-8 and try again.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader, [])]
    except csv.Error as error:
        raise InvalidInput(f"The file is not valid CSV: {error}.") from None
    if "email" not in header:
        raise InvalidInput("The first line must name the columns, including email (name,email,lists).")
    index = {name: header.index(name) for name in ("name", "email", "lists") if name in header}
    rows = []
    try:
        for fields in reader:
            if not any(value.strip() for value in fields):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise InvalidInput(f"The file has more than {MAX_IMPORT_ROWS} rows; split it and import the parts.")
            value = lambda name: fields[index[name]].strip() if name in index and index[name] < len(fields) else ""  # noqa: E731
            rows.append((reader.line_num, value("name"), value("email"), value("lists")))
    except csv.Error as error:
        raise InvalidInput(f"The file is not valid CSV near line {reader.line_num}: {error}.") from None
    if not rows:
        raise InvalidInput("The file has no member rows.")
    return rows


def in_chunks(values):
    """`values` a LOOKUP_CHUNK at a time, for IN (...) lists a database accepts."""
    values = list(values)
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start:start + LOOKUP_CHUNK]


def existing_members(emails):
    """Members whose address is in `emails`, by address, with their subscriptions loaded."""
    found = {}
    for chunk in in_chunks(sorted(emails)):
        for member in db.session.scalars(select(Member).where(Member.email.in_(chunk))):
            found[member.email] = member
    subscribed = {}
    for chunk in in_chunks(m.id for m in found.values()):
        for member_id, list_id in db.session.execute(select(Subscription.member_id, Subscription.list_id)
                                                     .where(Subscription.member_id.in_(chunk))):
            subscribed.setdefault(member_id, set()).add(list_id)
    return found, subscribed


def plan_import(data):
    """Decide what each row of the CSV `data` (bytes) would do, changing nothing."""
    lists = {lst.address: lst for lst in db.session.scalars(select(MailingList))}
    plans, seen, valid = [], {}, []
    for line, name, raw_email, raw_lists in read_rows(data):
        addresses = [a.strip().lower() for a in raw_lists.split(";") if a.strip()]
        plan = RowPlan(line, raw_email, name[:200], addresses, "skip")
        plans.append(plan)
        try:
            plan.email = check_email(raw_email)
        except InvalidInput:
            plan.reason = f"bad address {raw_email!r}" if raw_email else "no address"
            continue
        unknown = [a for a in addresses if a not in lists]
        if unknown:
            plan.reason = f"unknown list {', '.join(unknown)}"
        elif plan.email in seen:
            plan.reason = f"duplicate row (same address as line {seen[plan.email]})"
        else:
            seen[plan.email] = line
            valid.append(plan)
    members, subscribed = existing_members({plan.email for plan in valid})
    for plan in valid:
        wanted = [lists[a].id for a in dict.fromkeys(plan.lists)]
        plan.member = members.get(plan.email)
        have = subscribed.get(plan.member.id, set()) if plan.member else set()
        plan.new_list_ids = [i for i in wanted if i not in have]
        if plan.member is None:
            plan.action = "add"
        elif plan.new_list_ids or (plan.name and plan.name != plan.member.name):
            plan.action = "update"
            plan.reason = what_changes(plan, {lst.id: address for address, lst in lists.items()})
        else:
            plan.action, plan.reason = "unchanged", "already a member with these lists"
    return ImportPlan(plans)


def what_changes(plan, addresses):
    """An update in words, before -> after: the name, and the lists it adds."""
    changes = []
    if plan.name and plan.name != plan.member.name:
        changes.append(f"name {plan.member.name or '(none)'} -> {plan.name}")
    if plan.new_list_ids:
        changes.append("adds " + ", ".join(addresses[i] for i in plan.new_list_ids))
    return "; ".join(changes)


@writes
def apply_import(data, filename=""):
    """Plan the import again and apply every add and update in one transaction.

    The rows go in as a few multi-row statements (Core, not one ORM object each): new members,
    then their ids read back by address, then names and subscriptions.
    """
    plan = plan_import(data)
    now = utcnow()
    added = [row for row in plan.rows if row.action == "add"]
    renamed = [row for row in plan.rows if row.action == "update" and row.name and row.name != row.member.name]
    if added:
        # The other columns take the model's defaults (active, clean, no bounces).
        db.session.execute(insert(Member.__table__), [
            {"email": row.email, "name": row.name, "created_at": now, "updated_at": now} for row in added])
        ids = existing_ids(row.email for row in added)
        for row in added:
            row.member_id = ids[row.email]
    for row in plan.rows:
        if row.action == "update":
            row.member_id = row.member.id
    if renamed:
        member = Member.__table__
        db.session.execute(update(member).where(member.c.id == bindparam("member_id")).values(
            name=bindparam("new_name"), updated_at=now), [{"member_id": row.member_id, "new_name": row.name} for row in renamed])
    subscriptions = [{"member_id": row.member_id, "list_id": list_id, "created_at": now}
                     for row in plan.rows if row.action in ("add", "update") for list_id in row.new_list_ids]
    if subscriptions:
        db.session.execute(insert(Subscription.__table__), subscriptions)
    summary = plan.summary
    audit.record("member.import", filename or "csv", ", ".join(f"{k}={v}" for k, v in summary.items()))
    return plan


def existing_ids(emails):
    """The ids of the members at `emails`, by address (read a chunk at a time)."""
    found = {}
    for chunk in in_chunks(emails):
        found.update(db.session.execute(select(Member.email, Member.id).where(Member.email.in_(chunk))).all())
    return found
