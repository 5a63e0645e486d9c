# shellcheck shell=bash
# tests/shard/lib.sh: what the tests of the sharded topology share. A test sets
# SHARD (its topology's folder), NODE_PORT and BOUNCER_PORT (ports only name the
# nodes' sockets), then sources this, which clears what an interrupted run left,
# sources tests/http/lib.sh with the service and the programs' log on the proxy
# node, and brings the topology down on any exit.
#   topology ARGS...   scripts/topology.sh on this test's nodes
#   on NODE SQL        one value (row) per line, as the owner of that node
: "${TICKET_ROOT:?run through tests/harness (make test)}" "${SHARD:?}" "${NODE_PORT:?}" "${BOUNCER_PORT:?}"
topology() {
  VAR=$SHARD TOPOLOGY_PGPORT=$NODE_PORT TOPOLOGY_BOUNCER_PORT=$BOUNCER_PORT \
    "$TICKET_ROOT/scripts/topology.sh" "$@"
}
topology down >/dev/null 2>&1 || :   # left over by an interrupted run
rm -rf -- "$SHARD"

TICKET_VAR=$SHARD/nodes/proxy PGPORT=$NODE_PORT TICKET_EXCHANGE_LOG=
# shellcheck source=tests/http/lib.sh
. "$TICKET_ROOT/tests/http/lib.sh"
EXIT_HOOK=stop_topology
# shellcheck disable=SC2317 # called by on_exit
stop_topology() { topology down >/dev/null 2>&1 || :; }

PSQL=${PGBIN:-/usr/lib/postgresql/15/bin}/psql
on() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$(topology url "$1")" -c "$2"; }
