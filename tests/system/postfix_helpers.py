"""Running Debian's Postfix tools against maillist's own configuration."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, need

sys.path.insert(0, str(ROOT / "postfix"))

import render  # noqa: E402  (postfix/render.py)

POSTMAP = shutil.which("postmap") or "/usr/sbin/postmap"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"


def need_postfix():
    """Postfix with MySQL tables must be installed (apt-get install postfix postfix-mysql)."""
    need(Path(POSTMAP).exists(), "postfix is not installed")
    need(Path("/usr/lib/postfix/postfix-mysql.so").exists(), "postfix-mysql is not installed")


def render_config(target, database_url, **extra):
    """maillist's Postfix configuration for `database_url`, written into `target`."""
    env = {"DATABASE_URL": database_url, "POSTFIX_RELAYHOST": "[127.0.0.1]:1",
           "MAILLIST_PIPE_ENV": str(Path(target).parent / "pipe.env"), **extra}
    return render.render(target, env)


def postmap_query(config_dir, table, key):
    """`postmap -q KEY mysql:TABLE`: the lookup result as Postfix sees it, or None."""
    result = subprocess.run([POSTMAP, "-q", key, f"mysql:{Path(config_dir) / table}"], capture_output=True, text=True, timeout=30)
    if result.returncode == 1:
        return None
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def run_as_root():
    return os.geteuid() == 0
