"""The throw-away databases the benchmarks run on: a SQLite file or a MariaDB database, with the
schema the migrations build, dropped afterwards."""

import os
import tempfile
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from maillist import create_app

DEFAULT_MYSQL_URL = os.environ.get("MAILLIST_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")


def add_database_arguments(parser, backend="sqlite", backends=("sqlite", "mariadb")):
    """--backend and --mysql-url, as every benchmark takes them."""
    parser.add_argument("--backend", choices=backends, default=backend)
    parser.add_argument("--mysql-url", default=DEFAULT_MYSQL_URL, help="the MariaDB server for --backend mariadb")


@contextmanager
def migrated_database(backend, mysql_url=DEFAULT_MYSQL_URL, workdir=None):
    """Yield the URL of an empty database with the migrations applied; drop it afterwards."""
    workdir = workdir or tempfile.mkdtemp()
    server = make_url(mysql_url)
    if backend == "sqlite":
        url = f"sqlite:///{workdir}/bench.db"
    else:
        name = f"maillist_bench_{uuid.uuid4().hex[:8]}"
        with create_engine(server).connect() as connection:
            connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        url = server.set(database=name).render_as_string(hide_password=False)
    try:
        app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"}, instance_path=workdir)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            from maillist.extensions import db

            db.engine.dispose()
        yield url
    finally:
        if backend != "sqlite":
            with create_engine(server).connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS `{make_url(url).database}`"))
