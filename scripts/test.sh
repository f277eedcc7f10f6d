#!/usr/bin/env bash
# Run the whole test suite in the project's virtualenv. MariaDB tests use
# MAILLIST_TEST_MYSQL_URL (default: root on 127.0.0.1:3306) and skip where no server answers.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
export MAILLIST_TEST_MYSQL_URL=${MAILLIST_TEST_MYSQL_URL:-mysql+pymysql://root@127.0.0.1:3306/}
exec .venv/bin/python -m pytest "$@"
