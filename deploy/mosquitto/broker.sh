#!/bin/sh
# Entry point of the broker's container (docker-compose.yml): its accounts follow the registry.
# `hazmon stack broker-auth --watch` (service broker-auth-watch) rewrites the plain password file and
# the ACL in the broker-auth volume whenever ./registry changes; this script copies them into the
# broker's configuration, hashes the passwords (mosquitto_passwd -U), renames them into place and
# makes the broker reload them (SIGHUP), which closes the connections of accounts that are gone.
# It does so once before the broker starts, then every BROKER_AUTH_POLL_S seconds if they changed.
# Then the start step: Mosquitto 2.0 does not keep shared subscriptions in its persistence file, so
# `python3 -m hzctl.stack.mosquitto_start` puts ingest's back into it (from the records its sessions
# hold) before it execs the broker (docs/reliability.md, "Mosquitto restarts"); its modules lie beside
# this script in the image (deploy/mosquitto/Dockerfile), standard library only.
# The broker is exec'd, so it keeps this shell's PID ($$, 1 in the container) and gets stop signals.
# Usage: broker.sh mosquitto -c /mosquitto/config/mosquitto.conf
set -eu
auth="${BROKER_AUTH_DIR:-/broker-auth}"
conf="${BROKER_CONFIG_DIR:-/mosquitto/config}"
every="${BROKER_AUTH_POLL_S:-2}"
db="${BROKER_DB:-/mosquitto/data/mosquitto.db}"   # mosquitto.conf's persistence_location + mosquitto.db

fingerprint() {
  cat "$auth/passwd" "$auth/acl" | cksum
}

install_accounts() {
  cp "$auth/passwd" "$conf/passwd.new" && cp "$auth/acl" "$conf/acl.new" || return 1
  chmod 0600 "$conf/passwd.new" && mosquitto_passwd -U "$conf/passwd.new" || return 1
  if [ "$(id -u)" = 0 ]; then   # a broker started as root reads its files as user mosquitto
    chown mosquitto:mosquitto "$conf/passwd.new" "$conf/acl.new"
  fi
  mv "$conf/passwd.new" "$conf/passwd" && mv "$conf/acl.new" "$conf/acl"
}

watch_accounts() {
  seen="$1"
  while sleep "$every"; do
    kill -0 "$$" 2>/dev/null || exit 0   # the broker is gone: so is the watch (no orphan loop)
    now=$(fingerprint 2>/dev/null) || continue
    [ "$now" = "$seen" ] && continue
    if install_accounts && kill -HUP "$$"; then
      seen="$now"
      echo "broker.sh: accounts changed, broker reloaded" >&2
    else
      echo "broker.sh: could not install the changed accounts; trying again" >&2
    fi
  done
}

seen=$(fingerprint)
install_accounts
watch_accounts "$seen" &
PYTHONPATH=$(cd "$(dirname "$0")" && pwd)
export PYTHONPATH
exec python3 -m hzctl.stack.mosquitto_start "$db" "$@"
