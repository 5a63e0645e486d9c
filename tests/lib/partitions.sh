# shellcheck shell=bash
# tests/lib/partitions.sh: where a test's rows are.  Sourced by tests that look
# at rows: on one database (make test) they are all in it; on the sharded
# topology (make test TOPOLOGY=sharded, scripts/with-topology.sh, which sets
# TICKET_TOPOLOGY=sharded and TICKET_TOPOLOGY_VAR) a concert's, and its
# reservations', are on a concert partition and a user's on a user partition,
# the one its id names.
#
#   sharded                  true on the sharded topology
#   partition_url SIDE ID    the owner's libpq URL of the partition of SIDE
#                            (concerts or users) that holds ID (sharded only)
#   partition_urls SIDE      those of every partition of SIDE, one a line

declare -A NODE_URL=()
PARTITIONS=0   # per side, a power of two; 0 on one database
if [ "${TICKET_TOPOLOGY:-}" = sharded ]; then
  while read -r name role part url; do
    NODE_URL[$name]=$url
    [ "$role" != primary ] || [ "${part%/*}" != concerts ] || PARTITIONS=$((PARTITIONS + 1))
  done < <(VAR=${TICKET_TOPOLOGY_VAR:?} "${TICKET_ROOT:?}/scripts/topology.sh" nodes)
  [ "$PARTITIONS" -gt 0 ] || { echo "Bail out! no concert partition in $TICKET_TOPOLOGY_VAR"; exit 1; }
fi

sharded() { [ "$PARTITIONS" -gt 0 ]; }

# A partition serves the slots s = id % 1024 with s & (N - 1) its number.
partition_url() { echo "${NODE_URL[$1-$((($2 % 1024) & (PARTITIONS - 1)))]}"; }

partition_urls() {
  local p
  for ((p = 0; p < PARTITIONS; p++)); do echo "${NODE_URL[$1-$p]}"; done
}
