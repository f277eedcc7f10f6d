#!/bin/sh
# The postfix container: write maillist's Postfix configuration from the environment, then run
# Postfix in the foreground (its log on stdout: docker-compose logs -f postfix).
set -e
# The pipes run as the image's own maillist user (the only one who can read their settings file)
# and call the app's own Python and flask.
export MAILLIST_FLASK=/usr/local/bin/flask MAILLIST_APP=/app/wsgi.py POSTFIX_PIPE_USER=maillist
python3 /app/postfix/render.py /etc/postfix
# Run the pipes' own command once, as their user, before taking mail: a bad setting or a file it
# cannot read stops the container here with its message, instead of losing bounces later.
if ! su -s /bin/sh -c "/etc/postfix/maillist-pipe bounces process-dsn --dry-run /dev/null" maillist >/dev/null; then
    echo "postfix: maillist's pipes cannot run as user maillist (the message above says why)" >&2
    exit 1
fi
exec postfix start-fg
