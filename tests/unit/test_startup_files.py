"""What every process of the images does at start: the metrics folder, the secret key shared by the
api and postfix containers, the health checks, and logs that say each thing once."""

import io
import logging
import os
import socket
import subprocess
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from config import load_secret_key
from maillist.logs import configure_logging
from tests.helpers import ROOT

HEALTHCHECK = ROOT / "docker" / "healthcheck.py"


def test_a_flask_process_makes_a_missing_metrics_folder(tmp_path):
    """The image once set PROMETHEUS_MULTIPROC_DIR for every process, and `flask db upgrade` died on the missing folder."""
    folder = tmp_path / "not" / "made" / "yet"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "DATABASE_URL": f"sqlite:///{tmp_path}/m.db"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi.py", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert folder.is_dir()


def test_a_metrics_folder_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(blocker / "sub"), "DATABASE_URL": f"sqlite:///{tmp_path}/m.db"}
    result = subprocess.run([sys.executable, "-c", "import maillist.metrics"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"maillist: PROMETHEUS_MULTIPROC_DIR='{blocker}/sub' cannot be made: Not a directory"]


def _load(path):
    return load_secret_key(path)


def test_processes_starting_together_agree_on_one_secret_key(tmp_path):
    """The api container's workers and the postfix container's pipes may all start on a new volume at once."""
    for attempt in range(5):
        folder = tmp_path / f"instance{attempt}"
        with ProcessPoolExecutor(max_workers=8) as pool:
            keys = list(pool.map(_load, [folder] * 16))
        assert len(set(keys)) == 1 and len(keys[0]) == 64
        assert sorted(p.name for p in folder.iterdir()) == ["secret_key"], "no half-made drafts left behind"


def test_the_key_survives_a_restart(tmp_path):
    assert load_secret_key(tmp_path) == load_secret_key(tmp_path)


class Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def smtp_greeter():
    """A listener that greets as an SMTP server does and answers QUIT."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"220 mx ESMTP\r\n")
                connection.recv(100)
                connection.sendall(b"221 bye\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def healthcheck(kind, port):
    return subprocess.run([sys.executable, str(HEALTHCHECK), kind, f"127.0.0.1:{port}"], capture_output=True, timeout=30).returncode


def test_http_check_is_healthy_only_when_health_answers_200(http_server):
    port = http_server.server_address[1]
    assert healthcheck("http", port) == 0
    Health.status = 503
    try:
        assert healthcheck("http", port) == 1
    finally:
        Health.status = 200


def test_smtp_check_wants_a_greeting_not_http(smtp_greeter, http_server):
    """The postfix image inherited the app's HTTP check, which nothing there answers: unhealthy for ever."""
    assert healthcheck("smtp", smtp_greeter) == 0
    assert healthcheck("http", smtp_greeter) == 1
    assert healthcheck("smtp", http_server.server_address[1]) == 1
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert healthcheck("smtp", port) == 1


def test_bounce_detectors_do_not_narrate_each_email():
    """flufl.bounce logged 17 'Running detector' lines per bounce email into the postfix container's log."""
    from flufl.bounce import scan_message

    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    handler = logging.StreamHandler(stream)
    try:
        configure_logging("INFO")
        root.addHandler(handler)
        scan_message(message_from_bytes(b"From: mailer-daemon@example.org\nSubject: failure\n\nno such user: ann@example.org\n"))
        logging.getLogger("maillist.test").info("one line of our own")
    finally:
        root.removeHandler(handler)
        root.handlers[:], level = saved
        root.setLevel(level)
    assert stream.getvalue().splitlines() == ["one line of our own"]
