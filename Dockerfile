# maillist: the app (target "app", the default) and the Postfix that goes with it (target "postfix").
FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 FLASK_APP=wsgi:app PROMETHEUS_MULTIPROC_DIR=/tmp/maillist-metrics
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY config.py wsgi.py gunicorn.conf.py ./
COPY maillist ./maillist
COPY migrations ./migrations
COPY postfix ./postfix
COPY docker ./docker
RUN useradd --system --home /app maillist && mkdir -p /app/instance && chown maillist /app/instance
USER maillist
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
ENTRYPOINT ["/app/docker/api-entrypoint.sh"]

FROM app AS postfix
USER root
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix postfix-mysql bsd-mailx \
    && rm -rf /var/lib/apt/lists/*
EXPOSE 25
ENTRYPOINT ["/app/docker/postfix-entrypoint.sh"]
