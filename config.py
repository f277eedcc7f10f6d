"""Configuration read from the environment (and a `.env` file when present)."""

import ipaddress
import os
import re
import secrets
from datetime import date
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

load_dotenv()

# arn:<partition>:sns:<region>:<12-digit account>:<topic name>, as AWS spells topic ARNs (group 1: the region).
TOPIC_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:sns:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?", re.ASCII)
ANY_TOPIC = "*"
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(RuntimeError):
    """A setting in the environment has a value maillist cannot use."""


def env_bool(environ, name, default):
    """Read a yes/no setting, refusing anything that is not clearly one or the other."""
    raw = environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def env_int(environ, name, default, minimum=0, maximum=None):
    """Read a whole-number setting between `minimum` and `maximum` (when given)."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, not {value}")
    return value


def env_choice(environ, name, default, choices):
    """Read a setting that must be one of a few words."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(sorted(choices))}, not {raw!r}")
    return value


def env_list(environ, name):
    """Read a comma-separated setting as a list of non-empty items."""
    raw = environ.get(name) or ""
    return [item.strip() for item in raw.split(",") if item.strip()]


def topic_allow_list(environ):
    """SNS_TOPIC_ARNS: topic ARNs, or `*` for any topic; anything else is refused."""
    topics = env_list(environ, "SNS_TOPIC_ARNS")
    for topic in topics:
        if topic != ANY_TOPIC and not TOPIC_ARN.fullmatch(topic):
            raise ConfigError(f"SNS_TOPIC_ARNS: {topic!r} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME) or *")
    return topics


def retired_keys(env):
    """BOUNCE_ADDRESS_OLD_KEYS: `YYYY-MM-DD:KEY` pairs, comma-separated, each the day a key was
    retired and the key; as ((day, key), ...), newest first."""
    found = []
    for part in (env.get("BOUNCE_ADDRESS_OLD_KEYS") or "").split(","):
        if not part.strip():
            continue
        day, colon, key = part.strip().partition(":")
        try:
            retired = date.fromisoformat(day)
        except ValueError:
            retired = None
        if not colon or not key or retired is None:
            raise ConfigError("BOUNCE_ADDRESS_OLD_KEYS: each entry is YYYY-MM-DD:KEY (the day the key was retired, "
                              "then the key), entries separated by commas")
        found.append((retired, key))
    return tuple(sorted(found, reverse=True))


def check_settings(config):
    """Refuse combinations of settings that would leave maillist open; `config` is a mapping."""
    if config.get("ENABLE_SNS_WEBHOOKS") and not config.get("SNS_TOPIC_ARNS"):
        raise ConfigError(
            "SNS_TOPIC_ARNS must name the SNS topics the webhook accepts when ENABLE_SNS_WEBHOOKS is on "
            "(otherwise any AWS account could publish to it); set it to * to accept any topic"
        )


def check_database_url(url):
    """Refuse a DATABASE_URL maillist cannot use, naming the variable."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("DATABASE_URL is not a database URL (sqlite:///PATH or mysql+pymysql://USER:PASSWORD@HOST/NAME)") from None
    if parsed.drivername not in ("sqlite", "mysql+pymysql", "mariadb+pymysql"):
        raise ConfigError(f"DATABASE_URL: maillist runs on SQLite (sqlite:///PATH) or MariaDB/MySQL "
                          f"(mysql+pymysql://...), not {parsed.drivername}")
    database = parsed.database or ""
    if parsed.drivername == "sqlite" and database not in ("", ":memory:") and not database.startswith("file:"):
        folder = Path(database).parent
        if not folder.is_dir():
            # A typo here would otherwise create a folder tree (as root, in a container) and an empty database.
            raise ConfigError(f"DATABASE_URL: the folder {folder} does not exist; create it, or correct the path")


def database_url(env):
    """DATABASE_URL, or a MariaDB URL built from MYSQL_HOST and the other MYSQL_* settings, or None.

    docker-compose passes the parts, not a URL: a password from a password manager may hold
    `@ / # % :`, which a URL pasted together from them would misread; built here, each part is quoted.
    """
    port = env_int(env, "MYSQL_PORT", 3306, minimum=1, maximum=65535)
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    host = (env.get("MYSQL_HOST") or "").strip()
    if not host:
        return None
    return URL.create(
        "mysql+pymysql",
        username=env.get("MYSQL_USER") or "maillist",
        password=env.get("MYSQL_PASSWORD") or None,
        host=host,
        port=port,
        database=env.get("MYSQL_DATABASE") or "maillist",
    ).render_as_string(hide_password=False)


def validate_environment(environ=None):
    """Every setting the app and its server read, checked at once; raises ConfigError naming the first bad one.

    The one check every entry point runs before anything else: flask commands and the pipes (through
    wsgi.py), and gunicorn's master (gunicorn.conf.py), so it stops instead of respawning workers.
    """
    env = os.environ if environ is None else environ
    config = Config(env)
    if config.DATABASE_URL:
        check_database_url(config.DATABASE_URL)
    env_int(env, "GUNICORN_WORKERS", 2, minimum=1)
    env_int(env, "GUNICORN_THREADS", 2, minimum=1)
    return config


def load_secret_key(instance_path):
    """Return the secret key stored in the instance folder, creating it on first use.

    Several processes may start at once on a new folder (gunicorn's workers, the postfix
    container's pipes sharing the api container's volume): the key is written to a file of its
    own, then linked into place, so exactly one key wins and nobody reads a half-written one.
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        draft = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the key
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text().strip()


ARF_TYPES = {"abuse", "fraud", "virus", "other", "not-spam", "auth-failure"}


def arf_complaint_types(env):
    """ARF_COMPLAINT_TYPES: the feedback types of an emailed report that count as a complaint."""
    raw = env.get("ARF_COMPLAINT_TYPES")
    types = {"abuse", "fraud", "virus"} if raw is None or not raw.strip() else {t.lower() for t in env_list(env, "ARF_COMPLAINT_TYPES")}
    unknown = types - ARF_TYPES
    if unknown:
        raise ConfigError(f"ARF_COMPLAINT_TYPES holds {', '.join(sorted(unknown))}; the types are {', '.join(sorted(ARF_TYPES))}")
    return frozenset(types)


def verified_identities(env):
    """SES_VERIFIED_IDENTITIES: domains (example.org) and addresses (ann@example.org), lower-cased."""
    identities = [identity.lower() for identity in env_list(env, "SES_VERIFIED_IDENTITIES")]
    for identity in identities:
        local, at, domain = identity.rpartition("@")
        if (at and not local) or not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+", domain):
            raise ConfigError(f"SES_VERIFIED_IDENTITIES holds {identity!r}, which is neither a domain nor an address")
    return identities


ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;.]+(?:\.[^@\s<>,;.]+)*")


def env_address(env, name, default=""):
    """An address setting (`maillist@lists.example.org`, or `Club Lists <lists@example.org>`), or a one-line ConfigError."""
    raw = (env.get(name) or "").strip() or default
    if raw:
        display, address = parseaddr(raw)
        bare = raw.strip("<>") if "<" not in raw or raw.startswith("<") else raw[raw.index("<") + 1:raw.rindex(">")]
        if address != bare.strip() or not ADDRESS.fullmatch(address):
            raise ConfigError(f"{name} must be an email address (lists@example.org), not {raw!r}")
    return raw


def env_public_url(env, name="PUBLIC_URL"):
    """PUBLIC_URL: empty, or the https:// (or http://) address staff open maillist at, without query or fragment."""
    raw = (env.get(name) or "").strip()
    if raw:
        parts = urlsplit(raw)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(f"{name} must be the address maillist is opened at, such as https://lists.example.org, not {raw!r}")
    return raw.rstrip("/")


def metrics_allow_from(env):
    """METRICS_ALLOW_FROM, checked: comma-separated addresses or networks (10.0.0.0/8, ::1)."""
    raw = env.get("METRICS_ALLOW_FROM") or ""
    for part in (p.strip() for p in raw.split(",")):
        if part:
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ConfigError(f"METRICS_ALLOW_FROM holds {part!r}, which is not an address or network") from None
    return raw


class Config:
    """Settings for a running maillist; every name can be set in the environment."""

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.DATABASE_URL = database_url(env)
        self.SECRET_KEY = env.get("SECRET_KEY") or None
        self.BOUNCE_ADDRESS_KEY = env.get("BOUNCE_ADDRESS_KEY") or None
        self.BOUNCE_ADDRESS_OLD_KEYS = retired_keys(env)
        self.BOUNCE_ADDRESS_MAX_AGE_DAYS = env_int(env, "BOUNCE_ADDRESS_MAX_AGE_DAYS", 30, minimum=1, maximum=3650)
        self.ENABLE_SNS_WEBHOOKS = env_bool(env, "ENABLE_SNS_WEBHOOKS", False)
        self.ENABLE_BOUNCE_HANDLING = env_bool(env, "ENABLE_BOUNCE_HANDLING", False)
        self.ENABLE_EMAIL_BOUNCE_PROCESSING = env_bool(env, "ENABLE_EMAIL_BOUNCE_PROCESSING", False)
        self.SOFT_BOUNCE_THRESHOLD = env_int(env, "SOFT_BOUNCE_THRESHOLD", 3, minimum=1)
        self.SOFT_BOUNCE_WINDOW_DAYS = env_int(env, "SOFT_BOUNCE_WINDOW_DAYS", 30)
        self.SOFT_BOUNCE_ACTION = env_choice(env, "SOFT_BOUNCE_ACTION", "flag", {"flag", "deactivate"})
        self.SNS_TOPIC_ARNS = topic_allow_list(env)
        self.SNS_MAX_MESSAGE_AGE = env_int(env, "SNS_MAX_MESSAGE_AGE", 86400)
        self.COMPLAINT_ACTION = env_choice(env, "COMPLAINT_ACTION", "deactivate", {"deactivate", "log"})
        self.ARF_COMPLAINT_TYPES = arf_complaint_types(env)
        self.EMAIL_REPORTS_PER_MINUTE = env_int(env, "EMAIL_REPORTS_PER_MINUTE", 5)
        self.HARD_BOUNCE_POLICY = env_choice(env, "HARD_BOUNCE_POLICY", "reason", {"reason", "type"})
        self.BOUNCE_STORM_COUNT = env_int(env, "BOUNCE_STORM_COUNT", 10)
        self.BOUNCE_STORM_SHARE = env_int(env, "BOUNCE_STORM_SHARE", 50, maximum=100)
        self.BOUNCE_STORM_WINDOW = env_int(env, "BOUNCE_STORM_WINDOW", 3600, minimum=60)
        self.PROXY_FIX_HOPS = env_int(env, "PROXY_FIX_HOPS", 0)
        self.SESSION_COOKIE_SECURE = env_bool(env, "SESSION_COOKIE_SECURE", False)
        self.PREFERRED_URL_SCHEME = "https" if self.SESSION_COOKIE_SECURE else "http"
        self.LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = env_int(env, "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS", 5, minimum=1)
        self.LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int(env, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 50, minimum=1)
        self.LOGIN_MAX_FAILURES_PER_ADDRESS = env_int(env, "LOGIN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1)
        self.LOGIN_FAILURE_WINDOW = env_int(env, "LOGIN_FAILURE_WINDOW", 900, minimum=1)
        self.SESSION_IDLE_TIMEOUT = env_int(env, "SESSION_IDLE_TIMEOUT", 4 * 3600, minimum=60)
        self.SESSION_MAX_AGE = env_int(env, "SESSION_MAX_AGE", 24 * 3600, minimum=60)
        self.DB_LOCK_WAIT_TIMEOUT = env_int(env, "DB_LOCK_WAIT_TIMEOUT", 5, minimum=1)
        self.DB_STATEMENT_TIMEOUT = env_int(env, "DB_STATEMENT_TIMEOUT", 10, minimum=1)
        self.SMTP_HOST = env.get("SMTP_HOST") or "127.0.0.1"
        self.SMTP_PORT = env_int(env, "SMTP_PORT", 25, minimum=1, maximum=65535)
        self.NOTIFY_FROM = env_address(env, "NOTIFY_FROM", "maillist@localhost")
        self.NOTIFY_ADMIN = env_address(env, "NOTIFY_ADMIN")
        # What the bounce pipe needs to tell a relay's refusal of a post from a member's bounce.
        self.POSTFIX_MYHOSTNAME = env.get("POSTFIX_MYHOSTNAME") or ""
        self.POSTFIX_RELAYHOST = env.get("POSTFIX_RELAYHOST") or ""
        self.SES_SMTP_HOST = env.get("SES_SMTP_HOST") or ""
        self.PUBLIC_URL = env_public_url(env, "PUBLIC_URL")
        self.SES_VERIFIED_IDENTITIES = verified_identities(env)
        self.SES_MAX_SEND_RATE = env_int(env, "SES_MAX_SEND_RATE", 14, maximum=10_000)
        self.FROM_REWRITE = env_choice(env, "FROM_REWRITE", "unverified", {"unverified", "always", "never"})
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or ""
        self.METRICS_ALLOW_FROM = metrics_allow_from(env)
        self.LOG_LEVEL = env_choice(env, "LOG_LEVEL", "info", {"debug", "info", "warning", "error", "critical"}).upper()
        check_settings(vars(self))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    # A thread per process writes buffered intake counts out (maillist.intake.door_counts).
    INTAKE_COUNTS_FLUSHER = True
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 280}
    # SNS notifications are a few KiB; 256 KiB is SNS's own message limit plus envelope room.
    SNS_MAX_BODY_BYTES = 512 * 1024
    SNS_CERT_TIMEOUT = 5


class Setting:
    """One environment variable: its default as people read it, what it means, and who reads it."""

    def __init__(self, name, default, meaning, read_by, in_env_example=True):
        self.name, self.default, self.meaning, self.read_by, self.in_env_example = name, default, meaning, read_by, in_env_example


APP, SERVER, POSTFIX, COMPOSE, TESTS = "app", "server", "postfix", "compose", "tests"

# Every variable maillist, its scripts and its containers read: the one list the README's
# Configuration section and .env.example are checked against (tests/unit/test_settings_table.py).
SETTINGS = [
    Setting("DATABASE_URL", "SQLite file `instance/maillist.db`", "`mysql+pymysql://user:password@host/maillist` in production (special characters in the password percent-encoded); when unset and `MYSQL_HOST` is set, built from the `MYSQL_*` settings", (APP, POSTFIX), in_env_example=False),
    Setting("MYSQL_HOST", "none", "MariaDB's host, for a `DATABASE_URL` built from parts (docker-compose sets `mysql`)", (APP, POSTFIX), in_env_example=False),
    Setting("MYSQL_PORT", "`3306`", "its port", (APP, POSTFIX), in_env_example=False),
    Setting("MYSQL_DATABASE", "`maillist`", "the database's name (docker-compose: also the one the mysql service creates)", (APP, POSTFIX)),
    Setting("MYSQL_USER", "`maillist`", "the database user", (APP, POSTFIX)),
    Setting("MYSQL_PASSWORD", "none", "its password, as it is: any characters, nothing to encode", (APP, POSTFIX)),
    Setting("SECRET_KEY", "generated once into `instance/secret_key`", "signs sessions and CSRF tokens", (APP, POSTFIX)),
    Setting("ENABLE_SNS_WEBHOOKS", "`false`", "accept SNS messages at `POST /webhooks/sns`", (APP,)),
    Setting("ENABLE_BOUNCE_HANDLING", "`false`", "apply bounces and complaints to members", (APP,)),
    Setting("ENABLE_EMAIL_BOUNCE_PROCESSING", "`false`", "apply bounce emails piped from Postfix (see [Bounces by email](#bounces-by-email-ses-sandbox))", (APP, POSTFIX)),
    Setting("BOUNCE_ADDRESS_KEY", "derived from `SECRET_KEY`", "signs members' bounce addresses and unsubscribe links; the app and Postfix's pipes must share it", (APP, POSTFIX)),
    Setting("BOUNCE_ADDRESS_OLD_KEYS", "empty", "retired bounce-address keys, `YYYY-MM-DD:KEY` (the day it was retired, then the key), comma-separated: addresses signed under one still count until `BOUNCE_ADDRESS_MAX_AGE_DAYS` after that day (see [The envelope](#the-envelope-signed-per-member-bounce-addresses-verp))", (APP, POSTFIX)),
    Setting("BOUNCE_ADDRESS_MAX_AGE_DAYS", "`30`", "days a bounce address counts after the day its mail was sent (and after its key was retired)", (APP, POSTFIX)),
    Setting("SOFT_BOUNCE_THRESHOLD", "`3`", "bounces after which a transient bounce marks a member `soft`", (APP, POSTFIX)),
    Setting("SOFT_BOUNCE_WINDOW_DAYS", "`30`", "days after which earlier bounces stop counting: a bounce that comes more than this after the last one starts the count again, and `flask bounces cleanup` returns a `soft` member with no bounce for this long to `clean`; `0` counts forever", (APP, POSTFIX)),
    Setting("SOFT_BOUNCE_ACTION", "`flag`", "what `soft` does: `flag` the member (mail still goes), or `deactivate` them (Mailman's way)", (APP, POSTFIX)),
    Setting("SNS_TOPIC_ARNS", "empty", "comma-separated topic ARNs the webhook accepts; required when `ENABLE_SNS_WEBHOOKS=true` (start-up stops without it); `*` accepts any topic, with a warning at every start", (APP,)),
    Setting("SNS_MAX_MESSAGE_AGE", "`86400`", "seconds after which an SNS message is refused as stale; `0` turns the check off", (APP,)),
    Setting("HARD_BOUNCE_POLICY", "`reason`", "`reason`: a Permanent bounce deactivates only a dead address (no such user or domain, moved, suppressed); `type`: any Permanent bounce does", (APP, POSTFIX)),
    Setting("BOUNCE_STORM_COUNT", "`10`", "members of one receiving domain whose permanent bounces within the window pause automatic deactivations there (see [Bounce storms](#bounce-storms)); `0` turns the count off", (APP, POSTFIX)),
    Setting("BOUNCE_STORM_SHARE", "`50`", "percent of a domain's members (at least 5 of them) whose permanent bounces within the window pause deactivations there too; `0` turns the share off", (APP, POSTFIX)),
    Setting("BOUNCE_STORM_WINDOW", "`3600`", "seconds of event time the bounce-storm guard looks at, either side of each permanent bounce", (APP, POSTFIX)),
    Setting("COMPLAINT_ACTION", "`deactivate`", "`deactivate` a member who complains, or only `log` it", (APP, POSTFIX)),
    Setting("ARF_COMPLAINT_TYPES", "`abuse,fraud,virus`", "feedback types of an emailed ARF report (to a member's bounce address) that count as a complaint; `opt-out` always takes the member off that list; `not-spam`, `auth-failure` and unknown or missing types change nothing", (APP, POSTFIX)),
    Setting("EMAIL_REPORTS_PER_MINUTE", "`5`", "bounce emails recorded for one member in a minute; more are logged and dropped (a leaked bounce address cannot fill a member's history); `0` turns the limit off", (APP, POSTFIX)),
    Setting("AWS_REGION", "none", "the region of your SES identity, for `flask sns setup`, `flask sns poll` and SES's suppression list; these also read the other standard AWS settings (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` or `AWS_PROFILE`, `AWS_ENDPOINT_URL`)", (APP,)),
    Setting("SQS_QUEUE_URL", "empty", "the queue the `poller` service reads (docker-compose profile `poller`; `flask sns setup --queue` prints it)", (SERVER,)),
    Setting("SESSION_COOKIE_SECURE", "`false`", "`true` behind HTTPS: cookies only over TLS, URLs built with `https` (docker-compose sets it)", (APP,), in_env_example=False),
    Setting("PROXY_FIX_HOPS", "`0`", "number of proxies (nginx: `1`) whose `X-Forwarded-*` headers are trusted (docker-compose sets it)", (APP,), in_env_example=False),
    Setting("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS", "`5`", "sign-in attempts per account from one client address within the window; then that address pauses for that account", (APP,)),
    Setting("LOGIN_MAX_FAILURES_PER_ADDRESS", "`20`", "sign-in attempts per client address within the window", (APP,)),
    Setting("LOGIN_MAX_FAILURES_PER_ACCOUNT", "`50`", "checked sign-in attempts per account from anywhere within the window (the ceiling)", (APP,)),
    Setting("LOGIN_FAILURE_WINDOW", "`900`", "seconds each count lasts", (APP,)),
    Setting("SESSION_IDLE_TIMEOUT", "`14400`", "seconds without a request after which a session ends", (APP,)),
    Setting("SESSION_MAX_AGE", "`86400`", "seconds after sign-in at which a session ends, active or not", (APP,)),
    Setting("DB_LOCK_WAIT_TIMEOUT", "`5`", "seconds a transaction waits for a lock (MariaDB row locks, SQLite's writer lock) before giving up: the webhook then answers 503 and SNS retries", (APP,)),
    Setting("DB_STATEMENT_TIMEOUT", "`10`", "seconds one statement may run on MariaDB", (APP,)),
    Setting("SMTP_HOST", "`127.0.0.1`", "the SMTP server `flask bounces notify` sends owners' digests through (docker-compose sets `127.0.0.1` and port `10025`, Postfix's loopback port, in the postfix container, where the command runs; the api container has no mail server)", (APP,)),
    Setting("SMTP_PORT", "`25`", "its port", (APP,)),
    Setting("NOTIFY_FROM", "`maillist@localhost`", "the sender of owners' digests", (APP,)),
    Setting("NOTIFY_ADMIN", "empty", "where the digest of members on no list with an owner goes; empty: to no one (they wait until it is set)", (APP,)),
    Setting("PUBLIC_URL", "empty", "the address staff open maillist at (`https://lists.example.org`), for links in digests and the one-click unsubscribe link on every list copy (without it, copies offer only the unsubscribe mail address)", (APP, POSTFIX)),
    Setting("SES_VERIFIED_IDENTITIES", "empty", "comma-separated domains and addresses verified in SES, which list mail may keep as its From (every list's own domain counts too; a domain covers its subdomains)", (APP, POSTFIX)),
    Setting("FROM_REWRITE", "`unverified`", "when a post leaves with the list's address in From and the author in Reply-To: `unverified` (the author's address is not covered by a verified identity), `always` or `never` (SES refuses unverified authors)", (APP, POSTFIX)),
    Setting("SES_MAX_SEND_RATE", "`14`", "messages per second the list pipe re-injects list mail at (your SES account's maximum send rate: the SES console's Account dashboard; the pipe runs one post at a time, so this paces the way out); `0` does not pace", (APP, POSTFIX)),
    Setting("MAX_MESSAGE_MB", "`10`", "the largest post Postfix takes, in MB as received (at most `39`: SES takes 40 MB after encoding, and the list adds its headers); larger posts are refused at SMTP time with `552 5.3.4 Message size exceeds fixed limit`", (POSTFIX,)),
    Setting("METRICS_TOKEN", "empty", "the bearer token Prometheus sends to read `GET /metrics`; with neither this nor `METRICS_ALLOW_FROM` set, `/metrics` answers 404", (APP,)),
    Setting("METRICS_ALLOW_FROM", "empty", "comma-separated addresses or networks that may read `/metrics` without the token: the address that connects to the app itself (Prometheus scraping `api:8000`), never one an `X-Forwarded-For` header claims", (APP,)),
    Setting("PROMETHEUS_MULTIPROC_DIR", "`/tmp/maillist-metrics` in the api container", "a folder where each gunicorn worker keeps its webhook latency histogram, added up at `/metrics` (prometheus-client's multiprocess mode)", (SERVER,), in_env_example=False),
    Setting("LOG_LEVEL", "`INFO`", "Python logging level: `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`", (APP, POSTFIX)),
    Setting("MAILLIST_ADMIN_EMAIL", "`admin@example.com`", "the first administrator `flask users ensure-admin` (and `scripts/run.sh`) creates", (APP,), in_env_example=False),
    Setting("GUNICORN_BIND", "`0.0.0.0:8000`", "where gunicorn listens (`gunicorn.conf.py`)", (SERVER,), in_env_example=False),
    Setting("GUNICORN_WORKERS", "`2`", "gunicorn worker processes", (SERVER,)),
    Setting("GUNICORN_THREADS", "`2`", "threads per gunicorn worker", (SERVER,)),
    Setting("PORT", "`8000`", "the port `scripts/run.sh` serves on (127.0.0.1)", (SERVER,), in_env_example=False),
    Setting("PYTHON", "`python3`", "the Python `scripts/run.sh` and `scripts/test.sh` build `.venv` with", (SERVER,), in_env_example=False),
    Setting("MYSQL_ROOT_PASSWORD", "none", "the root password the mysql service is created with (docker-compose)", (COMPOSE,)),
    Setting("SERVER_NAME", "`lists.example.org`", "the public host name nginx serves (docker-compose); its certificate goes in `nginx/certs/`", (COMPOSE,)),
    Setting("PUBLISH_SMTP", "`25`", "the host port docker-compose publishes Postfix's SMTP on", (COMPOSE,)),
    Setting("PUBLISH_HTTP", "`80`", "the host port docker-compose publishes nginx's HTTP on (redirects, ACME)", (COMPOSE,)),
    Setting("PUBLISH_HTTPS", "`443`", "the host port docker-compose publishes nginx's HTTPS on", (COMPOSE,)),
    Setting("PYTHON_IMAGE", "`python:3.11-slim`", "the image the app and postfix images are built from", (COMPOSE,)),
    Setting("MARIADB_IMAGE", "`mariadb:10.11`", "the mysql service's image", (COMPOSE,)),
    Setting("NGINX_IMAGE", "`nginx:1.27-alpine`", "the nginx service's image", (COMPOSE,)),
    Setting("POSTFIX_MYHOSTNAME", "`lists.example.org`", "this mail server's name (the MX of the list domain)", (POSTFIX,)),
    Setting("SES_SMTP_HOST", "none", "SES's SMTP endpoint, e.g. `email-smtp.eu-west-1.amazonaws.com`; with the username and password, mail leaves over TLS with SASL", (POSTFIX,)),
    Setting("SES_SMTP_PORT", "`587`", "SES's SMTP port", (POSTFIX,)),
    Setting("SES_SMTP_USERNAME", "none", "SES SMTP credentials (not your AWS access keys)", (POSTFIX,)),
    Setting("SES_SMTP_PASSWORD", "none", "SES SMTP credentials; written to a root-only `sasl_passwd`", (POSTFIX,)),
    Setting("POSTFIX_RELAYHOST", "none", "instead of SES: another relay, e.g. `[127.0.0.1]:2525` (no TLS, no SASL)", (POSTFIX,)),
    Setting("POSTFIX_SMTPD_LISTEN", "`smtp`", "where Postfix takes mail (port 25 on every interface)", (POSTFIX,), in_env_example=False),
    Setting("POSTFIX_INET_INTERFACES", "`all`", "Postfix's `inet_interfaces`", (POSTFIX,), in_env_example=False),
    Setting("POSTFIX_REINJECT_HOST", "`127.0.0.1`", "the loopback listener list mail is re-injected to", (POSTFIX,), in_env_example=False),
    Setting("POSTFIX_REINJECT_PORT", "`10025`", "its port", (POSTFIX,), in_env_example=False),
    Setting("POSTFIX_QUEUE_DIRECTORY", "`/var/spool/postfix`", "Postfix's queue", (POSTFIX,), in_env_example=False),
    Setting("POSTFIX_DATA_DIRECTORY", "`/var/lib/postfix`", "Postfix's data", (POSTFIX,), in_env_example=False),
    Setting("POSTFIX_MAILLOG_FILE", "`/dev/stdout`", "Postfix's log", (POSTFIX,), in_env_example=False),
    Setting("POSTFIX_PIPE_USER", "`nobody` (`maillist` in the container)", "the user Postfix's pipes and policy service run as", (POSTFIX,), in_env_example=False),
    Setting("MAILLIST_FLASK", "`flask`", "the command the pipes run flask with", (POSTFIX,), in_env_example=False),
    Setting("MAILLIST_APP", "`/app/wsgi.py`", "maillist's WSGI file, for the pipes", (POSTFIX,), in_env_example=False),
    Setting("MAILLIST_PYTHONPATH", "none", "extra import path for the pipes", (POSTFIX,), in_env_example=False),
    Setting("MAILLIST_PIPE_ENV", "`/etc/maillist/pipe.env`", "the pipes' settings file, readable by the pipe user alone", (POSTFIX,), in_env_example=False),
    Setting("MAILLIST_TEST_MYSQL_URL", "unset (`scripts/test.sh` then starts a throwaway server; `.ci/run` names `mysql+pymysql://root@127.0.0.1:3306/`)", "the MariaDB server the tests make throw-away databases on", (TESTS,), in_env_example=False),
    Setting("MARIADBD", "`mariadbd` on the PATH, else `/usr/sbin/mariadbd`", "the MariaDB server `scripts/test.sh` starts a throwaway one of when `MAILLIST_TEST_MYSQL_URL` is unset", (TESTS,), in_env_example=False),
    Setting("MAILLIST_REQUIRE_ALL_TESTS", "unset", "`1`: a skipped test fails the run (`.ci/run` sets it)", (TESTS,), in_env_example=False),
    Setting("MAILLIST_CHROMIUM", "`/usr/bin/chromium`", "the Chromium the browser tests drive", (TESTS,), in_env_example=False),
    Setting("MAILLIST_AXE", "`.ci/node_modules/axe-core/axe.min.js`", "the axe-core the accessibility tests run (`.ci/run` installs it from npm)", (TESTS,), in_env_example=False),
    Setting("MAILLIST_TEST_OUTPUT", "`test-output/`", "where the browser tests put screenshots", (TESTS,), in_env_example=False),
]
