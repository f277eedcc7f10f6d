"""A flask command that cannot do its work says why in one line with a documented exit status
(maillist.cli_support, README's Command line), never a traceback: a bad address, a database that
is not there or not set up, and something that is not AWS answering at AWS's address."""

import http.server
import os
import subprocess
import sys
import threading

import pytest

from tests.helpers import ROOT, free_port


def flask(tmp_path, *args, stdin=None, **settings):
    env = {name: value for name, value in os.environ.items() if not name.startswith(("MAILLIST_", "ENABLE_", "SNS_", "AWS_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "SECRET_KEY": "k", **settings})
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi.py", *args], cwd=ROOT, input=stdin,
                            capture_output=True, text=True, timeout=120, env=env)
    return result.returncode, result.stderr.strip().splitlines()


def one_line(lines, *words):
    return len(lines) == 1 and lines[0].startswith("Error: ") and all(word in lines[0] for word in words)


def test_a_bad_admin_address_is_one_line(tmp_path):
    assert flask(tmp_path, "db", "upgrade")[0] == 0
    status, lines = flask(tmp_path, "users", "ensure-admin", MAILLIST_ADMIN_EMAIL="not-an-address")
    assert status == 1 and one_line(lines, "'not-an-address' is not a valid email address"), lines


@pytest.mark.parametrize("command", [["members", "show", "ann@example.org"], ["demo", "load"], ["lists", "add", "club@lists.example.org", "--name", "Club"]])
def test_a_database_not_set_up_is_one_line_and_a_try_again_status(tmp_path, command):
    status, lines = flask(tmp_path, *command)
    assert status == 75 and one_line(lines, "not set up yet", "flask db upgrade"), lines


def test_a_database_that_cannot_be_reached_is_one_line_and_a_try_again_status(tmp_path):
    status, lines = flask(tmp_path, "members", "show", "ann@example.org",
                          DATABASE_URL=f"mysql+pymysql://root@127.0.0.1:{free_port()}/maillist")
    assert status == 75 and one_line(lines, "the database cannot be used now", "Can't connect"), lines


class NotAws(http.server.BaseHTTPRequestHandler):
    """A captive portal: an HTML page whatever is asked."""

    def do_POST(self):
        body = b"<html><body>Sign in to the hotel network</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args):
        pass


def test_something_that_is_not_aws_answering_is_one_line(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotAws)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, lines = flask(tmp_path, "sns", "setup", "--topic", "bounces", "--endpoint", "https://lists.example.org/webhooks/sns",
                              AWS_ENDPOINT_URL=f"http://127.0.0.1:{server.server_address[1]}", AWS_REGION="eu-west-1",
                              AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_CONFIG_FILE="/nonexistent",
                              AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    finally:
        server.shutdown()
    assert status == 1 and one_line(lines, "is not AWS"), lines
