"""maillist.unit_of_work on the real databases: commit, rollback, joining, deadlock reruns, fresh reads."""

import threading

import pymysql
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from maillist import unit_of_work
from maillist.extensions import db
from maillist.models import Member
from tests import helpers


def names():
    db.session.rollback()
    return sorted(db.session.scalars(select(Member.name)))


def rename(email, name):
    db.session.execute(update(Member).where(Member.email == email).values(name=name))


def test_work_commits_and_an_error_rolls_all_of_it_back(app):
    helpers.make_member("ann@example.org", "Ann")
    unit_of_work.transaction(rename, "ann@example.org", "Anne")

    def rename_then_fail():
        rename("ann@example.org", "lost")
        raise ValueError("refused")

    with pytest.raises(ValueError):
        unit_of_work.transaction(rename_then_fail)
    assert names() == ["Anne"]


def test_a_unit_inside_another_joins_it_and_commits_with_it(app):
    helpers.make_member("ann@example.org", "Ann")

    def outer():
        unit_of_work.transaction(rename, "ann@example.org", "inner")
        raise ValueError("the outer unit fails after the inner one returned")

    with pytest.raises(ValueError):
        unit_of_work.transaction(outer)
    assert names() == ["Ann"]


def test_a_deadlock_victim_runs_again_and_commits_once(app):
    helpers.make_member("ann@example.org", "Ann")
    runs = []

    def work():
        runs.append(1)
        rename("ann@example.org", f"run {len(runs)}")
        if len(runs) == 1:
            raise OperationalError("UPDATE member", {}, pymysql.err.OperationalError(1213, "Deadlock found"))

    unit_of_work.transaction(work)
    assert len(runs) == 2 and names() == ["run 2"]


def test_other_errors_are_not_run_again(app):
    runs = []

    def work():
        runs.append(1)
        raise OperationalError("UPDATE member", {}, pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"))

    with pytest.raises(OperationalError):
        unit_of_work.transaction(work)
    assert len(runs) == 1


def test_a_unit_after_a_read_sees_what_another_writer_committed_meanwhile(app):
    """On SQLite a write from the snapshot of an earlier read fails at once; the unit starts afresh."""
    person = helpers.make_member("ann@example.org", "Ann")
    assert person.name == "Ann"  # the session reads, and holds a read transaction
    with unit_of_work.write_queue(), db.engine.begin() as other:  # another worker writes and commits
        other.execute(update(Member.__table__).values(name="Anne"))

    def append():
        person.name = person.name + " B."

    unit_of_work.transaction(append)
    assert names() == ["Anne B."]


@pytest.mark.parametrize("backend", ["mariadb"])  # InnoDB's deadlock detection; SQLite's writers queue
def test_a_real_deadlock_on_mariadb_is_run_again_until_both_units_commit(app):
    helpers.make_member("a@example.org", "a")
    helpers.make_member("b@example.org", "b")
    both_locked_one = threading.Barrier(2, timeout=10)
    runs, errors = [], []

    def crosswise(first, second):
        def work():
            runs.append(first)
            rename(first, f"by {first}")
            if runs.count(first) == 1:
                both_locked_one.wait()  # each holds one row and now asks for the other's
            rename(second, f"by {first}")
        try:
            with app.app_context():
                unit_of_work.transaction(work)
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=crosswise, args=pair) for pair in (("a@example.org", "b@example.org"),
                                                                           ("b@example.org", "a@example.org"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(runs) == 3  # one of them was the victim and ran again
    assert len(set(names())) == 1  # the last to commit renamed both
