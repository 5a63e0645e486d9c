#!/usr/bin/env bash
# make stop: stop a running make run of this tree (if any), then its cluster
# and the nodes of the sharded topology (scripts/topology.sh), whichever run.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
if [ -f "$VAR/run.pid" ] && ! flock -n "$VAR/run.lock" true; then
  pid=$(cat "$VAR/run.pid")
  say "stopping make run (pid $pid)"
  kill -TERM "$pid"
  flock -w 60 "$VAR/run.lock" true
fi
"$ROOT/scripts/cluster.sh" down
"$ROOT/scripts/topology.sh" down
