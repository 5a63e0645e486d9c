#!/usr/bin/env bash
# The real web side for end-to-end tests: lighttpd (and pgbouncer in CGI mode) through
# scripts/serve.sh, against the test database that tests/harness describes in the env.
#
#   tests/lib/service.sh start fastcgi|cgi PORT   returns once /api/health answers 200
#   tests/lib/service.sh stop PORT                stops everything that start began
#   SERVE_ARGS='BENCH=1' ... start ...          more settings for scripts/serve.sh
set -euo pipefail
: "${TICKET_ROOT:?} ${TICKET_VAR:?} ${PGPORT:?}"

pidfile() { echo "$TICKET_VAR/serve-$1.pid"; }

case "${1:-}" in
start)
  mode=$2 port=$3
  # A session of its own, so that stop can end serve.sh, lighttpd, its programs
  # and pgbouncer together; the session id is the pid of setsid's serve.sh.
  # shellcheck disable=SC2086 # SERVE_ARGS is a list of NAME=value words
  setsid env VAR="$TICKET_VAR" PGPORT="$PGPORT" BUILD="${TICKET_BUILD:-$TICKET_ROOT/build}" \
    PORT="$port" MODE="$mode" BOUNCER_PORT=$((port + 1)) BENCH= ${SERVE_ARGS:-} \
    "$TICKET_ROOT/scripts/serve.sh" >"$TICKET_VAR/serve-$port.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$port")"
  for _ in $(seq 150); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/api/health" && exit 0
    kill -0 "$!" 2>/dev/null || break
    sleep 0.1
  done
  echo "service.sh: $mode service on port $port did not come up:" >&2
  tail -n 20 "$TICKET_VAR/serve-$port.log" >&2
  "$0" stop "$port"   # nothing it started may outlive the failure
  exit 1 ;;
stop)
  port=$2 f=$(pidfile "$2")
  [ -f "$f" ] || exit 0
  pid=$(cat "$f")
  kill -TERM -- "-$pid" 2>/dev/null || :
  for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || :
  rm -f "$f" ;;
*)
  echo "usage: $0 start fastcgi|cgi PORT | stop PORT" >&2; exit 2 ;;
esac
