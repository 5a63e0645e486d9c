#!/usr/bin/env bash
# The web side in the foreground: lighttpd (and pgbouncer in CGI mode)
# against the database in $VAR, until a signal or until one of them ends.
# The programs and pages are copied into $VAR/www first: the run user may
# not reach this tree (see var_probe in lib.sh).
#
# Settings (environment), besides those of lib.sh:
#   MODE          fastcgi or cgi [fastcgi]
#   PORT          HTTP port, on 127.0.0.1 [8080]
#   BOUNCER_PORT  pgbouncer's port (socket name) in CGI mode [6432]
#   BENCH=1       also serve the bench's programs (etc/lighttpd/bench.conf)
#   PROCS         FastCGI processes per busy program [4: make bench measured
#                 2 and 4 on two cores]
#   JOIN_PROCS    FastCGI processes of the join [two per core: more joins in
#                 flight took the cores from the calls of those in line]
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
MODE=${MODE:-fastcgi} PORT=${PORT:-8080}
BOUNCER_PORT=${BOUNCER_PORT:-6432} BENCH=${BENCH:-} PROCS=${PROCS:-4} JOIN_PROCS=${JOIN_PROCS:-$((2 * $(nproc)))}

case "$MODE" in fastcgi|cgi) ;; *) die "MODE must be fastcgi or cgi, not '$MODE'" ;; esac
[ -x "$BUILD/cgi-bin/health" ] || die "no programs in $BUILD/cgi-bin: run make build first"
[ -S "$VAR/run/.s.PGSQL.$PGPORT" ] ||
  die "no database on $VAR/run port $PGPORT: start it first (make db, or scripts/cluster.sh up)"
# lighttpd would only say "can't bind to socket" in its own log.
if port_in_use "$PORT"; then
  die "port $PORT is already in use on 127.0.0.1 (another server, or make run still going?): stop it, or choose another port with PORT=, e.g. make run PORT=8081"
fi

"$ROOT/scripts/var.sh" create
as_run mkdir -p "$VAR/log" "$VAR/run"
# The JSON bodies lighttpd answers with when it meets an error itself, from
# the same code table the programs answer with (cgi-bin/errors.c).
"$BUILD/bin/ticket-errorfiles" "$VAR/errors" || die "could not write the error files into $VAR/errors"
www=$VAR/www
rm -rf -- "$www"
mkdir -p "$www/build"
cp -R "$ROOT/htdocs" "$www/htdocs"
cp -R "$BUILD/cgi-bin" "$www/build/cgi-bin"
[ "$BENCH" != 1 ] || cp -R "$BUILD/bench" "$www/build/bench"
chmod -R a+rX "$www" "$VAR/errors"

pids=()
trap 'trap "" TERM; kill -TERM "${pids[@]}" 2>/dev/null; wait' EXIT
trap 'exit 0' INT TERM HUP
dburl="host=$VAR/run port=$PGPORT dbname=ticket user=ticket_web"
if [ "$MODE" = cgi ]; then
  sed -e "s|@DBURL@|$dburl|" -e "s|@PORT@|$BOUNCER_PORT|" -e "s|@RUNDIR@|$VAR/run|" \
      -e "s|@LOGDIR@|$VAR/log|" "$ROOT/etc/pgbouncer.ini" >"$VAR/pgbouncer.ini"
  as_run /usr/sbin/pgbouncer -q "$VAR/pgbouncer.ini" & pids+=($!)
  for _ in $(seq 50); do
    [ -S "$VAR/run/.s.PGSQL.$BOUNCER_PORT" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null ||
      die "pgbouncer did not start (its log: $VAR/log/pgbouncer.log)"
    sleep 0.1
  done
  dburl="host=$VAR/run port=$BOUNCER_PORT dbname=ticket user=ticket_web"
fi

conf=$ROOT/lighttpd.conf
[ "$BENCH" != 1 ] || conf=$ROOT/etc/lighttpd/bench.conf
user=${RUN_USER:-$(id -un)}
TICKET_ROOT=$ROOT TICKET_MODE=$MODE TICKET_PORT=$PORT TICKET_VAR=$VAR \
TICKET_DOCROOT=$www/htdocs TICKET_BUILD=$www/build TICKET_DBURL=$dburl \
TICKET_USER=$user TICKET_PROCS=$PROCS TICKET_JOIN_PROCS=$JOIN_PROCS \
  /usr/sbin/lighttpd -D -f "$conf" & pids+=($!)
status=0
wait -n || status=$?
say "a service exited (status $status); logs in $VAR/log/ (error.log: lighttpd, programs.log: the programs, pgbouncer.log)"
tail -n 5 "$VAR/log/error.log" >&2 2>/dev/null || :
exit 1
