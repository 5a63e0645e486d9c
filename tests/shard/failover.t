#!/usr/bin/env bash
# Failover in the sharded topology (docs/scale.md, "Failover"), over real HTTP
# through lighttpd, the FastCGI programs and the PL/Proxy database.  The
# primary that holds a concert is killed (kill -9): a read of the concert
# answers 503 DATABASE_UNAVAILABLE, never a 500.  `make promote` fences the
# dead primary and promotes its standby, and the same programs and proxy, not
# restarted, read the concert again and write to its partition on the promoted
# node; `make -s nodes` shows the new roles; pg_cron's scheduler runs there.
# The old primary, rebuilt, streams from the new one.  A standby whose replay
# is paused receives its primary's writes without showing them, and shows
# them once resumed.
set -euo pipefail
SHARD=${TICKET_VAR:?run through tests/harness (make test)}/failover
NODE_PORT=${FAILOVER_TEST_PGPORT:-55491} BOUNCER_PORT=${FAILOVER_TEST_BOUNCER_PORT:-18501}
HTTP_PORT=${FAILOVER_TEST_HTTP_PORT:-18500}
# shellcheck source=tests/shard/lib.sh
. "$(dirname "$0")/lib.sh"
make_nodes() {
  make -s -C "$TICKET_ROOT" VAR="$SHARD" TOPOLOGY_PGPORT="$NODE_PORT" \
    TOPOLOGY_BOUNCER_PORT="$BOUNCER_PORT" "$@"
}
# concert_on_node NODE ID: the node has the concert (its title).
# shellcheck disable=SC2317 # called through poll_until and check
concert_on_node() { [ -n "$(on "$1" "SELECT title FROM ticket.concerts WHERE id = $2")" ]; }
# new_concert_on PARTITION: a concert made on the proxy that lands on that
# concert partition (the proxy picks them in turn); prints its id.
new_concert_on() {
  local id
  for _ in 1 2; do
    id=$(on proxy "SELECT admin.create_concert('Failover', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 3)")
    [ $((id % 2)) != "$1" ] || { echo "$id"; return; }
  done
  return 1
}
# The pids of the proxy's server and of the web side's processes (lighttpd,
# its FastCGI programs): the same after the failover, or something restarted.
running() {
  head -n 1 "$SHARD/nodes/proxy/pg/postmaster.pid"
  ps -o pid= -s "$(cat "$TICKET_VAR/serve-$HTTP_PORT.pid")" | sort -n
}

# ---- the nodes, the proxy's connection strings
started=$(date +%s)
if topology up >"$WORK/up.log" 2>&1; then pass "topology up ($(($(date +%s) - started)) s)"
else fail "topology up"; diag "$(tail -n 20 "$WORK/up.log")"; finish; fi

nodes_dir=$SHARD/nodes
is "$(on proxy "SELECT option_value FROM pg_options_to_table((SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'concerts')) WHERE option_name = 'p0'")" \
  "host=$nodes_dir/concerts-0/run,$nodes_dir/concerts-0-standby/run port=$((BOUNCER_PORT + 1)),$((BOUNCER_PORT + 5)) dbname=ticket connect_timeout=2 target_session_attrs=read-write" \
  "the proxy's concert partition 0: the pgbouncers of concerts-0 and its standby, the one taking writes wins"

start_service fastcgi "$HTTP_PORT"
c=$(on proxy "SELECT admin.create_concert('Failover', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 3)")
p=$((c % 2)) q=$((1 - c % 2))
primary=concerts-$p standby=concerts-$p-standby
req GET "/api/concerts/$c"
expect 200 "concert $c read from $primary" ".id == $c"
poll_until 10 concert_on_node "$standby" "$c" || :
check "$standby has replayed concert $c (streaming is asynchronous: wait before the kill)" \
  concert_on_node "$standby" "$c"
before=$(running)

# A proxy session as the programs hold one: its PL/Proxy connection to the
# primary's pgbouncer is open when the primary dies, and its next calls come
# after the promotion (it waits for the file promoted).
web_url=$(topology url proxy) web_url=${web_url/user=ticket_owner/user=ticket_web}
printf '%s\n' '\set VERBOSITY sqlstate' "SELECT (api.get_concert($c)).status;" \
  "\\! for i in \$(seq 300); do [ -e '$WORK/promoted' ] && break; sleep 0.1; done" \
  "SELECT (api.get_concert($c)).status;" "SELECT (api.get_concert($c)).status;" |
  "$PSQL" -X -q -A -t -d "$web_url" >"$WORK/session.out" 2>&1 &
session=$!
poll_until 10 grep -q . "$WORK/session.out" || :
is "$(cat "$WORK/session.out")" 200 "a proxy session reads concert $c on $primary"

# ---- the primary dies
pid=$(head -n 1 "$nodes_dir/$primary/pg/postmaster.pid")
kill -KILL "$pid"
poll_until 10 eval "! kill -0 $pid 2>/dev/null" || :
refute "$primary's postmaster (pid $pid) is killed" kill -0 "$pid" 2>/dev/null
t0=$(date +%s%N)
req GET "/api/concerts/$c"
expect_error 503 DATABASE_UNAVAILABLE "$primary dead, nothing promoted: its concert is 503 DATABASE_UNAVAILABLE"
check "... with Retry-After" has_header Retry-After
diag "that answer took $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# ---- promote its standby
t0=$(date +%s%N)
if make_nodes promote NODE="$standby" >"$WORK/promote.log" 2>&1; then
  pass "make promote NODE=$standby ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else fail "make promote NODE=$standby"; diag "$(cat "$WORK/promote.log")"; fi
touch "$WORK/promoted"
wait "$session" || :
session_after=$(grep -E '^(200|ERROR)' "$WORK/session.out" | tail -n +2 | paste -sd' ')
diag "the proxy session, after the promotion: $session_after; all it said: $(paste -sd'|' "$WORK/session.out")"
case "$session_after" in
  "200 200"|"ERROR:  08006 200") pass "the same proxy session is served after the promotion (a first call may fail 08006, 503)" ;;
  *) fail "the same proxy session is served after the promotion (a first call may fail 08006, 503)" ;;
esac

# Each proxy backend with a connection open to the dead node's pgbouncer finds
# it closed once, and answers that call 503; it connects anew on the next.
others='' unavailable=0
for _ in $(seq 40); do
  req GET "/api/concerts/$c"
  [ "$STATUS" != 200 ] || break
  code=$(jv '.error.code? // empty' 2>/dev/null || :)
  if [ "$STATUS $code" = "503 DATABASE_UNAVAILABLE" ]; then unavailable=$((unavailable + 1))
  else others+="$STATUS $code; "; fi
  sleep 0.1
done
expect 200 "promoted: the same programs and proxy read concert $c again (after $unavailable answers 503)" \
  ".id == $c and .title == \"Failover\""
is "$others" "" "every answer before that was 503 DATABASE_UNAVAILABLE, none a 500"
is "$(running)" "$before" "neither the proxy's server nor the web side's processes were restarted"

w=$(new_concert_on "$p")
check "a concert written through the proxy to partition $p ($w) lands on the promoted $standby" \
  concert_on_node "$standby" "$w"
req GET "/api/concerts/$w"
expect 200 "... and reads over HTTP" ".id == $w"

nodes=$(make_nodes nodes)
is "$(awk -v a="$primary" -v b="$standby" '$1 == a || $1 == b { print $1, $2, $3 }' <<<"$nodes")" \
  "$primary fenced concerts/$p
$standby primary concerts/$p" "make -s nodes: $standby is the primary, $primary fenced"
is "$(on "$standby" 'SELECT pg_is_in_recovery()')" f "$standby is out of recovery"
if topology up >"$WORK/up2.log" 2>&1; then pass "topology up again, after the promotion"
else fail "topology up again, after the promotion"; diag "$(tail -n 20 "$WORK/up2.log")"; fi
refute "... leaves the fenced $primary stopped" on "$primary" 'SELECT 1' 2>/dev/null
check "... and says so" grep -q "$primary stays stopped" "$WORK/up2.log"

# pg_cron's launcher starts when recovery ends, never on a standby.
is "$(on "$standby" "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'")" 1 \
  "pg_cron's scheduler runs on the promoted $standby"
is "$(on "concerts-$q-standby" "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'")" 0 \
  "... and on no standby (concerts-$q-standby)"
is "$(on "$standby" 'SELECT jobname FROM cron.job WHERE active ORDER BY 1')" \
  "$(on "concerts-$q" 'SELECT jobname FROM cron.job WHERE active ORDER BY 1')" \
  "$standby has the same pg_cron jobs as a primary made so"

# ---- the old primary, rebuilt as the new one's standby
if topology rebuild "$primary" >"$WORK/rebuild.log" 2>&1; then pass "topology.sh rebuild $primary"
else fail "topology.sh rebuild $primary"; diag "$(tail -n 20 "$WORK/rebuild.log")"; fi
is "$(make_nodes nodes | awk -v a="$primary" '$1 == a { print $2 }')" standby "make -s nodes: $primary is a standby"
is "$(on "$primary" 'SELECT pg_is_in_recovery()')" t "$primary is in recovery"
w2=$(new_concert_on "$p")
poll_until 10 concert_on_node "$primary" "$w2" || :
check "$primary replays the concert $w2 written through the proxy on $standby" concert_on_node "$primary" "$w2"
req GET "/api/concerts/$w2"
expect 200 "the proxy skips the standby $primary (listed first) and reads $w2" ".id == $w2"

# ---- replay paused on a standby
rs=concerts-$q-standby
on "$rs" 'SELECT pg_wal_replay_pause()' >/dev/null
# shellcheck disable=SC2317 # called through poll_until and check
paused() { [ "$(on "$rs" 'SELECT pg_get_wal_replay_pause_state()')" = paused ]; }
poll_until 10 paused || :
check "$rs: replay paused" paused
n=$(on "$rs" 'SELECT count(*) FROM ticket.concerts')
y=$(on "concerts-$q" "SELECT admin.create_concert('Paused', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 3)")
lsn=$(on "concerts-$q" 'SELECT pg_current_wal_lsn()')
# shellcheck disable=SC2317 # called through poll_until and check
received() { [ "$(on "$rs" "SELECT pg_last_wal_receive_lsn() >= '$lsn'")" = t ]; }
poll_until 10 received || :
check "$rs has received concerts-$q's WAL up to the new concert $y ($lsn)" received
is "$(on "$rs" 'SELECT count(*) FROM ticket.concerts')" "$n" "... and, paused, does not show it"
is "$(on "$rs" "SELECT pg_last_wal_replay_lsn() < '$lsn'")" t \
  "the lag is measurable on $rs: pg_last_wal_replay_lsn() behind pg_last_wal_receive_lsn()"
is "$(on "concerts-$q" "SELECT replay_lsn < '$lsn' FROM pg_stat_replication r
      JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = '${rs//-/_}'")" t \
  "... and on concerts-$q: pg_stat_replication's replay_lsn is behind its pg_current_wal_lsn()"
on "$rs" 'SELECT pg_wal_replay_resume()' >/dev/null
poll_until 10 concert_on_node "$rs" "$y" || :
check "resumed: $rs catches up and shows concert $y" concert_on_node "$rs" "$y"
is "$(on "$rs" "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" t "... replayed up to $lsn"

diag "the whole run took $(($(date +%s) - started)) s"
finish
