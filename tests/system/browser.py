"""Driving Debian's Chromium with Playwright (no browser downloads) against a live server."""

import os
from pathlib import Path

CHROMIUM = os.environ.get("MAILLIST_CHROMIUM", "/usr/bin/chromium")
# Chromium as root in a container, and with nothing of Google's to phone home to.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
OUTPUT = Path(os.environ.get("MAILLIST_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "test-output"))


def screenshot(page, name):
    """Save a full-page screenshot under the test output folder for a person to look at."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
