#!/bin/sh
# The api container: bring the schema up to date, then serve.
set -e
flask db upgrade
exec gunicorn --config /app/gunicorn.conf.py wsgi:app
