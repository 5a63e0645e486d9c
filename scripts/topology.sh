#!/usr/bin/env bash
# The sharded topology on one machine (docs/scale.md): each node a cluster of
# its own under $VAR/nodes/<name>/ (scripts/cluster.sh with VAR and PGPORT set
# to it), a pgbouncer in front of every partition node and standby, a streaming
# standby behind each concert node, and the proxy's PL/Proxy clusters pointed
# at the partitions' pgbouncers.
#
#   scripts/topology.sh up         create (once), start and migrate every node
#   scripts/topology.sh down       stop every node and pgbouncer that runs
#   scripts/topology.sh nodes      one line per node: name, role, partition, libpq URL
#   scripts/topology.sh url NAME   the owner's libpq URL of one node
#   scripts/topology.sh start NAME start one node (and its pgbouncer) that is down,
#                                  as it was: nothing created or migrated (a restart)
#   scripts/topology.sh serve      scripts/serve.sh against the proxy, in the foreground
#
# Settings (environment), besides those of lib.sh:
#   TOPOLOGY_PGPORT        port of the first node, the others follow [55440]
#   TOPOLOGY_BOUNCER_PORT  port of the first node's pgbouncer, likewise [6440]
# Ports only name sockets: every node listens on its own socket folder.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# The nodes' servers inherit this environment, and PL/Proxy's connections read
# libpq's: a caller's PGOPTIONS or PGUSER must not reach the partitions' pgbouncers.
unset PGOPTIONS PGHOST PGHOSTADDR PGDATABASE PGUSER PGSERVICE
PGPORT_BASE=${TOPOLOGY_PGPORT:-55440}
BOUNCER_BASE=${TOPOLOGY_BOUNCER_PORT:-6440}
NODES=$VAR/nodes
# Partitions per cluster: a power of two (PL/Proxy masks a hash with count - 1).
PARTITIONS=2

# One node a line: name, role, cluster, partition.  A node's ports are the
# bases plus its line number (from 0), so a node keeps its ports for good.
TOPOLOGY='proxy proxy - -
concerts-0 primary concerts 0
concerts-1 primary concerts 1
users-0 primary users 0
users-1 primary users 1
concerts-0-standby standby concerts 0
concerts-1-standby standby concerts 1'

# each FUNCTION: FUNCTION name role cluster partition port bouncer_port, per node.
each() {
  local i=0 name role cluster part
  while read -r name role cluster part; do
    "$@" "$name" "$role" "$cluster" "$part" $((PGPORT_BASE + i)) $((BOUNCER_BASE + i))
    i=$((i + 1))
  done <<<"$TOPOLOGY"
}

url() { echo "postgresql:///ticket?host=$NODES/$1/run&port=$2&user=ticket_owner"; }
node() { VAR=$NODES/$1 PGPORT=$2 "$ROOT/scripts/cluster.sh" "$3"; }
bouncer_url() { echo "host=$NODES/$1/run port=$2 dbname=ticket connect_timeout=2"; }

start_node() {
  local name=$1 role=$2 cluster=$3 part=$4 port=$5
  if [ "$role" = standby ] && [ ! -e "$NODES/$name/pg/PG_VERSION" ]; then
    standby_create "$name" "$port"
  fi
  node "$name" "$port" up
  case "$role" in
    primary)
      migrate "$(url "$name" "$port")"
      psql_q -d "$(url "$name" "$port")" -v side="$cluster" >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT ticket.become_partition(:'side');
SQL
      own_slots "$(url "$name" "$port")" "ticket.$cluster" "$part"
      # A reservation's id names its concert's partition too: the calls about it
      # carry nothing else.
      [ "$cluster" != concerts ] || own_slots "$(url "$name" "$port")" ticket.reservations "$part" ;;
    proxy)
      MIGRATIONS_DIR=$ROOT/migrations/proxy PLPGSQL_DIR=$ROOT/plpgsql/proxy \
        PSQL=$PGBIN/psql "$ROOT/migrations/migrate.sh" "$(url "$name" "$port")" ;;
  esac
  echo "$name $role $([ "$part" = - ] && echo - || echo "$cluster/$part") $(url "$name" "$port")" |
    as_run tee "$NODES/$name/node" >/dev/null
}

# own_slots URL TABLE PARTITION: the ids the node gives out for TABLE fall in
# its slots, id % PARTITIONS = PARTITION, from the first such id above those it
# holds.  Once: the identity then steps by PARTITIONS.
own_slots() {
  psql_q -d "$1" -v table="$2" -v n="$PARTITIONS" -v p="$3" <<'SQL'
SELECT seqincrement <> :n AS unset FROM pg_sequence
WHERE seqrelid = pg_get_serial_sequence(:'table', 'id')::regclass \gset
\if :unset
SELECT m - m % :n + :p + CASE WHEN m - m % :n + :p <= m THEN :n ELSE 0 END AS start
FROM (SELECT coalesce(max(id), 0) AS m FROM :table) x \gset
ALTER TABLE :table ALTER COLUMN id SET INCREMENT BY :n RESTART WITH :start;
\endif
SQL
}

# A standby of the node of the same name without -standby: a base backup that
# streams from it through a replication slot, with its own socket and port.
standby_create() {
  local name=$1 port=$2 primary=${1%-standby} pport
  pport=$(awk '{ print $4 }' "$NODES/$primary/node")
  pport=${pport##*port=} pport=${pport%%&*}
  VAR=$NODES/$name "$ROOT/scripts/var.sh" create
  say "copying $primary into the standby $name"
  as_run "$PGBIN/pg_basebackup" -D "$NODES/$name/pg" -R -C -S "${name//-/_}" -c fast \
    -d "host=$NODES/$primary/run port=$pport user=ticket_owner" ||
    die "pg_basebackup of $primary failed (above)"
  { echo; echo "# ---- added by scripts/topology.sh: the standby's own socket, port and feedback"
    echo "unix_socket_directories = '$NODES/$name/run'"
    echo "port = $port"
    echo "hot_standby_feedback = on"
  } | as_run tee -a "$NODES/$name/pg/postgresql.conf" >/dev/null
}

start_bouncer() {
  local name=$1 role=$2 port=$5 bport=$6 dir=$NODES/$1
  [ "$role" != proxy ] || return 0
  if [ -f "$dir/run/pgbouncer.pid" ] && as_run kill -0 "$(cat "$dir/run/pgbouncer.pid")" 2>/dev/null; then
    return 0
  fi
  printf '"%s" ""\n' ticket_proxy ticket_web ticket_owner | as_run tee "$dir/pgbouncer.users" >/dev/null
  sed -e "s|@RUNDIR@|$dir/run|g" -e "s|@PGPORT@|$port|" -e "s|@PORT@|$bport|" \
      -e "s|@USERLIST@|$dir/pgbouncer.users|" -e "s|@LOGDIR@|$dir/log|" \
      "$ROOT/etc/pgbouncer-node.ini" | as_run tee "$dir/pgbouncer.ini" >/dev/null
  as_run /usr/sbin/pgbouncer -d -q "$dir/pgbouncer.ini" ||
    die "pgbouncer of $name did not start (its log: $dir/log/pgbouncer.log)"
}

# The proxy's cluster of each name: the pgbouncers of its primaries, in order.
cluster_partitions() {
  local name=$1 role=$2 cluster=$3 part=$4 bport=$6
  [ "$role" = primary ] || return 0
  printf '%s\t%s\t%s\n' "$cluster" "$part" "$(bouncer_url "$name" "$bport")"
}

up() {
  "$ROOT/scripts/var.sh" create
  VAR=$NODES "$ROOT/scripts/var.sh" create
  # In order: a standby copies its primary, which comes before it.
  each start_node
  each start_bouncer
  local proxy cluster parts
  proxy=$(awk '{ print $4 }' "$NODES/proxy/node")
  for cluster in concerts users; do
    parts=$(each cluster_partitions | awk -F'\t' -v c="$cluster" '$1 == c' | sort -k2,2n | cut -f3)
    psql_q -d "$proxy" -v cluster="$cluster" -v parts="$parts" >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT admin.set_cluster(:'cluster', string_to_array(:'parts', E'\n'));
SQL
  done
}

stop_node() {
  local name=$1 port=$5 dir=$NODES/$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/run/pgbouncer.pid" ]; then
    as_run kill -TERM "$(cat "$dir/run/pgbouncer.pid")" 2>/dev/null || :
  fi
  node "$name" "$port" down
}

# Standbys first, then the primaries they stream from, then the proxy.
stop_all() {
  local line
  # shellcheck disable=SC2086 # a line is the node's words
  each echo | tac | while read -r line; do stop_node $line; done
}

# restart WANT name role cluster partition port bouncer_port: start the node WANT, the
# only one that matches, and its pgbouncer should that have stopped too.
restart() {
  [ "$2" = "$1" ] || return 0
  [ -e "$NODES/$2/pg/PG_VERSION" ] || die "node '$2' was never created (scripts/topology.sh up)"
  node "$2" "$6" up
  start_bouncer "${@:2}"
}

nodes() {
  local name
  while read -r name _; do
    [ ! -f "$NODES/$name/node" ] || cat "$NODES/$name/node"
  done <<<"$TOPOLOGY"
}

case "${1:-}" in
  up) up ;;
  down) stop_all ;;
  nodes) nodes ;;
  # The proxy is the first node: the programs' database, with the node's folders.
  serve) VAR=$NODES/proxy PGPORT=$PGPORT_BASE exec "$ROOT/scripts/serve.sh" ;;
  start) [ -f "$NODES/${2:-}/node" ] || die "no node '${2:-}' (make -s nodes lists them)"
         each restart "$2" ;;
  url) [ -f "$NODES/${2:-}/node" ] || die "no node '${2:-}' (make -s nodes lists them)"
       awk '{ print $4 }' "$NODES/$2/node" ;;
  *) echo "usage: $0 up|down|nodes|url NAME|start NAME|serve" >&2; exit 2 ;;
esac
