#!/bin/sh
# Runs `hazmon ingest run` with the lowest instance number no other ingest container holds, so that
# `docker compose up --scale ingest=N` gives each process its own MQTT identity (docs/security.md).
# The number is a lock file on the shared hazmon-home volume, held for the life of the process
# (fd 9 survives exec) and released when it exits, so a restarted container takes a free number.
set -eu
dir="${HAZMON_HOME:-/var/lib/hazmon}/ingest-instances"
mkdir -p "$dir"
n=1
while [ "$n" -le "${INGEST_MAX_INSTANCES:-64}" ]; do
  exec 9>"$dir/$n.lock"
  if flock -n 9; then
    exec "${INGEST_ENTRYPOINT:-hazmon-entrypoint}" ingest run --instance "$n" "$@"
  fi
  exec 9>&-
  n=$((n + 1))
done
echo "ingest-instance: all ${INGEST_MAX_INSTANCES:-64} instance numbers are taken" >&2
exit 1
