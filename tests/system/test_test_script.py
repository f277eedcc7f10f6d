"""The README's second command, as a newcomer runs it: scripts/test.sh never touches a database
server it did not start. Without MAILLIST_TEST_MYSQL_URL it starts a throwaway MariaDB of its own,
or, where none is installed, runs the SQLite half and says in its last line what was skipped."""

import os
import subprocess

from tests.helpers import ROOT

SUBSET = ["-q", "-n", "0", "-p", "no:cacheprovider", "tests/web/test_plain_sql.py"]


def run_test_script(**settings):
    env = {name: value for name, value in os.environ.items()
           if name not in ("MAILLIST_TEST_MYSQL_URL", "MAILLIST_REQUIRE_ALL_TESTS", "CI")}
    env.update(settings)
    result = subprocess.run(["bash", "scripts/test.sh", *SUBSET], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    return result.returncode, result.stdout.strip().splitlines()


def test_without_a_url_it_starts_a_mariadb_of_its_own_and_stops_it():
    status, lines = run_test_script()
    assert status == 0, "\n".join(lines[-20:])
    assert lines[-1].startswith("MariaDB: a throwaway server of this run's own on port ")
    assert "9 passed" in lines[-2], "both databases ran"
    port = lines[-1].split(" on port ")[1].split(" ")[0]
    assert port != "3306"
    assert subprocess.run(["pgrep", "-f", f"--port={port}"], capture_output=True).returncode != 0, "stopped at the end"


def test_without_mariadb_installed_the_last_line_says_what_was_skipped():
    status, lines = run_test_script(MARIADBD="/nonexistent/mariadbd")
    assert status == 0, "\n".join(lines[-20:])
    assert "5 passed, 4 skipped" in lines[-2]
    assert lines[-1].startswith("MariaDB: not installed (no mariadbd), so its half was skipped")
