#!/bin/sh
# The template step
# (20-envsubst-on-templates.sh): each *.template under
# /etc/nginx/templates becomes the same path under /etc/nginx/conf.d without .template, with only
# the environment's defined variables substituted (nginx's own $variables are left alone).
set -eu
# The official docker-entrypoint.sh: /docker-entrypoint.d/*.envsh are sourced and *.sh run, in
# name order, before nginx starts.
if [ -d /docker-entrypoint.d ]; then
    for script in $(find /docker-entrypoint.d -follow -type f -print | sort -V); do
        case "$script" in
            *.envsh) [ -x "$script" ] && . "$script" ;;
            *.sh) [ -x "$script" ] && "$script" ;;
        esac
    done
fi
defined=$(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
if [ -d /etc/nginx/templates ]; then
    for template in $(find /etc/nginx/templates -follow -type f -name '*.template'); do
        relative=${template#/etc/nginx/templates/}
        output=/etc/nginx/conf.d/${relative%.template}
        mkdir -p "$(dirname "$output")"
        envsubst "$defined" < "$template" > "$output"
    done
fi
exec "$@"
