#!/usr/bin/env bash
# Run the whole test suite in the project's virtualenv.
#
# The MariaDB half runs against MAILLIST_TEST_MYSQL_URL when it names a server. Otherwise this
# script never touches a server it did not start: where MariaDB's server is installed (mariadbd)
# it starts a throwaway one of its own (data in a temporary folder, its own port, stopped at the
# end); where it is not, the SQLite half runs alone and the last line says what was skipped and why.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
INSTALL_DB=$(command -v mariadb-install-db || echo /usr/bin/mariadb-install-db)
note=""
if [ -z "${MAILLIST_TEST_MYSQL_URL:-}" ]; then
  if [ -x "$MARIADBD" ] && [ -x "$INSTALL_DB" ]; then
    base=$(mktemp -d -t maillist-test-mariadb.XXXXXX)
    port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as=()
    if [ "$(id -u)" = 0 ]; then  # mariadbd will not run as root: the mysql account owns the data
      chown mysql "$base"
      as=(--user=mysql)
    fi
    "$INSTALL_DB" --datadir="$base/data" "${as[@]}" --skip-test-db --auth-root-authentication-method=normal \
      >"$base/install.log" 2>&1 || { cat "$base/install.log" >&2; exit 1; }
    "$MARIADBD" --no-defaults --datadir="$base/data" --port="$port" --bind-address=127.0.0.1 \
      --socket="$base/mysqld.sock" --pid-file="$base/mysqld.pid" "${as[@]}" --skip-grant-tables --skip-log-bin \
      --innodb-buffer-pool-size=64M >"$base/server.log" 2>&1 &
    server=$!
    trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$base"' EXIT
    for _ in $(seq 120); do
      .venv/bin/python -c "import pymysql; pymysql.connect(host='127.0.0.1', port=$port, user='root').close()" \
        2>/dev/null && break
      sleep 0.5
    done
    export MAILLIST_TEST_MYSQL_URL="mysql+pymysql://root@127.0.0.1:$port/"
    note="MariaDB: a throwaway server of this run's own on port $port (set MAILLIST_TEST_MYSQL_URL to use another)."
  else
    note="MariaDB: not installed (no mariadbd), so its half was skipped; install mariadb-server, or set MAILLIST_TEST_MYSQL_URL."
  fi
fi
[ -d ../shared ] || note="$note ../shared is absent: the tests of AWS's own signed SNS messages and documented samples were skipped (README, Tests)."

status=0
.venv/bin/python -m pytest "$@" || status=$?
[ -z "$note" ] || echo "$note"
exit "$status"
