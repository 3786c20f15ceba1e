#!/bin/sh
# Entry point of the hazmon image: each docker secret named hazmon_<setting> (a file under
# /run/secrets) becomes the setting HAZMON_<SETTING>, then the hazmon command runs with the arguments.
# The image runs as user hazmon (uid 10001): the secret files must be readable by it.
# An empty hazmon_grafana_token means no Grafana annotations yet: HAZMON_GRAFANA_URL is dropped.
set -eu
secrets="${HAZMON_SECRETS_DIR:-/run/secrets}"
for file in "$secrets"/hazmon_*; do
  [ -f "$file" ] && [ -s "$file" ] || continue
  if [ ! -r "$file" ]; then
    echo "hazmon-entrypoint: $file is not readable by uid $(id -u): chmod 0644 ./secrets/$(basename "$file") (docs/operations.md)" >&2
    exit 1
  fi
  name=$(basename "$file" | tr '[:lower:]' '[:upper:]')
  export "$name=$(cat "$file")"
done
if [ -z "${HAZMON_GRAFANA_TOKEN:-}" ]; then
  unset HAZMON_GRAFANA_URL
fi
exec "${HAZMON_COMMAND:-hazmon}" "$@"
