"""Plain SQL on the driver's cursor (maillist.plain_sql), on SQLite and MariaDB: values go in and
come out as SQLAlchemy would pass them, and errors come out as SQLAlchemy's."""

from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from maillist.extensions import db
from maillist.intake import statements
from maillist.models import DeliveryStat, Member, ProcessedReport
from maillist.plain_sql import Statement
from tests import helpers

member = Member.__table__
REPORT_BY_KEY = Statement('SELECT id, received_at, raw_body FROM "processed_report" WHERE report_key = :key',
                          columns=(ProcessedReport.__table__.c.id.type, ProcessedReport.__table__.c.received_at.type,
                                   ProcessedReport.__table__.c.raw_body.type))
MEMBER_STATE = Statement('SELECT active, deactivated_by, updated_at FROM "member" WHERE id = :id FOR UPDATE',
                         columns=(member.c.active.type, member.c.deactivated_by.type, member.c.updated_at.type))
SWITCH_OFF = Statement('UPDATE "member" SET active = :active, deactivated_by = :by, updated_at = :now WHERE id = :id',
                       {"active": member.c.active.type, "now": member.c.updated_at.type})


def report(key, **values):
    return statements.report_row(report_key=key, source="sns", kind="Notification", topic_arn=None, outcome="applied",
                                 received_at=datetime(2026, 5, 1, 12, 30, 45, 123456), **values)


def test_values_round_trip_as_sqlalchemy_passes_them(app):
    hostile = "é ✓ \x00 '; DROP TABLE member; -- :name %(x)s ?"
    with db.engine.begin() as connection:
        assert statements.INSERT_REPORT.run(connection, report("k-1", raw_body=hostile)) == 1
        (row_id, received_at, raw_body), = REPORT_BY_KEY.run(connection, {"key": "k-1"})
    assert received_at == datetime(2026, 5, 1, 12, 30, 45, 123456)  # microseconds kept on both databases
    assert raw_body == hostile
    # What SQLAlchemy reads back is what it would have written itself.
    assert db.session.get(ProcessedReport, row_id).received_at == received_at


def test_booleans_and_times_reach_the_driver_as_their_types_say(app):
    person = helpers.make_member(email="a@example.org")
    moment = datetime(2026, 6, 2, 8, 0, 0, 500)
    with db.engine.begin() as connection:
        assert SWITCH_OFF.run(connection, {"id": person.id, "active": False, "by": "staff", "now": moment}) == 1
        assert MEMBER_STATE.run(connection, {"id": person.id}) == [(False, "staff", moment)]
    db.session.refresh(person)
    assert (person.active, person.updated_at) == (False, moment)


def test_a_date_counts_deliveries_on_its_own_day(app):
    with db.engine.begin() as connection:
        statements.INSERT_DELIVERIES.run(connection, {"day": date(2026, 6, 2), "deliveries": 3})
        assert statements.ADD_DELIVERIES.run(connection, {"day": date(2026, 6, 2), "count": 2}) == 1
        assert statements.ADD_DELIVERIES.run(connection, {"day": date(2026, 6, 3), "count": 2}) == 0
    assert db.session.scalars(select(DeliveryStat.deliveries)).all() == [5]


def test_driver_errors_come_out_as_sqlalchemys(app):
    with db.engine.begin() as connection:
        statements.INSERT_REPORT.run(connection, report("k-2"))
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        statements.INSERT_REPORT.run(connection, report("k-2"))
    missing = Statement('SELECT nothing FROM "no_such_table"', columns=(member.c.id.type,))
    with pytest.raises(DBAPIError) as ours, db.engine.begin() as connection:
        missing.run(connection, {})
    with pytest.raises(DBAPIError) as sqlalchemys, db.engine.begin() as connection:
        connection.exec_driver_sql(missing.for_dialect(connection.dialect).sql)
    assert type(ours.value) is type(sqlalchemys.value)  # OperationalError on SQLite, ProgrammingError on MariaDB


def test_string_literals_are_refused_when_written():
    with pytest.raises(ValueError, match="no string literals"):
        Statement("UPDATE \"member\" SET name = 'x'")
