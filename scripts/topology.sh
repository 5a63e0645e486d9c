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
#   scripts/topology.sh promote NAME  fence its partition's primary, promote the standby NAME
#   scripts/topology.sh rebuild NAME  make the fenced node NAME a standby of the new primary
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
    "$@" "$name" "$(role_now "$name" "$role")" "$cluster" "$part" $((PGPORT_BASE + i)) $((BOUNCER_BASE + i))
    i=$((i + 1))
  done <<<"$TOPOLOGY"
}

url() { echo "postgresql:///ticket?host=$NODES/$1/run&port=$2&user=ticket_owner"; }
node() { VAR=$NODES/$1 PGPORT=$2 "$ROOT/scripts/cluster.sh" "$3"; }

# role_now NAME ROLE: the node's role as its node file says (a promotion
# changes it), else ROLE, the one the node is made with.
role_now() {
  if [ -f "$NODES/$1/node" ]; then awk '{ print $2 }' "$NODES/$1/node"; else echo "$2"; fi
}

start_node() {
  local name=$1 role=$2 cluster=$3 part=$4 port=$5
  if [ "$role" = fenced ]; then
    say "$name stays stopped: a promotion fenced it (scripts/topology.sh rebuild $name makes it a standby)"
    return 0
  fi
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
      # A standby proves how fresh it is only by what its primary last sent, and an
      # idle primary sends a keepalive once no reply came for half this timeout: at
      # 1 s the proof stays well under the 2 s bound of standby reads (docs/scale.md,
      # "Standby reads"). In postgresql.auto.conf, so standbys' base backups carry it.
      [ "$cluster" != concerts ] || psql_q -d "$(url "$name" "$port")" \
        -c "ALTER SYSTEM SET wal_sender_timeout = '1s'" -c 'SELECT pg_reload_conf()' >/dev/null
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

# standby_create NAME PORT [PRIMARY]: a standby of PRIMARY (by default the node
# of the same name without -standby): a base backup that streams from it
# through a replication slot, with its own socket and port.
standby_create() {
  local name=$1 port=$2 primary=${3:-${1%-standby}} pport
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
    # Back to streaming a second after losing the primary, not five.
    echo "wal_retrieve_retry_interval = 1s"
  } | as_run tee -a "$NODES/$name/pg/postgresql.conf" >/dev/null
}

start_bouncer() {
  local name=$1 role=$2 port=$5 bport=$6 dir=$NODES/$1
  [ "$role" != proxy ] && [ "$role" != fenced ] || return 0
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

# The proxy's cluster of each name, a line per node: cluster, partition, the
# partition's connection string; and <cluster>_standby, each standby's pgbouncer,
# for standby reads (docs/scale.md).
cluster_partitions() {
  local name=$1 role=$2 cluster=$3 part=$4 bport=$6
  case "$role" in
    proxy) return 0 ;;
    standby) printf '%s\t%s\t%s\n' "${cluster}_standby" "$part" \
               "host=$NODES/$name/run port=$bport dbname=ticket connect_timeout=2" ;;
  esac
  printf '%s\t%s\t%s\n' "$cluster" "$part" "$(partition_connstr "$cluster" "$part")"
}

# partition_connstr CLUSTER PART: the pgbouncers of every node of the partition,
# primary and standby, in one libpq string.  libpq tries them in turn and keeps
# the one that takes writes, so after a promotion the proxy's next connection
# finds the new primary with no new cluster definition (docs/scale.md, "Failover").
partition_connstr() {
  local name bport hosts='' ports=''
  while read -r name bport; do
    hosts+=,$NODES/$name/run ports+=,$bport
  done < <(each in_partition "$1" "$2")
  echo "host=${hosts#,} port=${ports#,} dbname=ticket connect_timeout=2 target_session_attrs=read-write"
}
# in_partition CLUSTER PART name role cluster part port bouncer_port: name and
# bouncer port of a node of that partition.
in_partition() { [ "$1/$2" != "$5/$6" ] || echo "$3 $8"; }

up() {
  "$ROOT/scripts/var.sh" create
  VAR=$NODES "$ROOT/scripts/var.sh" create
  # In order: a standby copies its primary, which comes before it.
  each start_node
  each start_bouncer
  local proxy cluster parts
  proxy=$(awk '{ print $4 }' "$NODES/proxy/node")
  for cluster in concerts users concerts_standby; do
    parts=$(each cluster_partitions | awk -F'\t' -v c="$cluster" '$1 == c' | sort -u -k2,2n | cut -f3)
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

# ---- failover (docs/scale.md, "Failover")

# node_line NAME: "name role cluster partition port bouncer_port" of a node.
node_line() {
  local line
  line=$(each node_named "$1")
  [ -n "$line" ] || die "no node '$1' (make -s nodes lists them)"
  echo "$line"
}
node_named() { [ "$1" != "$2" ] || { shift; echo "$@"; }; }
# primary_of CLUSTER PART name role cluster part port ...: name and port of
# the partition's primary.
primary_of() { [ "$1/$2/primary" != "$5/$6/$4" ] || echo "$3 $7"; }

# set_role NAME ROLE: what `make -s nodes` says the node is, and `up` starts it as.
set_role() {
  local f=$NODES/$1/node
  awk -v role="$2" '{ $2 = role; print }' "$f" | as_run tee "$f.new" >/dev/null
  as_run mv "$f.new" "$f"
}

stop_bouncer() {
  local pid
  pid=$(cat "$NODES/$1/run/pgbouncer.pid" 2>/dev/null) || return 0
  as_run kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    as_run kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  die "pgbouncer of $1 (pid $pid) did not stop"
}

# fence NAME PORT: the old primary must never take a write again, or two
# primaries would give out the same ids.  Its pgbouncer and server stop, and
# its role becomes `fenced`, which `up` leaves stopped until `rebuild`.
fence() {
  say "fencing $1: stopping its pgbouncer and its server"
  stop_bouncer "$1"
  node "$1" "$2" down
  set_role "$1" fenced
}

# promote NAME: the standby NAME becomes its partition's primary.
promote() {
  local line name role cluster part port bport old
  line=$(node_line "$1")
  read -r name role cluster part port bport <<<"$line"
  [ "$role" = standby ] || die "$name is a $role, not a standby (make -s nodes)"
  old=$(each primary_of "$cluster" "$part")
  # shellcheck disable=SC2086 # name and port
  [ -z "$old" ] || fence $old
  say "promoting $name"
  as_run "$PGBIN/pg_ctl" -D "$NODES/$name/pg" -w -t 60 -s promote || die "pg_ctl promote of $name failed"
  for _ in $(seq 100); do
    [ "$(psql_q -A -t -d "$(url "$name" "$port")" -c 'SELECT pg_is_in_recovery()')" = t ] || break
    sleep 0.1
  done
  [ "$(psql_q -A -t -d "$(url "$name" "$port")" -c 'SELECT pg_is_in_recovery()')" = f ] ||
    die "$name is still in recovery (its log: $NODES/$name/log/postgresql.log)"
  set_role "$name" primary
  # pgbouncer hands every client the server parameters of its first login,
  # in_hot_standby=on among them, and libpq would skip it as read-only:
  # a new pgbouncer logs in to the primary afresh.
  stop_bouncer "$name"
  start_bouncer "$name" primary "$cluster" "$part" "$port" "$bport"
}

# rebuild NAME: the fenced node NAME, copied afresh from its partition's
# primary, streams from it as its standby.
rebuild() {
  local line name role cluster part port bport primary pport
  line=$(node_line "$1")
  read -r name role cluster part port bport <<<"$line"
  [ "$role" = fenced ] || die "$name is a $role: only a fenced node is rebuilt (promote fences one)"
  read -r primary pport <<<"$(each primary_of "$cluster" "$part")"
  [ -n "$primary" ] || die "partition $cluster/$part has no primary to copy"
  # A slot of this name is left by an earlier standby of the same name.
  psql_q -d "$(url "$primary" "$pport")" -v slot="${name//-/_}" >/dev/null <<'SQL'
SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = :'slot';
SQL
  as_run rm -rf -- "$NODES/$name/pg"
  standby_create "$name" "$port" "$primary"
  node "$name" "$port" up
  set_role "$name" standby
  start_bouncer "$name" standby "$cluster" "$part" "$port" "$bport"
}

# restart WANT name role cluster partition port bouncer_port: start the node WANT, the
# only one that matches, and its pgbouncer should that have stopped too.
restart() {
  [ "$2" = "$1" ] || return 0
  [ -e "$NODES/$2/pg/PG_VERSION" ] || die "node '$2' was never created (scripts/topology.sh up)"
  [ "$3" != fenced ] || die "$2 was fenced by a promotion: rebuild it (scripts/topology.sh rebuild $2)"
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
  promote) promote "${2:-}" ;;
  rebuild) rebuild "${2:-}" ;;
  start) [ -f "$NODES/${2:-}/node" ] || die "no node '${2:-}' (make -s nodes lists them)"
         each restart "$2" ;;
  url) [ -f "$NODES/${2:-}/node" ] || die "no node '${2:-}' (make -s nodes lists them)"
       awk '{ print $4 }' "$NODES/$2/node" ;;
  *) echo "usage: $0 up|down|nodes|url NAME|start NAME|serve|promote NAME|rebuild NAME" >&2; exit 2 ;;
esac
