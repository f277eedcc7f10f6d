"""The README's first command, for real: scripts/run.sh sets up, prints the admin's password,
serves on 127.0.0.1, and that password signs in through Chromium."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.helpers import ROOT, free_port

pytestmark = pytest.mark.browser


def test_run_script_serves_and_admin_signs_in(chromium, tmp_path):
    port = free_port()
    env = dict(os.environ, PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path}/run.db", SECRET_KEY="run-script-test",
               GUNICORN_WORKERS="3")
    process = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, password = [], None
        deadline = time.monotonic() + 300
        for line in process.stdout:
            output.append(line)
            match = re.search(r"Created administrator (\S+) with password: (\S+)", line)
            if match:
                email, password = match.groups()
            if "is running on http://127.0.0.1:" in line or time.monotonic() > deadline:
                break
        assert password, "".join(output)
        assert email == "admin@example.com"
        # The sign-in line is the last thing said before the server starts, not lost above the set-up's logs.
        assert "Created administrator" in output[-2] and "INFO" not in "".join(output), "".join(output)
        page = chromium.new_page()
        for _ in range(50):
            try:
                page.goto(f"http://127.0.0.1:{port}/login")
                break
            except PlaywrightError:  # gunicorn is still binding
                time.sleep(0.2)
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Members")).to_be_visible()
        expect(page.locator(".account")).to_contain_text("admin@example.com")
        page.close()
        # GUNICORN_WORKERS is honoured (the script once started two whatever it said).
        workers = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) == 3, workers
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.parametrize("port", ["abc", "0", "65536", "80 --workers 9", "-1"])
def test_a_bad_port_is_one_line_before_anything_is_installed(port):
    env = dict(os.environ, PORT=port)
    result = subprocess.run(["bash", "scripts/run.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [f"scripts/run.sh: PORT must be a port number from 1 to 65535, not '{port}'"]
    assert "is running" not in result.stdout
