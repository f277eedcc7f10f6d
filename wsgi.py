"""WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi.py ...` for the commands."""

import sys

from config import ConfigError, validate_environment
from maillist import create_app

# gunicorn takes a worker that exits with 3 as "failed to boot" and stops, rather than respawning it.
WORKER_BOOT_ERROR = 3

try:
    validate_environment()
    app = create_app()
except ConfigError as error:
    print(f"maillist: configuration error: {error}", file=sys.stderr)
    sys.exit(WORKER_BOOT_ERROR)
