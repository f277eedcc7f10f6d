"""gunicorn settings (`gunicorn --config gunicorn.conf.py wsgi:app`; gunicorn reads this file by itself when
started in the project folder).

maillist's settings are checked here, in gunicorn's master, before any worker starts: a bad value
stops gunicorn with one line naming the variable, instead of workers failing and respawning.
"""

import os
import sys

from config import ConfigError, env_int, validate_environment

try:
    validate_environment()
except ConfigError as error:
    sys.exit(f"maillist: configuration error: {error}")

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = env_int(os.environ, "GUNICORN_WORKERS", 2, minimum=1)
worker_class = "gthread"
threads = env_int(os.environ, "GUNICORN_THREADS", 2, minimum=1)
timeout = 60
accesslog = "-"
errorlog = "-"
# nginx in front handles slow clients; keep-alive from it saves connection set-up.
keepalive = 5
# No control socket (gunicornc): it would be made under $HOME, which the image's user may not
# write, and signals do everything maillist needs (HUP reloads, TERM stops).
control_socket_disable = True


# prometheus-client's multiprocess mode (see maillist/metrics.py): each worker keeps its latency
# histogram in this folder; the folder starts empty, and a dead worker's gauges are dropped.
metrics_folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    if metrics_folder:
        os.makedirs(metrics_folder, exist_ok=True)
        for name in os.listdir(metrics_folder):
            os.remove(os.path.join(metrics_folder, name))


def child_exit(server, worker):
    if metrics_folder:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
