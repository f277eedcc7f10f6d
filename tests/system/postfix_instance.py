"""A real Postfix instance with maillist's configuration, its own directories and ports, relaying
to an SES-rules relay on loopback (tests/ses_relay.py): started for a test, stopped by its pid file."""

import atexit
import functools
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from tests import ses_relay
from tests.helpers import free_port
from tests.system.postfix_helpers import POSTFIX, ROOT, render_config

SYSTEM_PYTHON = "/usr/bin/python3"  # the pipes run as `nobody`, who cannot read root's Python
# The tests' app signs with this key too, so both sides agree on members' bounce addresses.
SECRET_KEY = "test-secret-key"



def wait_for_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@functools.cache
def app_copy_for_pipes():
    """The app and its installed packages where the pipe user can read them.

    The checkout or the virtualenv may sit below a directory only root may enter (such as
    /root); the Postfix pipe runs as `nobody`, so it gets a world-readable copy. The copy (some
    hundreds of megabytes) is made once per test process and shared: nothing writes to it, as
    the pipe user may not (test_postfix_pipes checks that a pipe run leaves it unchanged).
    """
    base = Path(tempfile.mkdtemp(prefix="maillist-app-"))
    base.chmod(0o755)
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    target = base / "app"
    site_packages = Path(sysconfig.get_paths()["purelib"])
    shutil.copytree(site_packages, target / "site-packages",
                    ignore=shutil.ignore_patterns("playwright", "hypothesis", "pip", "setuptools", "__pycache__"))
    for name in ("maillist", "config.py", "wsgi.py"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target / name)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@contextmanager
def running_postfix(database_url, relay_rate=0, main_cf="", **settings):
    """Start Postfix and a relay; yields (smtp port, relay's outbox, config dir, base dir). Stops both afterwards.

    `relay_rate` is the relay's maximum send rate (messages per second, as SES's); `main_cf` is
    appended to main.cf (a later line wins); `settings` go to render.py (for the pipes too) over
    the defaults here."""
    base = Path(tempfile.mkdtemp(prefix="maillist-postfix-"))
    base.chmod(0o755)  # Postfix and the pipe user must reach their files
    # The relay refuses what SES refuses (unverified From, Sender or Return-Path, size, rate):
    # the list's domain is the account's only verified identity here.
    relay = ses_relay.start(["lists.example.org"], rate=relay_rate)
    sink, sink_port = relay.outbox, relay.port
    smtp_port, reinject_port = free_port(), free_port()
    app_dir = app_copy_for_pipes()
    config = render_config(
        base / "etc", database_url,
        POSTFIX_RELAYHOST=f"[127.0.0.1]:{sink_port}",
        POSTFIX_MYHOSTNAME="lists.example.org",
        POSTFIX_INET_INTERFACES="127.0.0.1",
        POSTFIX_SMTPD_LISTEN=f"127.0.0.1:{smtp_port}",
        POSTFIX_REINJECT_PORT=str(reinject_port),
        POSTFIX_QUEUE_DIRECTORY=str(base / "queue"),
        POSTFIX_DATA_DIRECTORY=str(base / "data"),
        POSTFIX_MAILLOG_FILE=str(base / "maillog"),
        MAILLIST_FLASK=f"{SYSTEM_PYTHON} -m flask",
        MAILLIST_APP=str(app_dir / "wsgi.py"),
        MAILLIST_PYTHONPATH=f"{app_dir / 'site-packages'}:{app_dir}",
        SECRET_KEY=SECRET_KEY,
        ENABLE_EMAIL_BOUNCE_PROCESSING="true",
        MAILLIST_PIPE_ENV=str(base / "pipe" / "maillist.env"),
        **settings,
    )
    with open(config / "main.cf", "a") as main_cf_file:
        # No aliases file in this throw-away instance; local delivery is only for bounce tests.
        main_cf_file.write("alias_maps =\nalias_database =\nbounce_queue_lifetime = 0\nmaximal_queue_lifetime = 0\n" + main_cf)
    (base / "queue").mkdir()  # root's; Postfix makes its subdirectories with the right owners
    (base / "data").mkdir()
    shutil.chown(base / "data", user="postfix")
    environment = dict(os.environ, MAIL_CONFIG=str(config))
    subprocess.run([POSTFIX, "-c", str(config), "start"], check=True, capture_output=True, timeout=60, env=environment)
    try:
        wait_for_port(smtp_port)
        wait_for_port(reinject_port)
        yield smtp_port, sink, config, base
    finally:
        stop(base)
        relay.shutdown()
        relay.server_close()
        shutil.rmtree(base, ignore_errors=True)


def stop(base):
    """Stop Postfix by the master's pid file, and wait until it is gone."""
    pid_file = base / "queue" / "pid" / "master.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
