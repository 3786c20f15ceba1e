#!/bin/sh
# Entry point of the hazmon image: each docker secret named hazmon_<setting> (a file under
# /run/secrets) becomes the setting HAZMON_<SETTING>, then the hazmon command runs with the arguments.
# An empty hazmon_grafana_token means no Grafana annotations yet: HAZMON_GRAFANA_URL is dropped.
set -eu
secrets="${HAZMON_SECRETS_DIR:-/run/secrets}"
for file in "$secrets"/hazmon_*; do
  [ -f "$file" ] && [ -s "$file" ] || continue
  name=$(basename "$file" | tr '[:lower:]' '[:upper:]')
  export "$name=$(cat "$file")"
done
if [ -z "${HAZMON_GRAFANA_TOKEN:-}" ]; then
  unset HAZMON_GRAFANA_URL
fi
exec "${HAZMON_COMMAND:-hazmon}" "$@"
