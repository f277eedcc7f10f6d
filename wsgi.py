"""WSGI entry point: `gunicorn wsgi:app`."""

import sys

from config import ConfigError
from maillist import create_app

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"maillist: configuration error: {error}")
