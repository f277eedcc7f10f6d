"""Fixtures for the system ring: a real Chromium, the app served over HTTP. Every test here is marked `system`."""

import uuid
from pathlib import Path

import pytest

from maillist import create_app
from maillist.extensions import db
from tests import helpers
from tests.helpers import app_settings, empty_all_tables, need
from tests.system.browser import CHROMIUM, CHROMIUM_ARGS
from tests.system.live_server import serve

HERE = Path(__file__).resolve().parent
AWS_TESTS = ("test_sns_setup", "test_sns_queue")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark every test in this folder `system`, so `-m "not system"` leaves the slow ring out.

    They also share one xdist group: one worker runs them one after another (they start servers and
    measure concurrency), while the other workers take the unit and web rings and the tests of
    AWS's side (moto), which measure no timing, as a group of their own. The marks go on
    before xdist reads them (tryfirst), or the group would be ignored.
    """
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.system)
            # AWS's side (moto) measures no timing: those tests take a second worker, beside the web ring.
            group = "system-aws" if Path(item.path).name.startswith(AWS_TESTS) else "system"
            # The container stack waits mostly on builds and containers: a worker of its own.
            if Path(item.path).name == "test_compose_stack.py":
                group = "containers"
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def app(backend, database_url, tmp_path, app_overrides):
    """A maillist app of its own on `database_url`, which the servers and Postfix started here share.

    The web ring reuses apps between tests; here every test builds its own, so the database file
    the app writes is the one this test hands to gunicorn, Postfix or the pipes.
    """
    app = create_app(overrides=app_settings(database_url, **app_overrides), instance_path=str(tmp_path / "instance"))
    with app.app_context():
        if backend == "sqlite":
            db.create_all()
        else:
            empty_all_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def chromium():
    """A headless Debian Chromium driven by Playwright, for the whole run."""
    need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_url(app):
    """The test app served over HTTP on 127.0.0.1."""
    with serve(app) as url:
        yield url


# Runs before any page script and is exempt from the page's CSP: reports every violation.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("Content Security Policy violation: " + event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def csp_violations():
    """Every Content-Security-Policy violation any page of the test reported; must stay empty."""
    violations = []
    yield violations
    assert violations == [], "the Content-Security-Policy was violated"


def watch_csp(context, violations):
    """Record the CSP violations of every page opened in `context`."""
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    context.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))


@pytest.fixture
def browse(chromium, live_url, csp_violations):
    """Open a fresh browser session signed in as a new user of `role`; returns the page."""
    contexts = []

    def open_as(role="operator", password="a long enough password"):
        email = f"{role}-{uuid.uuid4().hex[:6]}@example.org"
        helpers.make_user(email=email, role=role, password=password)
        context = chromium.new_context(base_url=live_url, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        watch_csp(context, csp_violations)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/members/")
        return page

    yield open_as
    for context in contexts:
        context.close()
