#!/usr/bin/env python3
"""Write maillist's Postfix configuration into a directory, filled in from the environment.

    DATABASE_URL=mysql+pymysql://maillist:secret@mysql:3306/maillist \\
    SES_SMTP_HOST=email-smtp.eu-west-1.amazonaws.com SES_SMTP_USERNAME=... SES_SMTP_PASSWORD=... \\
    python3 postfix/render.py /etc/postfix

Settings (environment, with defaults):
  DATABASE_URL               maillist's MySQL/MariaDB database (required)
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
  ENABLE_EMAIL_BOUNCE_PROCESSING, SOFT_BOUNCE_THRESHOLD, SOFT_BOUNCE_WINDOW_DAYS, SOFT_BOUNCE_ACTION,
  COMPLAINT_ACTION, HARD_BOUNCE_POLICY,
  BOUNCE_STORM_COUNT, BOUNCE_STORM_SHARE, BOUNCE_STORM_WINDOW, LOG_LEVEL: as for the app

Secrets are kept out of world-readable files and out of every command line: the database
settings go into the mysql-*.cf tables (root and Postfix's group), the SES password into
sasl_passwd (root only), and what the pipes need into MAILLIST_PIPE_ENV, readable by the pipe
user alone, which the maillist-pipe wrapper reads before running flask.
"""

import os
import secrets
import shlex
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent


def database_connection(url):
    """The host/user/password/dbname lines of a Postfix mysql table, from DATABASE_URL."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("mysql"):
        raise SystemExit(f"render.py: DATABASE_URL must be a mysql URL for Postfix, not {parts.scheme!r}")
    lines = [
        f"hosts = inet:{parts.hostname or '127.0.0.1'}:{parts.port or 3306}",
        f"user = {unquote(parts.username or 'root')}",
        f"password = {unquote(parts.password or '')}",
        f"dbname = {parts.path.lstrip('/')}",
    ]
    return "\n".join(lines)


def settings(env, target):
    """Every @NAME@ value, from the environment and defaults."""
    url = env.get("DATABASE_URL") or sys.exit("render.py: DATABASE_URL is required")
    ses_host = env.get("SES_SMTP_HOST")
    ses_user, ses_password = env.get("SES_SMTP_USERNAME"), env.get("SES_SMTP_PASSWORD")
    if env.get("POSTFIX_RELAYHOST"):
        relayhost, tls, sasl, sasl_maps = env["POSTFIX_RELAYHOST"], "none", "no", ""
    elif ses_host and ses_user and ses_password:
        relayhost = f"[{ses_host}]:{env.get('SES_SMTP_PORT', '587')}"
        tls, sasl, sasl_maps = "encrypt", "yes", "texthash:$config_directory/sasl_passwd"
    else:
        sys.exit("render.py: set SES_SMTP_HOST, SES_SMTP_USERNAME and SES_SMTP_PASSWORD (or POSTFIX_RELAYHOST)")
    return {
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
    values = {"DATABASE_URL": env["DATABASE_URL"]}
    if env.get("BOUNCE_ADDRESS_KEY"):
        values["BOUNCE_ADDRESS_KEY"] = env["BOUNCE_ADDRESS_KEY"]
    if not env.get("SECRET_KEY") and not env.get("BOUNCE_ADDRESS_KEY"):
        print("render.py: neither SECRET_KEY nor BOUNCE_ADDRESS_KEY is set; members' bounce addresses are "
              "signed with a key made now, so bounces for mail sent before a restart will not count", file=sys.stderr)
    values["SECRET_KEY"] = env.get("SECRET_KEY") or secrets.token_hex(32)
    values["ENABLE_EMAIL_BOUNCE_PROCESSING"] = env.get("ENABLE_EMAIL_BOUNCE_PROCESSING", "false")
    for name in ("SOFT_BOUNCE_THRESHOLD", "SOFT_BOUNCE_WINDOW_DAYS", "SOFT_BOUNCE_ACTION", "COMPLAINT_ACTION",
                 "HARD_BOUNCE_POLICY", "BOUNCE_STORM_COUNT",
                 "BOUNCE_STORM_SHARE", "BOUNCE_STORM_WINDOW", "LOG_LEVEL"):
        if env.get(name):
            values[name] = env[name]
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
