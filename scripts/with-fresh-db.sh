#!/usr/bin/env bash
# A fresh cluster in DIR on its own port, migrated, then SETUP (SQL) in it,
# then COMMAND with the database in the environment; the cluster stops
# however the run ends, and the run's status is the script's.  make test,
# make bench and make stress are this script with their own DIR and PORT.
#
#   scripts/with-fresh-db.sh DIR PORT SETUP COMMAND [ARG...]
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 DIR PORT SETUP COMMAND [ARG...]" >&2; exit 2; }
dir=$1 port=$2 setup=$3; shift 3
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/var.sh" create   # DIR's parent: usually under $VAR
exec 8>>"$dir.lock"
flock -n 8 || die "another run is using $dir"
cluster() { VAR=$dir PGPORT=$port "$ROOT/scripts/cluster.sh" "$1" 8>&-; }
cluster down   # left over by an interrupted run
rm -rf -- "$dir"
trap 'status=$?; cluster down || :; exit $status' EXIT
cluster up
dburl=$(conninfo "$dir" "$port" ticket)
migrate "$dburl"
psql_q -d "$dburl" -c 'SET client_min_messages = warning' -c "$setup" >/dev/null
PATH=$PGBIN:$PATH \
PGHOST=$dir/run PGPORT=$port PGDATABASE=ticket PGUSER=ticket_owner \
TICKET_DBURL=$dburl TICKET_VAR=$dir TICKET_ROOT=$ROOT \
TICKET_BUILD=$BUILD TICKET_RUNUSER=$RUN_USER \
  "$@" 8>&-
