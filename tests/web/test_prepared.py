"""Statements compiled once per dialect and run on the driver's cursor (maillist.prepared), on
SQLite and MariaDB: values go in and come out as SQLAlchemy would pass them, and errors come out
as SQLAlchemy's."""

from datetime import datetime

import pytest
from sqlalchemy import bindparam, case, insert, select, update
from sqlalchemy.exc import IntegrityError

from maillist.extensions import db
from maillist.models import Member, ProcessedReport
from maillist.prepared import Prepared
from tests import helpers

member = Member.__table__
reports = ProcessedReport.__table__
INSERT_REPORT = Prepared(insert(reports), ("report_key", "source", "kind", "topic_arn", "outcome", "raw_body", "received_at"))
REPORT_BY_KEY = Prepared(select(reports.c.id, reports.c.received_at, reports.c.raw_body).where(reports.c.report_key == bindparam("key")))
MEMBER_STATE = Prepared(select(member.c.active, member.c.deactivated_by, member.c.updated_at).where(member.c.id == bindparam("id")))
SWITCH_OFF = Prepared(update(member).where(member.c.id == bindparam("id")).ordered_values(
    (member.c.deactivated_by, case((member.c.active.is_(True), "staff"), else_=member.c.deactivated_by)),
    (member.c.active, False),
    (member.c.updated_at, bindparam("now", type_=member.c.updated_at.type)),
))


def report(key, **values):
    return {"report_key": key, "source": "sns", "kind": "Notification", "topic_arn": None, "outcome": "applied",
            "raw_body": None, "received_at": datetime(2026, 5, 1, 12, 30, 45, 123456), **values}


def test_values_round_trip_as_sqlalchemy_passes_them(app):
    with db.engine.begin() as connection:
        assert INSERT_REPORT.run(connection, report("k-1", raw_body="é ✓ \x00 '; DROP TABLE member; --")).rowcount == 1
        row = REPORT_BY_KEY.run(connection, {"key": "k-1"}).first()
    assert row.received_at == datetime(2026, 5, 1, 12, 30, 45, 123456)  # microseconds kept on both databases
    assert row.raw_body == "é ✓ \x00 '; DROP TABLE member; --"
    assert db.session.scalar(select(ProcessedReport.report_key).where(ProcessedReport.id == row.id)) == "k-1"


def test_literals_and_booleans_bound_by_sqlalchemy_reach_the_driver(app):
    person = helpers.make_member(email="a@example.org")
    moment = datetime(2026, 6, 2, 8, 0, 0, 500)
    with db.engine.begin() as connection:
        assert SWITCH_OFF.run(connection, {"id": person.id, "now": moment}).rowcount == 1
        first = MEMBER_STATE.run(connection, {"id": person.id}).first()
        SWITCH_OFF.run(connection, {"id": person.id, "now": moment})  # already off: who stopped it stays
        second = MEMBER_STATE.run(connection, {"id": person.id}).first()
    assert first == (False, "staff", moment) and second == first
    assert first.active is False  # the Boolean type's own conversion, not a bare 0


def test_nothing_found_is_none(app):
    with db.engine.connect() as connection:
        found = REPORT_BY_KEY.run(connection, {"key": "absent"})
    assert found.first() is None and found.scalar() is None and found.rows == []


def test_a_repeated_key_is_sqlalchemys_integrity_error(app):
    with db.engine.connect() as connection:
        INSERT_REPORT.run(connection, report("k-2"))
        with pytest.raises(IntegrityError) as raised:
            INSERT_REPORT.run(connection, report("k-2"))
        connection.rollback()
    assert raised.value.orig is not None and not raised.value.connection_invalidated


def test_a_missing_parameter_is_a_programming_error_not_a_null(app):
    values = report("k-3")
    del values["received_at"]
    with db.engine.connect() as connection, pytest.raises(KeyError):
        INSERT_REPORT.run(connection, values)


def test_statements_it_cannot_run_as_they_are_are_refused_when_compiled(app):
    with db.engine.connect() as connection:
        with pytest.raises(ValueError, match="rendered at run time"):
            Prepared(select(member.c.id).where(member.c.id.in_(bindparam("ids", expanding=True)))).run(connection, {"ids": [1]})
        with pytest.raises(ValueError, match="Python-side default"):
            Prepared(insert(reports), ("report_key", "source", "kind", "outcome")).run(connection, report("k-4"))


def test_each_parameter_is_sent_once_in_a_named_style():
    from sqlalchemy.dialects import mysql

    from maillist.bounces.statements import member_update

    compiled = member_update(False, False, "Transient", True, False).compiled(mysql.dialect(paramstyle="pyformat"))
    assert compiled.names == ("member_id", "now", "occurred_at", "stale_before", "threshold")
    assert compiled.constants == {}  # the vocabulary's words are in the SQL itself
    assert "'soft'" in compiled.sql and "'hard'" in compiled.sql


@pytest.mark.parametrize("value", ["hard'; DROP TABLE member; --", "Hard", "", "soft bounce", "é"])
def test_only_vocabulary_words_are_written_into_the_sql(value):
    from maillist.bounces.statements import word

    with pytest.raises(ValueError):
        word(value)
