"""maillist.member_state on the real databases: locked reads, plain writes, and bulk writes grouped by change."""

import threading

from sqlalchemy import select

from maillist import member_state
from maillist.extensions import db
from maillist.member_state import Rules
from maillist.models import Member
from maillist.models.types import utcnow
from maillist.sqlite import write_queue
from tests import helpers


def states():
    return {row.email: (row.active, row.bounce_status, row.bounce_count, row.deactivated_by)
            for row in db.session.execute(select(Member)).scalars()}


def test_the_sql_form_of_who_may_be_activated_agrees_with_the_rule(app):
    ids = [helpers.make_member(f"{status}@example.org", bounce_status=status, active=False).id
           for status in ("clean", "soft", "hard")]
    by_sql = set(db.session.scalars(select(Member.email).where(member_state.can_activate_sql())))
    by_rule = {state.email for state in member_state.lock_many(db.session.connection(), ids)
               if member_state.can_activate(state)}
    db.session.rollback()
    assert by_sql == by_rule == {"clean@example.org", "soft@example.org"}


def test_change_many_writes_each_decision_and_skips_what_it_leaves_alone(app):
    ids = [helpers.make_member(f"m{n}@example.org", bounce_status=status, bounce_count=count, active=active).id
           for n, (status, count, active) in enumerate([("hard", 2, False), ("soft", 3, True), ("clean", 0, True)] * 700)]
    with db.engine.begin() as connection:
        done = member_state.change_many(connection, ids, member_state.reset, "op@example.org (bulk)")
    assert len(done) == 1400  # the clean, active ones had nothing to reset
    assert set(states().values()) == {(True, "clean", 0, None)}
    assert done[0].why == "reset by op@example.org (bulk); it was hard, 2 bounces counted, inactive"


def test_concurrent_bounces_for_one_member_each_decide_on_the_locked_row(app):
    person = helpers.make_member("ann@example.org")
    errors = []

    def bounce_once():
        try:
            # The order every writer keeps: SQLite's writer queue, then the transaction.
            with app.app_context(), write_queue(), db.engine.begin() as connection:
                member_state.change(connection, member_state.bounce, "Transient", False, utcnow(), Rules(threshold=40),
                                    email="ann@example.org")
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=bounce_once) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.refresh(person)
    assert errors == [] and person.bounce_count == 16
