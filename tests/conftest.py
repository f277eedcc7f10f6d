"""Fixtures every ring shares: an app built by the real factory on a real database (SQLite file and MariaDB)."""

import copy
import os
import uuid
from functools import partial

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import generate_password_hash

from maillist import create_app
from maillist.extensions import db
from maillist.models import user as user_model
from tests import helpers
from tests.helpers import REQUIRE_ALL, app_settings, empty_all_tables, need, throwaway_database

BACKENDS = ["sqlite", "mariadb"]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """In CI (MAILLIST_REQUIRE_ALL_TESTS=1) any skipped test fails the run."""
    skipped = terminalreporter.stats.get("skipped", [])
    if REQUIRE_ALL and skipped:
        terminalreporter.write_line(f"{len(skipped)} test(s) skipped, and MAILLIST_REQUIRE_ALL_TESTS=1 forbids it", red=True)
        terminalreporter._session.exitstatus = 1


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashes():
    """Hash test passwords with few PBKDF2 rounds: signing in works the same, at a hundredth of the cost.

    Only this process is affected; the servers the system tests start hash as in production.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(user_model, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000"))
        yield


@pytest.fixture(autouse=True)
def database_reachable_again():
    """Each test starts as a fresh worker would: the database-unavailable breaker closed."""
    from maillist import availability

    availability.database.reset()
    yield
    availability.database.reset()


@pytest.fixture(autouse=True)
def no_counts_carried_over():
    """Intake counts buffered in this process by an earlier test belong to that test's database."""
    from maillist.intake import door_counts

    door_counts.counts.clear()
    yield
    door_counts.counts.clear()


@pytest.fixture(scope="session")
def mariadb_server_url():
    """The MariaDB server named by MAILLIST_TEST_MYSQL_URL, or a skip when none answers."""
    url = os.environ.get("MAILLIST_TEST_MYSQL_URL")
    need(url, "MAILLIST_TEST_MYSQL_URL is not set")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:  # no server to test against
        need(False, f"MariaDB at {url} does not answer: {error}")
    finally:
        engine.dispose()
    return make_url(url)


@pytest.fixture(scope="session")
def mariadb_database(mariadb_server_url):
    """A throw-away MariaDB database for this test run, dropped at the end; yields its URL."""
    name = f"maillist_test_{uuid.uuid4().hex[:10]}"
    yield from throwaway_database(mariadb_server_url, name)


@pytest.fixture(scope="session")
def mariadb_schema(mariadb_database):
    """The MariaDB test database with the models' tables created once for the session."""
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": mariadb_database, "SECRET_KEY": "test"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return mariadb_database


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Which database this test runs on."""
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request):
    """A database URL for this test: a fresh SQLite file, or the shared MariaDB test database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'maillist.db'}"
    return request.getfixturevalue("mariadb_schema")


@pytest.fixture
def app_overrides():
    """Extra settings a test module wants (override this fixture)."""
    return {}


class AppShelf:
    """One app per backend and settings for this worker, reused by every test that asks for the same.

    Building an app compiles every URL rule (most of its cost), and a fresh SQLite file needs its
    tables created: together about 40 ms, paid once here instead of before every test. Each test
    still starts from a clean state: every table emptied, the settings as they were built, the
    connection pool new.
    """

    def __init__(self, folder):
        self.folder = folder
        self.apps = {}

    def get(self, backend, overrides, mariadb_url=None):
        key = (backend, repr(sorted(overrides.items())))
        if key not in self.apps:
            place = self.folder / f"app-{len(self.apps)}"
            place.mkdir()
            url = f"sqlite:///{place / 'maillist.db'}" if backend == "sqlite" else mariadb_url
            app = create_app(overrides=app_settings(url, **overrides), instance_path=str(place / "instance"))
            if backend == "sqlite":
                with app.app_context():
                    db.create_all()
                    db.engine.dispose()
            self.apps[key] = (app, copy.deepcopy(dict(app.config)))
        return self.apps[key]

    def close(self):
        for app, _ in self.apps.values():
            with app.app_context():
                db.engine.dispose()


@pytest.fixture(scope="session")
def app_shelf(tmp_path_factory):
    """This worker's apps, built on first use (see AppShelf)."""
    shelf = AppShelf(tmp_path_factory.mktemp("apps"))
    yield shelf
    shelf.close()


@pytest.fixture
def app(backend, app_overrides, app_shelf, request):
    """A maillist app on a clean database, with an app context pushed."""
    mariadb_url = request.getfixturevalue("mariadb_schema") if backend == "mariadb" else None
    app, settings = app_shelf.get(backend, app_overrides, mariadb_url)
    app.config.clear()
    app.config.update(copy.deepcopy(settings))
    with app.app_context():
        empty_all_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client that keeps cookies and knows the CSRF token."""
    return helpers.staff_client(app)


@pytest.fixture
def runner(app):
    """A runner for the `flask` commands."""
    return app.test_cli_runner()


@pytest.fixture
def login(app):
    """Sign in a new user of the given role; returns a StaffClient with its session."""

    def sign_in(role="admin", email=None, password="a long enough password"):
        email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.org"
        helpers.make_user(email=email, role=role, password=password)
        staff = helpers.staff_client(app)
        response = staff.post_form("/login", {"email": email, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)
        staff.user_email = email
        return staff

    return sign_in


@pytest.fixture
def webhook_settings():
    """Settings with the SNS webhook and bounce handling switched on."""
    return {"ENABLE_SNS_WEBHOOKS": True, "ENABLE_BOUNCE_HANDLING": True, "SNS_TOPIC_ARNS": [helpers.TOPIC_ARN]}


@pytest.fixture
def aws():
    """Amazon's side, the one thing the tests mock: the certificate URL and SubscribeURL answer."""
    import responses

    from maillist.transports.sns.certificates import cache

    cache.clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(helpers.CERT_URL, body=helpers.cert_pem(), content_type="application/x-x509-ca-cert")
        mock.get(helpers.SUBSCRIBE_URL, body="<ConfirmSubscriptionResponse/>", status=200)
        yield mock
    cache.clear()


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto, the standard AWS mock, served over HTTP on 127.0.0.1 for this worker: boto3 runs its whole client stack."""
    from moto.server import ThreadedMotoServer

    port = helpers.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_account(moto_endpoint, monkeypatch, tmp_path):
    """The standard AWS settings pointing at a fresh moto account (eu-west-1); yields a boto3 client maker."""
    import urllib.request

    import boto3

    # Not through requests: the `aws` fixture's mock of Amazon's URLs catches every requests call.
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10).close()
    settings = {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": helpers.REGION, "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield lambda service: boto3.client(service, region_name=helpers.REGION, endpoint_url=moto_endpoint)
