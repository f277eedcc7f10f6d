#!/bin/sh
# The api container: bring the schema up to date, then serve.
set -e
flask db upgrade
# gunicorn's workers add up their webhook latency histograms in this folder (prometheus-client's
# multiprocess mode); gunicorn.conf.py empties it at start. Only gunicorn gets it: flask commands
# run in this container (docker compose exec api flask ...) keep their metrics to themselves.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/maillist-metrics}"
exec gunicorn --config /app/gunicorn.conf.py wsgi:app
