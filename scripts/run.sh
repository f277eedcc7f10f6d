#!/usr/bin/env bash
# Set up and run maillist on this machine: a virtualenv, the SQLite database, a first admin,
# and the app on http://127.0.0.1:8000 (PORT to change it). With --demo, an empty database first
# gets sample lists, members and bounces (flask demo load).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
export FLASK_APP=wsgi:app
.venv/bin/flask db upgrade
.venv/bin/flask users ensure-admin
if [ "${1:-}" = "--demo" ]; then
  .venv/bin/flask demo load || echo "(the demo loads only into an empty database; carrying on without it)"
fi
PORT=${PORT:-8000}
echo "maillist is running on http://127.0.0.1:$PORT (Ctrl-C stops it)"
exec .venv/bin/gunicorn --bind "127.0.0.1:$PORT" --workers 2 --access-logfile - wsgi:app
