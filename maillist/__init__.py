"""maillist: a mailing-list manager for small organisations sending through Amazon SES."""

import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import ANY_TOPIC, Config, check_database_url, check_settings, load_secret_key
from maillist import mariadb, sqlite
from maillist.auth.cookie_sessions import CookieSessions
from maillist.extensions import csrf, db, login_manager, migrate
from maillist.logs import configure_logging
from maillist.validation import MAX_ID


def create_app(config_class=Config, overrides=None, instance_path=None):
    """Build and configure a maillist application."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.session_interface = CookieSessions()
    app.config.from_object(config_class())
    if overrides:
        app.config.update(overrides)
    check_settings(app.config)
    protect_instance_folder(app.instance_path)
    configure_database(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(app.instance_path)
    configure_logging(app.config.get("LOG_LEVEL", "INFO"))
    if app.config.get("ENABLE_SNS_WEBHOOKS") and ANY_TOPIC in app.config.get("SNS_TOPIC_ARNS", ()):
        logging.getLogger("maillist").warning(
            "SNS_TOPIC_ARNS=* : the webhook accepts messages from any AWS account's topic; name your topics instead")

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)

    hops = app.config.get("PROXY_FIX_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    # Ids in URLs are INTEGER columns: a longer number is no page of ours (404), not a database error.
    app.url_map.converters["int"] = BoundedInteger
    register_blueprints(app)
    register_cli(app)

    from maillist import errors, security_headers, template_filters

    errors.register(app)
    security_headers.register(app)
    sqlite.register(app)
    mariadb.register(app)
    template_filters.register(app)
    return app


class BoundedInteger(IntegerConverter):
    """`<int:...>` in a route, matching 1 to MAX_ID only."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def protect_instance_folder(path):
    """The instance folder (secret key, SQLite database) is for the owner's eyes only."""
    folder = Path(path)
    if folder.is_dir() and folder.stat().st_uid == os.geteuid() and folder.stat().st_mode & 0o077:
        folder.chmod(0o700)


def configure_database(app):
    """Use DATABASE_URL, or a SQLite file in the instance folder when it is unset."""
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config.get("DATABASE_URL")
    if url:
        check_database_url(url)
    else:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True, mode=sqlite.OWNER_ONLY_FOLDER)
        url = "sqlite:///" + str(Path(app.instance_path) / "maillist.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        sqlite.protect_files(make_url(url).database)
        # SQLite has no pool to recycle; waiting a bounded time on a locked database beats failing at once.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": app.config["DB_LOCK_WAIT_TIMEOUT"]}}
    elif url.startswith(("mysql", "mariadb")):
        # Each statement sees what others committed: no stale snapshots in long requests, and
        # fewer gap locks for the webhook's concurrent inserts.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"], isolation_level="READ COMMITTED", **mariadb.pool_options())
        options.setdefault("connect_args", mariadb.connect_args(make_url(url), app.config["DB_LOCK_WAIT_TIMEOUT"],
                                                                app.config["DB_STATEMENT_TIMEOUT"]))
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_blueprints(app):
    """Attach every blueprint with its URL prefix."""
    from maillist.auth import bp as auth_bp
    from maillist.bounces import bp as bounces_bp
    from maillist.health import bp as health_bp
    from maillist.metrics import bp as metrics_bp
    from maillist.lists import bp as lists_bp
    from maillist.lists.unsubscribe_views import bp as unsubscribe_bp
    from maillist.members import bp as members_bp
    from maillist.transports.sns import bp as sns_bp
    from maillist.users import bp as users_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(members_bp, url_prefix="/members")
    app.register_blueprint(lists_bp, url_prefix="/lists")
    app.register_blueprint(users_bp, url_prefix="/users")
    app.register_blueprint(bounces_bp, url_prefix="/bounces")
    app.register_blueprint(sns_bp, url_prefix="/webhooks")
    app.register_blueprint(unsubscribe_bp, url_prefix="/unsubscribe")
    # SNS cannot send a CSRF token; every message's signature is verified instead.
    csrf.exempt(sns_bp)
    # Mail clients' one-click POSTs carry no cookie or token; the signed URL is checked instead.
    csrf.exempt("maillist.lists.unsubscribe_views.unsubscribe")

    @app.get("/")
    def index():
        """Send staff to the members page, the place most work starts."""
        from flask import redirect, url_for

        return redirect(url_for("members.index"))


def register_cli(app):
    """Attach the `flask users|lists|members|bounces|sns` command groups."""
    from maillist.users.cli import users_cli
    from maillist.bounces.cli import bounces_cli
    from maillist.lists.cli import lists_cli
    from maillist.members.cli import members_cli
    from maillist.transports.sns.cli import sns_cli
    from maillist.integrations.ses_cli import ses_cli
    from maillist.demo_cli import demo_cli

    for group in (users_cli, lists_cli, members_cli, bounces_cli, sns_cli, ses_cli, demo_cli):
        app.cli.add_command(group)
