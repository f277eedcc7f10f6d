"""maillist.member_state is the only code that writes a member's mail-state columns.

The scan reads every module of the app and fails on any other place that assigns those columns:
an attribute set on an object, a keyword or a column key in an UPDATE's or INSERT's values, a
Member built with them, or SQL text that updates the member table. The scanner itself is tried on
each kind of write first, so a scan that finds nothing means something.
"""

import ast
import re
from pathlib import Path

import pytest

from maillist.member_state import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "maillist" / "member_state.py"
# `active` is a column of staff accounts and lists too; their own services set it on these names.
OTHER_ACTIVE = {"user", "mailing_list"}
VALUE_CALLS = {"values", "ordered_values", "Member"}
RAW_UPDATE = re.compile(r"\bupdate\s+`?member`?\s+set\b", re.I)


def writes(source):
    """Each place in `source` that writes a mail-state column, as (line, what)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and isinstance(part.ctx, ast.Store) and part.attr in COLUMNS:
                    owner = part.value.id if isinstance(part.value, ast.Name) else ""
                    if not (part.attr == "active" and owner in OTHER_ACTIVE):
                        found.append((node.lineno, f"sets .{part.attr}"))
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in VALUE_CALLS:
                found += [(node.lineno, f"{name}({keyword.arg}=...)") for keyword in node.keywords if keyword.arg in COLUMNS]
                for argument in node.args:
                    keys = argument.keys if isinstance(argument, ast.Dict) else (
                        argument.elts[:1] if isinstance(argument, ast.Tuple) else [])  # ordered_values' (column, value)
                    found += [(node.lineno, f"{name}(... {key} ...)") for key in map(column_key, keys) if key]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and RAW_UPDATE.search(node.value):
            found.append((node.lineno, "SQL text updating member"))
    return found


def column_key(key):
    """The state column a values() dict key names (Member.active, member.c.active, "active"), or None."""
    if isinstance(key, ast.Attribute) and key.attr in COLUMNS:
        return key.attr
    if isinstance(key, ast.Constant) and key.value in COLUMNS:
        return key.value
    return None


@pytest.mark.parametrize("source", [
    "member.active = False",
    "m.bounce_status = 'clean'",
    "member.active, member.deactivated_by = True, None",
    "member.bounce_count += 1",
    "db.session.execute(update(Member).values(bounce_status='hard'))",
    "db.session.execute(update(Member).values({Member.active: False}))",
    "statement = update(member).ordered_values((member.c.ses_suppressed, true()))",
    "db.session.execute(update(member).values({member.c.last_bounce_at: now}))",
    "db.session.add(Member(email='a@b.c', active=False))",
    "db.session.execute(text('UPDATE member SET active = 0 WHERE id = 1'))",
])
def test_the_scan_finds_each_kind_of_write(source):
    assert writes(source)


@pytest.mark.parametrize("source", [
    "user.active = False",
    "mailing_list.active = active",
    "db.session.execute(update(member).values(name=bindparam('name')))",
    "query = MemberQuery(active=True, bounce_status='soft')",
    "select(Member).where(Member.active.is_(True), Member.bounce_status != 'hard')",
    "summary = {'active': member.active, 'bounce_status': member.bounce_status}",
])
def test_the_scan_lets_reads_and_other_tables_be(source):
    assert writes(source) == []


def test_no_module_but_member_state_writes_a_members_mail_state():
    found = {}
    for path in sorted((ROOT / "maillist").rglob("*.py")):
        if path != WRITER:
            places = writes(path.read_text())
            if places:
                found[str(path.relative_to(ROOT))] = places
    assert found == {}
