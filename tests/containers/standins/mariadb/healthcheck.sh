#!/bin/bash
# The official image's healthcheck.sh, for the two tests docker-compose.yml asks for: --connect
# (a client connects over TCP, as the app will) and --innodb_initialized (InnoDB has started).
# Not ready while the entry point is still initialising (the server then listens on no port).
set -eu
export MYSQL_PWD="$MARIADB_ROOT_PASSWORD"
client=(mariadb --protocol=tcp -h127.0.0.1 -P3306 -uroot -N -e)
for test in "$@"; do
    case "$test" in
        --connect) "${client[@]}" 'SELECT 1' >/dev/null ;;
        --innodb_initialized)
            [ "$("${client[@]}" "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'InnoDB' AND support IN ('YES', 'DEFAULT')")" = 1 ] ;;
        *) echo "healthcheck.sh: unknown test $test" >&2; exit 1 ;;
    esac
done
