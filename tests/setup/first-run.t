#!/usr/bin/env bash
# The first run fails loudly: a port already in use, a runtime folder that
# cannot be created or is someone else's, initdb failing, PostgreSQL failing
# to start; each names what happened and what to do (or where the log is).
# Real tools throughout: a real listener, real mkdir, initdb and pg_ctl.
set -uo pipefail
root=${TICKET_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
port=${FIRSTRUN_PORT:-18380}
echo 1..13
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
has() { grep -qF -- "$1" "$tmp/out" || { sed 's/^/# /' "$tmp/out" >&2; return 1; }; }
tmp=$(mktemp -d /tmp/ticket-first-run.XXXXXX); chmod 0755 "$tmp"
listener=
cleanup() {
  [ -z "$listener" ] || kill "$listener" 2>/dev/null
  VAR=$tmp/pgfail "$root/scripts/cluster.sh" down >/dev/null 2>&1
  rm -rf -- "$tmp"
}
trap cleanup EXIT

# ---- a port already in use
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print("ready", flush=True); time.sleep(120)
' "$port" >"$tmp/listener" & listener=$!
for _ in $(seq 50); do grep -q ready "$tmp/listener" && break; sleep 0.1; done
VAR=$tmp/var PORT=$port "$root/scripts/run.sh" >"$tmp/out" 2>&1; st=$?
ok $(( st == 0 )) "make run with its port taken: fails"
has "port $port is already in use"; ok $? "and names the port"
has "PORT="; ok $? "and says PORT= changes it"
[ ! -e "$tmp/var" ]; ok $? "before creating, building or starting anything"
# serve.sh alone (tests, make serve): against the running test database.
VAR=${TICKET_VAR:?} PGPORT=${PGPORT:?} BUILD=${TICKET_BUILD:-$root/build} PORT=$port \
  "$root/scripts/serve.sh" >"$tmp/out" 2>&1; st=$?
ok $(( st == 0 )) "serve.sh with its port taken: fails before starting lighttpd"
has "port $port is already in use"; ok $? "and names the port"

# ---- a runtime folder that cannot be created, or is someone else's
mkdir "$tmp/locked"
if [ "$(id -u)" = 0 ]; then
  # As a user who may not write in the folder's parent.
  cp -R "$root/scripts" "$tmp/tree-scripts"; chmod -R a+rX "$tmp/tree-scripts"
  runuser -u nobody -- env VAR="$tmp/locked/var" "$tmp/tree-scripts/var.sh" create >"$tmp/out" 2>&1; st=$?
else
  chmod 0555 "$tmp/locked"
  VAR=$tmp/locked/var "$root/scripts/var.sh" create >"$tmp/out" 2>&1; st=$?
fi
ok $(( st == 0 )) "a runtime folder that cannot be created: fails"
has "cannot create the runtime folder $tmp/locked/var: "; ok $? "and names the folder, the reason and VAR="
mkdir "$tmp/theirs"
if [ "$(id -u)" = 0 ]; then chown nobody "$tmp/theirs"; else chmod 0555 "$tmp/theirs"; fi
VAR=$tmp/theirs "$root/scripts/var.sh" create >"$tmp/out" 2>&1; st=$?
{ [ $st != 0 ] && grep -qE "belongs to nobody|not writable" "$tmp/out"; } ||
  { sed 's/^/# /' "$tmp/out" >&2; false; }
ok $? "a runtime folder of someone else's (or read-only) is refused, saying why"

# ---- initdb failing: a data folder in the way
v=$tmp/initfail
VAR=$v "$root/scripts/var.sh" create && mkdir "$v/pg" && touch "$v/pg/stray" &&
  { [ "$(id -u)" != 0 ] || chown -R ticket "$v/pg"; }
VAR=$v PGPORT=57499 "$root/scripts/cluster.sh" up >"$tmp/out" 2>&1; st=$?
{ [ $st != 0 ] && has "initdb failed" && has "$v/log/initdb.log"; }
ok $? "initdb failing: says so and names its log"

# ---- PostgreSQL failing to start: a setting it refuses
v=$tmp/pgfail
VAR=$v PGPORT=57498 "$root/scripts/cluster.sh" up >"$tmp/out" 2>&1 &&
  VAR=$v "$root/scripts/cluster.sh" down >>"$tmp/out" 2>&1
ok $? "a private cluster starts and stops"
echo "shared_buffers = 'plenty'" >>"$v/pg/postgresql.conf"
VAR=$v PGPORT=57498 "$root/scripts/cluster.sh" up >"$tmp/out" 2>&1; st=$?
{ [ $st != 0 ] && has "PostgreSQL failed to start" && has "$v/log/postgresql.log"; }
ok $? "PostgreSQL failing to start: says so and names its log"
has 'shared_buffers'; ok $? "and shows the log's last lines (the refused setting)"
