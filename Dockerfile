# maillist: the app (target "app", the default) and the Postfix that goes with it (target "postfix").
# PYTHON_IMAGE names the base (python:3.11-slim); docker-compose passes it through unchanged.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 FLASK_APP=wsgi:app
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
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "/app/docker/healthcheck.py", "http", "127.0.0.1:8000"]
ENTRYPOINT ["/app/docker/api-entrypoint.sh"]

FROM app AS postfix
USER root
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix postfix-mysql bsd-mailx \
    && rm -rf /var/lib/apt/lists/*
EXPOSE 25
# Not the app's check (nothing serves HTTP here): Postfix greets on port 25.
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "/app/docker/healthcheck.py", "smtp", "127.0.0.1:25"]
ENTRYPOINT ["/app/docker/postfix-entrypoint.sh"]
