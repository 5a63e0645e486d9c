#!/usr/bin/env bash
# make run: install what is missing, build, start the private cluster,
# migrate, load the demo, then serve in the foreground until Ctrl-C (or
# scripts/stop.sh); everything it started stops however it ends.
# TOPOLOGY=sharded: the nodes of scripts/topology.sh instead of the one
# cluster, served through the proxy.
# Settings: those of lib.sh, serve.sh and topology.sh.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
PORT=${PORT:-8080} MODE=${MODE:-fastcgi} TOPOLOGY=${TOPOLOGY:-}
export VAR PGPORT BUILD PORT MODE
case "$TOPOLOGY" in ''|sharded) ;; *) die "TOPOLOGY must be empty (one database) or sharded, not '$TOPOLOGY'" ;; esac

# Before a minute of building, not after it.
if port_in_use "$PORT"; then
  die "port $PORT is already in use (another server, or make run still going?): stop it, or choose another port with PORT=, e.g. make run PORT=8081"
fi
"$ROOT/scripts/var.sh" create
# One make run per tree: a second one must not rebuild or migrate under the
# first.  Commands that may leave a daemon behind get `9>&-` so the daemon
# does not inherit (and keep holding) the lock.
exec 9>>"$VAR/run.lock"
flock -n 9 || die "already running (pid $(cat "$VAR/run.pid" 2>/dev/null || echo '?')); make stop stops it"
echo $$ >"$VAR/run.pid"

pids=()   # foreground services, stopped on exit
# shellcheck disable=SC2317 # called by the EXIT trap
stop_all() {
  trap '' INT TERM HUP
  local p
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || :; done
  wait || :
  if [ "$TOPOLOGY" = sharded ]; then "$ROOT/scripts/topology.sh" down 9>&- || :
  else "$ROOT/scripts/cluster.sh" down 9>&- || :; fi
  rm -f "$VAR/run.pid"
  say "stopped"
}
trap stop_all EXIT
trap 'exit 0' INT TERM HUP

"$ROOT/scripts/deps.sh" 9>&-
"$ROOT/scripts/build.sh" 9>&-
if [ "$TOPOLOGY" = sharded ]; then
  "$ROOT/scripts/topology.sh" up 9>&-
  psql_q -d "$("$ROOT/scripts/topology.sh" url concerts-0)" -c 'SELECT admin.seed_demo()' >/dev/null
  dburl=$("$ROOT/scripts/topology.sh" url proxy) logs="$VAR/nodes/*/log/"
  serve=("$ROOT/scripts/topology.sh" serve)
  psql_hint='make -s nodes lists every node'
else
  "$ROOT/scripts/cluster.sh" up 9>&-
  dburl=$(conninfo "$VAR" "$PGPORT" ticket) logs=$VAR/log/
  serve=("$ROOT/scripts/serve.sh")
  migrate "$dburl"
  psql_q -d "$dburl" -c 'SELECT admin.seed_demo()' >/dev/null
  psql_hint='make psql'
fi
# The web side in a session of its own, so stop_all can end it as a group.
setsid "${serve[@]}" 9>&- & pids+=($!)
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/health"; do
  kill -0 "${pids[-1]}" 2>/dev/null || die "the web side did not start (its message is above; logs in $logs)"
  sleep 0.1
done
cat <<MSG

open:      http://127.0.0.1:$PORT/   ($MODE mode)
try:       curl -s -X POST -H 'Content-Type: application/json' -d '{"name":"alice"}' http://127.0.0.1:$PORT/api/users
database:  $dburl
psql:      $psql_hint   (or: $PGBIN/psql '$dburl')
logs:      $logs
Running in the foreground; Ctrl-C (or make stop) stops everything.
MSG
# Returns when a service ends or a signal arrives (the traps then exit).
status=0
wait -n "${pids[@]}" || status=$?
die "a service exited (status $status); logs in $logs"
