#!/usr/bin/env bash
# Set up and run maillist on this machine: a virtualenv, the SQLite database, a first admin,
# and the app on http://127.0.0.1:8000 (PORT to change it). With --demo, an empty database first
# gets sample lists, members and bounces (flask demo load).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
if ! [[ "$PORT" =~ ^[0-9]{1,5}$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
  echo "scripts/run.sh: PORT must be a port number from 1 to 65535, not '$PORT'" >&2
  exit 2
fi
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
export FLASK_APP=wsgi:app
# The set-up's own log lines go to a file, so the sign-in line is the last thing said before the
# server starts; a failure prints the log.
[ -d instance ] || mkdir -m 700 instance
log=instance/setup.log
if ! .venv/bin/flask db upgrade >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
admin=$(.venv/bin/flask users ensure-admin)
if [ "${1:-}" = "--demo" ]; then
  if .venv/bin/flask demo load >>"$log" 2>&1; then
    echo "Sample lists, members and bounces loaded (what happened: $log)."
  else
    echo "(the demo loads only into an empty database; carrying on without it: see $log)"
  fi
fi
echo "$admin"
echo "maillist is running on http://127.0.0.1:$PORT (Ctrl-C stops it)"
# gunicorn.conf.py (read from this folder) sets the workers (GUNICORN_WORKERS) and threads, and
# checks every setting before a worker starts; only the address is this script's.
exec .venv/bin/gunicorn --config gunicorn.conf.py --bind "127.0.0.1:$PORT" wsgi:app
