#!/usr/bin/env bash
# The private PostgreSQL cluster in $VAR/pg, socket in $VAR/run, log in
# $VAR/log/postgresql.log, run by the run user (see lib.sh).
#
#   scripts/cluster.sh up     initialise (once), start (unless running), and
#                             create the database `ticket`
#   scripts/cluster.sh down   stop it if it runs
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
pgdata=$VAR/pg
log=$VAR/log/postgresql.log

up() {
  "$ROOT/scripts/var.sh" create
  as_run mkdir -p "$VAR/run" "$VAR/log"
  if [ ! -e "$pgdata/PG_VERSION" ]; then
    say "initialising PostgreSQL cluster in $pgdata"
    if ! as_run "$PGBIN/initdb" -D "$pgdata" -U ticket_owner --auth=trust \
        -E UTF8 --locale=C.UTF-8 >"$VAR/log/initdb.log" 2>&1; then
      tail -n 20 "$VAR/log/initdb.log" >&2
      die "initdb failed (above; all of it in $VAR/log/initdb.log): fix that, or remove $pgdata and run again"
    fi
    { echo; echo "# ---- added by scripts/cluster.sh"
      cat "$ROOT/etc/postgresql/private.conf" "$ROOT/etc/postgresql/ticket.conf"
      echo "unix_socket_directories = '$VAR/run'"
      echo "port = $PGPORT"
    } | as_run tee -a "$pgdata/postgresql.conf" >/dev/null
  fi
  if ! as_run "$PGBIN/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    say "starting PostgreSQL on $VAR/run port $PGPORT"
    if ! as_run "$PGBIN/pg_ctl" -D "$pgdata" -l "$log" -o "-p $PGPORT" -w -s start; then
      tail -n 20 "$log" >&2 2>/dev/null || :
      die "PostgreSQL failed to start (its log: $log, last lines above)"
    fi
  fi
  psql_q -d "$(conninfo "$VAR" "$PGPORT" postgres)" <<'SQL'
SELECT 'CREATE DATABASE ticket OWNER ticket_owner'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'ticket') \gexec
SQL
}

down() {
  [ -f "$pgdata/postmaster.pid" ] || return 0
  as_run "$PGBIN/pg_ctl" -D "$pgdata" status >/dev/null 2>&1 || return 0
  as_run "$PGBIN/pg_ctl" -D "$pgdata" -m fast -w -s stop
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
