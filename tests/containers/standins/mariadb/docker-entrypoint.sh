#!/bin/bash
# The official image's contract, as far as maillist uses it: on an empty data folder, create the
# system tables, set the root password, create MARIADB_DATABASE and MARIADB_USER with
# MARIADB_PASSWORD (all privileges on that database); then run the server with the given options.
set -euo pipefail
if [ "${1:-}" = mariadbd ]; then shift; fi
if [ "${1:-}" != "" ] && [ "${1#-}" = "$1" ]; then exec "$@"; fi
: "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is required}"
sql_string() { local value=${1//\\/\\\\}; printf "'%s'" "${value//\'/\\\'}"; }
sql_name() { printf '`%s`' "${1//\`/\`\`}"; }
if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db --auth-root-authentication-method=normal >/dev/null
    mariadbd --user=mysql --skip-networking --socket=/run/mysqld/init.sock &
    pid=$!
    for _ in $(seq 60); do
        mariadb-admin --socket=/run/mysqld/init.sock ping >/dev/null 2>&1 && break
        sleep 0.5
    done
    {
        echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "$MARIADB_ROOT_PASSWORD");"
        echo "CREATE USER 'root'@'%' IDENTIFIED BY $(sql_string "$MARIADB_ROOT_PASSWORD");"
        echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
        if [ -n "${MARIADB_DATABASE:-}" ]; then
            echo "CREATE DATABASE IF NOT EXISTS $(sql_name "$MARIADB_DATABASE");"
        fi
        if [ -n "${MARIADB_USER:-}" ]; then
            echo "CREATE USER $(sql_string "$MARIADB_USER")@'%' IDENTIFIED BY $(sql_string "${MARIADB_PASSWORD:-}");"
            [ -z "${MARIADB_DATABASE:-}" ] || echo "GRANT ALL ON $(sql_name "$MARIADB_DATABASE").* TO $(sql_string "$MARIADB_USER")@'%';"
        fi
    } | mariadb --socket=/run/mysqld/init.sock -uroot
    kill "$pid"
    wait "$pid" || true
fi
exec mariadbd --user=mysql --bind-address=0.0.0.0 --port=3306 --socket=/run/mysqld/mysqld.sock "$@"
