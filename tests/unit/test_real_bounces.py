"""Real bounce reports from outside this project (tests/fixtures/real-bounces, each set measured
before any rule was written for it): each one read as a person reading it reads it."""

import csv
from pathlib import Path

import pytest

from maillist.transports.email.dsn_parser import read_report
from maillist.transports.email.readings import AUTO_REPLY, BOUNCE, COMPLAINT, DELAY, NOT_A_BOUNCE
from maillist.vocabulary import PERMANENT

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "real-bounces"
with open(CORPUS / "expectations.csv", newline="") as labels:
    ROWS = list(csv.DictReader(labels))
FAILURES = [row for row in ROWS if row["expect"] in ("permanent", "temporary")]
NOT_FAILURES = [row for row in ROWS if row["expect"] not in ("permanent", "temporary")]
KINDS = {"complaint": COMPLAINT, "auto-reply": AUTO_REPLY, "none": NOT_A_BOUNCE}


def row_id(row):
    return f"{row['file']}:{row['address'] or row['expect']}"


def recipient(row):
    reading = read_report((CORPUS / row["file"]).read_bytes())
    found = {r.email: r for r in reading.recipients}
    return reading, found.get(row["address"].lower())


def test_the_corpus_covers_each_kind_of_report():
    expects = [row["expect"] for row in ROWS]
    assert expects.count("permanent") >= 15 and expects.count("temporary") >= 10
    assert {"complaint", "auto-reply", "none"} <= set(expects)
    assert all((CORPUS / row["file"]).is_file() for row in ROWS)


@pytest.mark.parametrize("row", [row for row in FAILURES if row["expect"] == "permanent"], ids=row_id)
def test_a_permanent_failure_is_read_permanent(row):
    reading, found = recipient(row)
    assert reading.kind == BOUNCE
    assert found is not None and found.bounce_type == PERMANENT, row["evidence"]


@pytest.mark.parametrize("row", [row for row in FAILURES if row["expect"] == "temporary"], ids=row_id)
def test_a_temporary_failure_is_never_read_permanent(row):
    """A delay, a 4.x.x failure or a server that gave up after retrying: found, and not Permanent."""
    reading, found = recipient(row)
    assert reading.kind in (BOUNCE, DELAY)
    assert found is not None, row["evidence"]
    assert found.bounce_type != PERMANENT, row["evidence"]


@pytest.mark.parametrize("row", [row for row in FAILURES if row["truth"]], ids=row_id)
def test_only_a_dead_address_deactivates(row):
    _, found = recipient(row)
    assert found.deactivates == (row["truth"] == "dead"), f"{row['truth']}: {row['evidence']} (read as {found.reason})"


@pytest.mark.parametrize("row", NOT_FAILURES, ids=row_id)
def test_mail_that_is_no_bounce_is_never_read_as_one(row):
    reading = read_report((CORPUS / row["file"]).read_bytes())
    assert reading.kind == KINDS[row["expect"]]
    assert not any(r.bounce_type for r in reading.recipients)
