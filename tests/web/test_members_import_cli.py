"""`flask members import FILE [--dry-run]`: the web import's checks and report, from the shell."""

from sqlalchemy import func, select

from maillist.extensions import db
from maillist.members.csv_import import MAX_IMPORT_BYTES
from maillist.models import AuditLog, Member, Subscription
from tests import helpers


def members():
    return db.session.scalar(select(func.count()).select_from(Member))


def write(tmp_path, text, name="people.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


def test_a_dry_run_says_what_each_row_would_do_and_changes_nothing(runner, tmp_path):
    helpers.make_list("club@lists.example.org")
    helpers.make_member("old@example.org", name="Old Name")
    csv = write(tmp_path, "name,email,lists\nAnn,ann@example.org,club@lists.example.org\n"
                          "New Name,old@example.org,\nBad,not-an-address,\nZed,zed@example.org,nope@lists.example.org\n")
    result = runner.invoke(args=["members", "import", csv, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "line 2: would add ann@example.org",
        "line 3: would update old@example.org: name Old Name -> New Name",
        "line 4: skipped not-an-address: bad address 'not-an-address'",
        "line 5: skipped zed@example.org: unknown list nope@lists.example.org",
        "would add 1, would update 1, unchanged 0, skipped 2 (dry run: nothing changed)",
    ]
    assert members() == 1 and db.session.scalar(select(Member.name)) == "Old Name"


def test_an_import_applies_the_accepted_rows_in_one_go_and_is_audited(runner, tmp_path):
    club = helpers.make_list("club@lists.example.org")
    csv = write(tmp_path, "name,email,lists\nAnn,Ann@Example.org,club@lists.example.org\nBen,ben@example.org,\n"
                          "Ann again,ann@example.org,\n")
    result = runner.invoke(args=["members", "import", csv])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "added 2, updated 0, unchanged 0, skipped 1"
    assert "line 4: skipped ann@example.org: duplicate row (same address as line 2)" in result.output
    assert set(db.session.scalars(select(Member.email))) == {"ann@example.org", "ben@example.org"}
    assert db.session.scalar(select(func.count()).select_from(Subscription).where(Subscription.list_id == club.id)) == 1
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "member.import")).one()
    assert "people.csv" in audit.target and "add=2" in audit.details
    again = runner.invoke(args=["members", "import", csv])
    assert again.output.splitlines()[-1] == "added 0, updated 0, unchanged 2, skipped 1"


def test_standard_input_is_read_with_a_dash(runner):
    result = runner.invoke(args=["members", "import", "-"], input="email\ncat@example.org\n")
    assert result.exit_code == 0 and members() == 1, result.output


def test_a_file_that_cannot_be_read_changes_nothing_with_one_line(runner, tmp_path):
    cases = {
        "no header": "ann@example.org,Ann\n",
        "not utf-8": "name,email\n\xff\xfe,a@example.org\n".encode("latin-1"),
        "too large": b"email\n" + b"a@example.org\n" * (MAX_IMPORT_BYTES // 14 + 1),
        "empty": b"",
    }
    for what, text in cases.items():
        result = runner.invoke(args=["members", "import", write(tmp_path, text)])
        assert result.exit_code == 1, (what, result.output)
        assert result.output.count("\n") == 1 and result.output.startswith("Error: "), (what, result.output)
        assert "Traceback" not in result.output
    assert members() == 0


def test_control_characters_in_a_row_are_shown_escaped_never_sent_to_the_terminal(runner, tmp_path):
    csv = write(tmp_path, b"name,email\nA,\x00a@example.org\nB,\x1b]0;owned\x07b@example.org\n")
    result = runner.invoke(args=["members", "import", csv])
    assert result.exit_code == 0 and members() == 0
    assert "\x00" not in result.output and "\x1b" not in result.output and "\x07" not in result.output
    assert "skipped \\x00a@example.org" in result.output and "skipped \\x1b]0;owned\\x07b@example.org" in result.output


def test_formulas_and_hostile_names_are_stored_as_text(runner, tmp_path):
    csv = write(tmp_path, 'name,email\n"=HYPERLINK(""http://evil"")",f@example.org\n"' + "x" * 5000 + '",long@example.org\n')
    result = runner.invoke(args=["members", "import", csv])
    assert result.exit_code == 0, result.output
    names = dict(db.session.execute(select(Member.email, Member.name)).all())
    assert names["f@example.org"] == '=HYPERLINK("http://evil")' and len(names["long@example.org"]) == 200


def test_a_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["members", "import", str(tmp_path / "absent.csv")])
    assert result.exit_code == 2 and "No such file or directory" in result.output
