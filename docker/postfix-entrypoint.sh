#!/bin/sh
# The postfix container: write maillist's Postfix configuration from the environment, then run
# Postfix in the foreground (its log on stdout: docker-compose logs -f postfix).
set -e
# The pipes run as the image's own maillist user (the only one who can read their settings file)
# and call the app's own Python and flask.
export MAILLIST_FLASK=/usr/local/bin/flask MAILLIST_APP=/app/wsgi.py POSTFIX_PIPE_USER=maillist
python3 /app/postfix/render.py /etc/postfix
exec postfix start-fg
