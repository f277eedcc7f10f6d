"""gunicorn settings for the api container (`gunicorn --config gunicorn.conf.py wsgi:app`)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 60
accesslog = "-"
errorlog = "-"
# nginx in front handles slow clients; keep-alive from it saves connection set-up.
keepalive = 5
