#!/usr/bin/env bash
# The sharded topology (scripts/topology.sh) fresh in DIR, its nodes from
# NODE_PORT and their pgbouncers from BOUNCER_PORT on, then COMMAND with the
# proxy in the environment where scripts/with-fresh-db.sh puts its one
# database: the programs served against it log in to the proxy as ticket_web,
# as `scripts/topology.sh serve` does.  TICKET_TOPOLOGY=sharded and
# TICKET_TOPOLOGY_VAR=DIR tell the tests where the partitions are.  Every node
# stops however the run ends, and the run's status is the script's.
# `make test TOPOLOGY=sharded` is this script.
#
#   scripts/with-topology.sh DIR NODE_PORT BOUNCER_PORT COMMAND [ARG...]
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 DIR NODE_PORT BOUNCER_PORT COMMAND [ARG...]" >&2; exit 2; }
dir=$1 port=$2 bouncer_port=$3; shift 3
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/var.sh" create   # DIR's parent: usually under $VAR
exec 8>>"$dir.lock"
flock -n 8 || die "another run is using $dir"
topology() {
  VAR=$dir TOPOLOGY_PGPORT=$port TOPOLOGY_BOUNCER_PORT=$bouncer_port \
    "$ROOT/scripts/topology.sh" "$@" 8>&-
}
topology down   # left over by an interrupted run
rm -rf -- "$dir"
trap 'status=$?; topology down || :; exit $status' EXIT
# A signal ends the run through the EXIT trap, which stops the nodes.
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
say "bringing the sharded topology up in $dir"
topology up
# The proxy is the first node (scripts/topology.sh); the tests' services run in its folder.
proxy=$dir/nodes/proxy
PATH=$PGBIN:$PATH \
PGHOST=$proxy/run PGPORT=$port PGDATABASE=ticket PGUSER=ticket_owner \
TICKET_DBURL=$(conninfo "$proxy" "$port" ticket) TICKET_VAR=$proxy TICKET_ROOT=$ROOT \
TICKET_BUILD=$BUILD TICKET_RUNUSER=$RUN_USER \
TICKET_TOPOLOGY=sharded TICKET_TOPOLOGY_VAR=$dir \
  "$@" 8>&-
