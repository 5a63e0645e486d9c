# shellcheck shell=bash
# Sourced by the scripts in this folder: where things are, who runs the
# servers, and the runtime folder.  Settings come from the environment
# (the Makefile passes its variables):
#
#   VAR       runtime folder: cluster, sockets, logs [probed: see var_probe]
#   PGPORT    port (socket name) of the cluster in $VAR [55432]
#   BUILD     build folder, programs in $BUILD/cgi-bin [<tree>/build]
#   PGBIN     PostgreSQL 15's programs [/usr/lib/postgresql/15/bin]

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Debian's /usr/bin/psql picks a version by itself; use 15's tools directly.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT=${PGPORT:-55432}
BUILD=${BUILD:-$ROOT/build}

# say SCRIPT MESSAGE: one line on stderr, named for the script that speaks.
say() { echo "$(basename "$0" .sh): $*" >&2; }
die() { say "$@"; exit 1; }

# Who runs the servers: `ticket` when invoked as root, else the caller
# (RUN_USER is then empty).  as_run runs a command as that user.
if [ "$(id -u)" = 0 ]; then
  RUN_USER=ticket
  as_run() { runuser -u "$RUN_USER" -- env -C / "$@"; }
else
  RUN_USER=
  as_run() { "$@"; }
fi

# var_probe: the runtime folder.  <tree>/var unless the run user cannot
# reach it: a clone may sit under a folder only root may enter (/root is
# 0700), and CI clones wherever it likes.  Then a folder under /var/tmp
# named after this tree.  Before `ticket` exists, `nobody` stands in for
# it (same rights: none).
var_probe() {
  local ok='' d=$ROOT as
  if [ "$(id -u)" = 0 ]; then
    if id -u "$RUN_USER" >/dev/null 2>&1; then as=(runuser -u "$RUN_USER" --)
    else as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --); fi
    ok=yes
    while :; do
      "${as[@]}" test -x "$d" || ok=
      [ "$d" = / ] && break
      d=$(dirname "$d")
    done
  elif [ -w "$ROOT/var" ] || { [ ! -e "$ROOT/var" ] && [ -w "$ROOT" ]; }; then
    ok=yes
  fi
  if [ -n "$ok" ]; then echo "$ROOT/var"
  else echo "/var/tmp/ticket-$(printf %s "$ROOT" | sha1sum | cut -c1-12)"; fi
}
VAR=${VAR:-$(var_probe)}

# conninfo VAR PORT DATABASE: libpq connection string of a private cluster.
conninfo() { echo "host=$1/run port=$2 dbname=$3 user=ticket_owner"; }

psql_q() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# migrate DBURL: apply the migrations and functions of this tree.
migrate() { PSQL=$PGBIN/psql "$ROOT/migrations/migrate.sh" "$1"; }

# port_in_use PORT: something already listens on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
