#!/usr/bin/env bash
# The README's "Installing into an existing lighttpd and PostgreSQL", step by
# step, on a distribution-style setup: `make install` into a DESTDIR; a
# throwaway cluster made as Debian makes its own (initdb by the `postgres`
# user, peer authentication, conf.d) with its socket where /var/run/postgresql
# would be; Debian's own lighttpd.conf with its paths moved into the DESTDIR,
# its programs run as www-data.  ticket-migrate, run as `postgres`, applies
# the installed SQL; the programs log in through the pg_ident map; then the
# purchase journey over HTTP ends CONFIRMED.
set -uo pipefail
root=${TICKET_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TICKET_BUILD:-$root/build}
port=${HOSTING_PORT:-18370}
pgbin=/usr/lib/postgresql/15/bin
if [ "$(id -u)" != 0 ] || ! id -u www-data >/dev/null 2>&1 || ! id -u postgres >/dev/null 2>&1; then
  echo "1..0 # SKIP needs root, and the users www-data and postgres (Debian's)"; exit 0
fi
echo 1..14
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
diag() { sed 's/^/# /' >&2; }

tmp=$(mktemp -d /tmp/ticket-hosting.XXXXXX); chmod 0755 "$tmp"
dest=$tmp/root                # DESTDIR: / of the machine
pgdata=$tmp/pg                # /etc/postgresql/15/main and /var/lib/postgresql/15/main
pgrun=$tmp/postgresql         # /var/run/postgresql
sockets=$tmp/lighttpd         # /run/lighttpd
lpid=
cleanup() {
  [ -z "$lpid" ] || { kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null; }
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w -s stop >/dev/null 2>&1
  rm -rf -- "$tmp"
}
trap cleanup EXIT
# Each runs in a clean environment, as a service or an admin's shell would:
# nothing of the test database's PG* variables.
clean_env=(env -i -C / PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
as_pg() { runuser -u postgres -- "${clean_env[@]}" PGHOST="$pgrun" "$@"; }

# ---- make install (README: sudo make install PREFIX=/usr)
out=$(make -s -C "$root" install DESTDIR="$dest" PREFIX=/usr BUILD="$build" \
        INSTALL_DBURL="host=$pgrun dbname=ticket user=ticket_web" INSTALL_SOCKETS="$sockets" 2>&1)
st=$?; ok $st "make install into a DESTDIR"; [ $st = 0 ] || diag <<<"$out"
[ -x "$dest/usr/sbin/ticket-migrate" ] && [ -x "$dest/usr/lib/ticket/cgi-bin/health" ] &&
  [ -f "$dest/etc/lighttpd/conf-available/50-ticket.conf" ] && [ -f "$dest/etc/lighttpd/ticket/routes.conf" ]
ok $? "it installs ticket-migrate, the programs, the lighttpd snippet and its routes"

# ---- the distribution's cluster, as pg_createcluster makes it
install -d -o postgres -g postgres "$pgdata" "$pgrun" "$tmp/log"
install -d -o www-data -g www-data "$sockets"
out=$(as_pg "$pgbin/initdb" -D "$pgdata" --auth-local=peer --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 2>&1) || diag <<<"$out"
install -d -o postgres -g postgres "$pgdata/conf.d"
cat >>"$pgdata/postgresql.conf" <<CONF
include_dir = 'conf.d'
listen_addresses = ''
unix_socket_directories = '$pgrun'
port = 5432
CONF
# README: sudo cp /usr/share/ticket/postgresql/ticket.conf /etc/postgresql/15/main/conf.d/
cp "$dest/usr/share/ticket/postgresql/ticket.conf" "$pgdata/conf.d/"
# README: sudo systemctl restart postgresql
out=$(as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$tmp/log/postgresql.log" -w -s start 2>&1)
st=$?; ok $st "the cluster starts with the installed ticket.conf"
[ $st = 0 ] || tail -n 20 "$tmp/log/postgresql.log" | diag

# ---- README: sudo -u postgres ticket-migrate
out=$(as_pg "$dest/usr/sbin/ticket-migrate" 2>&1)
st=$?; ok $st "ticket-migrate as postgres creates and migrates the database"; [ $st = 0 ] || diag <<<"$out"
grep -qF "function files from $dest/usr/share/ticket/plpgsql" <<<"$out"
ok $? "it applies the installed SQL, not the clone's"
out=$(as_pg "$dest/usr/sbin/ticket-migrate" 2>&1)
st=$?; again=$(grep -c "migrate: applied 0" <<<"$out")
ok $(( st != 0 || again != 0 )) "a second run succeeds and applies no migration again ($again)"

# ---- README: the web role's peer map, then reload
sed -i '1i local   ticket   ticket_web   peer map=ticket' "$pgdata/pg_hba.conf"
echo 'ticket   www-data   ticket_web' >>"$pgdata/pg_ident.conf"
as_pg "$pgbin/pg_ctl" -D "$pgdata" -s reload
# README: a concert, as the DBA
cid=$(as_pg "$pgbin/psql" -X -q -At -d ticket -c \
  "SELECT admin.create_concert('Hosting test', 'Hall', ARRAY[now() + interval '7 days'])" 2>&1)
[[ $cid =~ ^[0-9]+$ ]]; ok $? "the DBA creates a concert with psql as postgres"

# ---- lighttpd: Debian's configuration; paths of / moved under the DESTDIR
conf=$dest/etc/lighttpd
sed -i "s|^var.bin = \"/usr/|var.bin = \"$dest/usr/|" "$conf/conf-available/50-ticket.conf"
sed -e "s|^server.document-root .*|server.document-root = \"/usr/share/ticket/htdocs\"|" \
    -e "s|^server.port .*|server.port = $port|" \
    -e "s|\"/var/cache/lighttpd/uploads\"|\"$tmp\"|" \
    -e "s|\"/var/log/lighttpd/error.log\"|\"$tmp/lighttpd-error.log\"|" \
    -e "s|\"/run/lighttpd.pid\"|\"$tmp/lighttpd.pid\"|" \
    -e "s|\"/etc/lighttpd/conf-enabled/|\"$conf/conf-enabled/|" \
    /etc/lighttpd/lighttpd.conf >"$conf/lighttpd.conf"
sed -i "s|^server.document-root = \"/usr|server.document-root = \"$dest/usr|" "$conf/lighttpd.conf"
touch "$tmp/lighttpd-error.log"; chown www-data: "$tmp/lighttpd-error.log"
# README: sudo lighttpd-enable-mod ticket (which makes this link)
mkdir -p "$conf/conf-enabled"
ln -s ../conf-available/50-ticket.conf "$conf/conf-enabled/50-ticket.conf"
"${clean_env[@]}" /usr/sbin/lighttpd -D -f "$conf/lighttpd.conf" >"$tmp/lighttpd.out" 2>&1 & lpid=$!

B=http://127.0.0.1:$port
up=1
for _ in $(seq 100); do
  curl -sf -o /dev/null "$B/api/health" && { up=0; break; }
  kill -0 "$lpid" 2>/dev/null || break
  sleep 0.1
done
ok $up "lighttpd with the installed snippet answers /api/health 200 (the programs log in as ticket_web)"
if [ $up != 0 ]; then
  cat "$tmp/lighttpd.out" "$tmp/lighttpd-error.log" | tail -n 5 | diag
  { curl -s "$B/api/health"; echo; } | diag
fi
users=$(ps -o user= -C health | sort -u | tr '\n' ' ')
[ "$users" = "www-data " ]; ok $? "the programs run as www-data (ran as: $users)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/")
[ "$code" = 200 ]; ok $? "the page answers 200 from the installed htdocs"

# ---- the purchase journey
j() { curl -s "$@"; }
key=$(j -X POST -H 'Content-Type: application/json' -d '{"name":"hoster"}' "$B/api/users" | jq -r .api_key)
[[ $key == tk_* ]]; ok $? "create a user"
bal=$(j -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -H 'Idempotency-Key: hosting-charge' -d '{"amount": 300000}' "$B/api/wallet/charge" | jq -r .balance)
token=$(j -X POST -H "Authorization: Bearer $key" -d '' "$B/api/concerts/$cid/queue" | jq -r .token)
status=$(j -H "X-Queue-Token: $token" "$B/api/queue" | jq -r .status)
[ "$bal" = 300000 ] && [ "$status" = ACTIVE ]
ok $? "charge 300000 (balance $bal) and join the queue (status $status)"
H=(-H "Authorization: Bearer $key" -H "X-Queue-Token: $token")
date=$(j "${H[@]}" "$B/api/concerts/$cid/dates" | jq -r '.dates[0].date')
rid=$(j -X POST "${H[@]}" -H 'Content-Type: application/json' \
        -d "{\"concert_id\": $cid, \"date\": \"$date\", \"seat_nos\": [1]}" "$B/api/reservations" | jq -r .reservation_id)
[[ $rid =~ ^[0-9]+$ ]]; ok $? "list the dates ($date) and hold seat 1 (reservation $rid)"
paid=$(j -X POST "${H[@]}" -H "Idempotency-Key: hosting-pay" -d '' "$B/api/reservations/$rid/payment" | jq -r .status)
seen=$(j -H "Authorization: Bearer $key" "$B/api/reservations/$rid" | jq -r .status)
[ "$paid" = CONFIRMED ] && [ "$seen" = CONFIRMED ]
ok $? "pay, and the reservation reads CONFIRMED (payment: $paid, then: $seen)"
