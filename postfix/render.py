#!/usr/bin/env python3
"""Write maillist's Postfix configuration into a directory, filled in from the environment.

    DATABASE_URL=mysql+pymysql://maillist:secret@mysql:3306/maillist \\
    SES_SMTP_HOST=email-smtp.eu-west-1.amazonaws.com SES_SMTP_USERNAME=... SES_SMTP_PASSWORD=... \\
    python3 postfix/render.py /etc/postfix

Settings (environment, with defaults):
  DATABASE_URL               maillist's MySQL/MariaDB database (required, unless MYSQL_HOST is set)
  MYSQL_HOST, MYSQL_PORT,    instead of DATABASE_URL: the database's parts, as they are (a password
  MYSQL_USER, MYSQL_PASSWORD,    may hold any character); docker-compose passes these
  MYSQL_DATABASE
  POSTFIX_MYHOSTNAME         this mail server's name (lists.example.org)
  SES_SMTP_HOST / _PORT      SES's SMTP endpoint (port 587); with SES_SMTP_USERNAME and
  SES_SMTP_USERNAME / _PASSWORD   SES_SMTP_PASSWORD, mail leaves over TLS with SASL
  POSTFIX_RELAYHOST          instead of SES: another relay, e.g. [127.0.0.1]:2525 (no TLS, no SASL)
  POSTFIX_SMTPD_LISTEN       where Postfix takes mail (smtp, i.e. port 25 on every interface)
  POSTFIX_INET_INTERFACES    all
  POSTFIX_REINJECT_HOST/PORT the loopback listener list mail is re-injected to (127.0.0.1, 10025)
  POSTFIX_QUEUE_DIRECTORY    /var/spool/postfix
  POSTFIX_DATA_DIRECTORY     /var/lib/postfix
  POSTFIX_MAILLOG_FILE       /dev/stdout
  POSTFIX_PIPE_USER          the user the pipes run as (nobody)
  MAILLIST_FLASK             the command that runs flask for the pipes (flask)
  MAILLIST_APP               maillist's WSGI file (/app/wsgi.py)
  MAILLIST_PYTHONPATH        extra import path for the pipes (none)
  MAILLIST_PIPE_ENV          where the pipes' private settings go (/etc/maillist/pipe.env; outside
                             Postfix's configuration folder, which must hold root's files only)
  SECRET_KEY, BOUNCE_ADDRESS_KEY   the key that signs members' bounce addresses: the same value
                             as the app's, or `flask members bounce-address` and the pipes disagree
  BOUNCE_ADDRESS_OLD_KEYS, BOUNCE_ADDRESS_MAX_AGE_DAYS   retired keys and how long addresses count
  ENABLE_EMAIL_BOUNCE_PROCESSING, SOFT_BOUNCE_THRESHOLD, SOFT_BOUNCE_WINDOW_DAYS, SOFT_BOUNCE_ACTION,
  COMPLAINT_ACTION, ARF_COMPLAINT_TYPES, EMAIL_REPORTS_PER_MINUTE, HARD_BOUNCE_POLICY,
  BOUNCE_STORM_COUNT, BOUNCE_STORM_SHARE, BOUNCE_STORM_WINDOW, LOG_LEVEL,
  SES_VERIFIED_IDENTITIES, FROM_REWRITE, SES_MAX_SEND_RATE, PUBLIC_URL: as for the app
  MAX_MESSAGE_MB             the largest post Postfix takes (10; at most 39)

Secrets are kept out of world-readable files and out of every command line: the database
settings go into the mysql-*.cf tables (root and Postfix's group), the SES password into
sasl_passwd (root only), and what the pipes need into MAILLIST_PIPE_ENV, readable by the pipe
user alone, which the maillist-pipe wrapper reads before running flask.
"""

import os
import shlex
import shutil
import sys
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

HERE = Path(__file__).resolve().parent


def database_url(env):
    """DATABASE_URL, or one built from MYSQL_HOST and the other MYSQL_* parts (each quoted), as the app does."""
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    host = (env.get("MYSQL_HOST") or "").strip()
    if not host:
        sys.exit("render.py: DATABASE_URL (or MYSQL_HOST with MYSQL_USER, MYSQL_PASSWORD and MYSQL_DATABASE) is required")
    user, password = quote(env.get("MYSQL_USER") or "maillist", safe=""), quote(env.get("MYSQL_PASSWORD") or "", safe="")
    port, database = env.get("MYSQL_PORT") or "3306", quote(env.get("MYSQL_DATABASE") or "maillist", safe="")
    if not port.isdigit():
        sys.exit(f"render.py: MYSQL_PORT must be a port number, not {port!r}")
    return f"mysql+pymysql://{user}:{password}@{host}:{port}/{database}"


def database_connection(url):
    """The host/user/password/dbname lines of a Postfix mysql table, from a database URL."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("mysql"):
        raise SystemExit(f"render.py: DATABASE_URL must be a mysql URL for Postfix, not {parts.scheme!r}")
    try:
        port = parts.port or 3306
    except ValueError:
        raise SystemExit("render.py: DATABASE_URL is not a valid URL (percent-encode @ / # % : in the password, "
                         "or set MYSQL_HOST, MYSQL_USER, MYSQL_PASSWORD and MYSQL_DATABASE instead)") from None
    values = {"user": unquote(parts.username or "root"), "password": unquote(parts.password or ""),
              "dbname": unquote(parts.path.lstrip("/"))}
    for name, value in values.items():
        # A table file is read line by line with surrounding spaces dropped: such a value cannot be written.
        if "\n" in value or "\r" in value or value != value.strip():
            raise SystemExit(f"render.py: the database {name} cannot hold line breaks or start or end with a space")
    lines = [f"hosts = inet:{parts.hostname or '127.0.0.1'}:{port}"] + [f"{name} = {value}" for name, value in values.items()]
    return "\n".join(lines)


def settings(env, target):
    """Every @NAME@ value, from the environment and defaults."""
    url = database_url(env)
    ses_host = env.get("SES_SMTP_HOST")
    ses_user, ses_password = env.get("SES_SMTP_USERNAME"), env.get("SES_SMTP_PASSWORD")
    if env.get("POSTFIX_RELAYHOST"):
        relayhost, tls, sasl, sasl_maps = env["POSTFIX_RELAYHOST"], "none", "no", ""
    elif ses_host and ses_user and ses_password:
        relayhost = f"[{ses_host}]:{env.get('SES_SMTP_PORT', '587')}"
        tls, sasl, sasl_maps = "encrypt", "yes", "texthash:$config_directory/sasl_passwd"
    else:
        sys.exit("render.py: set SES_SMTP_HOST, SES_SMTP_USERNAME and SES_SMTP_PASSWORD (or POSTFIX_RELAYHOST)")
    size_mb = env.get("MAX_MESSAGE_MB") or "10"
    if not size_mb.isdigit() or not 1 <= int(size_mb) <= 39:
        sys.exit(f"render.py: MAX_MESSAGE_MB must be a whole number from 1 to 39 (SES takes 40 MB after encoding), not {size_mb!r}")
    return {
        "MESSAGE_SIZE_LIMIT": str(int(size_mb) * 1024 * 1024),
        "DB_CONNECTION": database_connection(url),
        "MYHOSTNAME": env.get("POSTFIX_MYHOSTNAME", "lists.example.org"),
        "INET_INTERFACES": env.get("POSTFIX_INET_INTERFACES", "all"),
        "QUEUE_DIRECTORY": env.get("POSTFIX_QUEUE_DIRECTORY", "/var/spool/postfix"),
        "DATA_DIRECTORY": env.get("POSTFIX_DATA_DIRECTORY", "/var/lib/postfix"),
        "MAILLOG_FILE": env.get("POSTFIX_MAILLOG_FILE", "/dev/stdout"),
        "MAILLOG_DIRECTORY": str(Path(env.get("POSTFIX_MAILLOG_FILE", "/dev/stdout")).parent),
        "RELAYHOST": relayhost,
        "SMTP_TLS_SECURITY_LEVEL": tls,
        "SMTP_SASL_AUTH_ENABLE": sasl,
        "SMTP_SASL_PASSWORD_MAPS": sasl_maps,
        "SMTPD_LISTEN": env.get("POSTFIX_SMTPD_LISTEN", "smtp"),
        "REINJECT_HOST": env.get("POSTFIX_REINJECT_HOST", "127.0.0.1"),
        "REINJECT_PORT": env.get("POSTFIX_REINJECT_PORT", "10025"),
        "REINJECT_LISTEN": f"{env.get('POSTFIX_REINJECT_HOST', '127.0.0.1')}:{env.get('POSTFIX_REINJECT_PORT', '10025')}",
        "PIPE_USER": env.get("POSTFIX_PIPE_USER", "nobody"),
        "CONFIG_DIRECTORY": str(target),
        "MAILLIST_FLASK": env.get("MAILLIST_FLASK", "flask"),
        "MAILLIST_APP": shlex.quote(env.get("MAILLIST_APP", "/app/wsgi.py")),
        "MAILLIST_PIPE_ENV": shlex.quote(env.get("MAILLIST_PIPE_ENV", "/etc/maillist/pipe.env")),
    }


def pipe_environment(env):
    """The pipes' settings file: what their flask needs, as sh assignments (values quoted for sh, not argv)."""
    values = {"DATABASE_URL": database_url(env)}
    for name in ("SECRET_KEY", "BOUNCE_ADDRESS_KEY"):
        if env.get(name):
            values[name] = env[name]
    # With neither key set, the pipes' flask reads the app's own key from its instance folder
    # (instance/secret_key, made once and kept: the api-instance volume, which the postfix
    # container mounts too), so bounce addresses verify before and after any restart.
    values["ENABLE_EMAIL_BOUNCE_PROCESSING"] = env.get("ENABLE_EMAIL_BOUNCE_PROCESSING", "false")
    for name in ("SOFT_BOUNCE_THRESHOLD", "SOFT_BOUNCE_WINDOW_DAYS", "SOFT_BOUNCE_ACTION", "COMPLAINT_ACTION", "ARF_COMPLAINT_TYPES", "EMAIL_REPORTS_PER_MINUTE",
                 "BOUNCE_ADDRESS_OLD_KEYS", "BOUNCE_ADDRESS_MAX_AGE_DAYS",
                 "HARD_BOUNCE_POLICY", "BOUNCE_STORM_COUNT",
                 "BOUNCE_STORM_SHARE", "BOUNCE_STORM_WINDOW", "LOG_LEVEL", "SES_VERIFIED_IDENTITIES", "FROM_REWRITE", "SES_MAX_SEND_RATE", "PUBLIC_URL"):
        if env.get(name):
            values[name] = env[name]
    # The bounce pipe tells a refusal by the relay (a report of this server about it) from a member's bounce,
    # and tells the list's owners through Postfix's own loopback port unless SMTP_HOST says otherwise.
    values["POSTFIX_MYHOSTNAME"] = env.get("POSTFIX_MYHOSTNAME", "lists.example.org")
    for name in ("POSTFIX_RELAYHOST", "SES_SMTP_HOST", "NOTIFY_FROM", "NOTIFY_ADMIN"):
        if env.get(name):
            values[name] = env[name]
    if env.get("SMTP_HOST"):
        values["SMTP_HOST"], values["SMTP_PORT"] = env["SMTP_HOST"], env.get("SMTP_PORT") or "25"
    else:
        values["SMTP_HOST"] = env.get("POSTFIX_REINJECT_HOST", "127.0.0.1")
        values["SMTP_PORT"] = env.get("POSTFIX_REINJECT_PORT", "10025")
    if env.get("MAILLIST_PYTHONPATH"):
        values["PYTHONPATH"] = env["MAILLIST_PYTHONPATH"]
    values["PYTHONDONTWRITEBYTECODE"] = "1"
    return "".join(f"{name}={shlex.quote(value)}\n" for name, value in values.items())


def write_private(path, text, owner=None):
    """Write `text` into a file only its owner (root, or `owner`) may read."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)
    if owner:
        try:
            shutil.chown(path, user=owner)
        except (LookupError, PermissionError):
            pass  # rendering for another machine, or not as root


def render(target, env=None):
    """Write every *.in file with its @NAME@ values filled in, and the pipes' private settings, into `target`."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    values = settings(os.environ if env is None else env, target)
    for template in sorted(HERE.glob("*.in")):
        text = template.read_text()
        for name, value in values.items():
            text = text.replace(f"@{name}@", value)
        output = target / template.name[: -len(".in")]
        output.write_text(text)
        # The tables hold the database password: readable by root and Postfix's group only.
        output.chmod(0o640 if output.name.startswith("mysql-") else 0o644)
        try:
            shutil.chown(output, group="postfix")
        except (LookupError, PermissionError):
            pass  # no postfix group here (rendering for another machine)
    environment = os.environ if env is None else env
    pipe_env = Path(environment.get("MAILLIST_PIPE_ENV", "/etc/maillist/pipe.env"))
    pipe_env.parent.mkdir(parents=True, exist_ok=True)
    write_private(pipe_env, pipe_environment(environment), owner=values["PIPE_USER"])
    if values["SMTP_SASL_AUTH_ENABLE"] == "yes":
        write_private(target / "sasl_passwd", f"{values['RELAYHOST']} {environment['SES_SMTP_USERNAME']}:{environment['SES_SMTP_PASSWORD']}\n")
    (target / "maillist-pipe").chmod(0o755)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(f"wrote {render(sys.argv[1])}")
