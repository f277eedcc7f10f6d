"""Every write transaction goes through maillist.unit_of_work: nothing else commits, opens a
transaction of its own or takes SQLite's writer queue. The scan is tried on each kind first."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The unit of work itself, and the writer queue's own module.
OWNERS = {ROOT / "maillist" / "unit_of_work.py", ROOT / "maillist" / "sqlite.py"}
# Transactions opened by name: commit() ends one, begin() and write_queue() start one. begin_nested
# (a savepoint inside the unit's transaction) is allowed.
OPENERS = {"commit", "begin", "write_queue"}


def transactions(source):
    """Each place in `source` that commits or opens a transaction, as (line, call)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in OPENERS:
                found.append((node.lineno, name))
    return found


@pytest.mark.parametrize("source", [
    "db.session.commit()",
    "with db.engine.begin() as connection:\n    pass",
    "with write_queue():\n    pass",
    "with db.engine.connect() as c, c.begin():\n    pass",
])
def test_the_scan_finds_each_way_to_run_a_transaction(source):
    assert transactions(source)


def test_the_scan_lets_savepoints_and_rollbacks_be():
    assert transactions("with db.session.begin_nested():\n    db.session.rollback()") == []


def test_nothing_but_the_unit_of_work_commits():
    found = {str(path.relative_to(ROOT)): places for path in sorted((ROOT / "maillist").rglob("*.py"))
             if path not in OWNERS and (places := transactions(path.read_text()))}
    assert found == {}
