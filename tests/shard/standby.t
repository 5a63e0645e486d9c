#!/usr/bin/env bash
# Standby reads of the sharded topology (docs/scale.md), over real HTTP through
# lighttpd, the FastCGI programs and the PL/Proxy database: a seat map and the
# poll of a token far back answer as the primary does; with the standby's
# replay paused, while the lag is within the bound (ticket.standby_max_lag on
# the proxy) they are the standby's, stale (a seat the primary has held still
# AVAILABLE, a position from before someone ahead left), and once the bound is
# lowered under the lag they are the primary's; an ACTIVE token's poll and one
# near the front are always the primary's.
set -euo pipefail
SHARD=${TICKET_VAR:?run through tests/harness (make test)}/shard-standby
NODE_PORT=${STANDBY_TEST_PGPORT:-55531} BOUNCER_PORT=${STANDBY_TEST_BOUNCER_PORT:-18631}
HTTP_PORT=${STANDBY_TEST_HTTP_PORT:-18630}
# shellcheck source=tests/shard/lib.sh
. "$(dirname "$0")/lib.sh"
# as_proxy NODE SQL: as the proxy logs in to it, to ask a partition directly what
# the proxy would.
as_proxy() {
  local url; url=$(topology url "$1")
  "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "${url/user=ticket_owner/user=ticket_proxy}" -c "$2"
}

# answers NODE SQL VALUE: the node answers SQL with VALUE now (for poll_until).
answers() { [ "$(on "$1" "$2")" = "$3" ]; }

# bound INTERVAL: the proxy's staleness bound, in its postgresql.conf (the last
# line wins), in force for every session (the programs' too) once a new one sees it.
bound() {
  echo "ticket.standby_max_lag = '$1'" >>"$SHARD/nodes/proxy/pg/postgresql.conf"
  on proxy 'SELECT pg_reload_conf()' >/dev/null
  poll_until 10 answers proxy "SELECT current_setting('ticket.standby_max_lag', true)" "$1"
}

started=$(date +%s)
if topology up >"$WORK/up.log" 2>&1; then pass "topology up ($(($(date +%s) - started)) s)"
else fail "topology up"; diag "$(tail -n 20 "$WORK/up.log")"; finish; fi
# Over what an idle primary's standby can vouch for (it hears from the primary
# every wal_receiver_timeout / 2, 30 s): the test lowers it past the lag later.
bound 1min
start_service fastcgi "$HTTP_PORT"

# ---- a concert admitting one at a time: A active, B..E waiting at 1..4
c=$(on proxy "SELECT admin.create_concert('Standby', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 4,
                                          p_max_active => 1)")
p=$((c % 2)) primary=concerts-$((c % 2)) standby=concerts-$((c % 2))-standby
# Idle waiters are dropped after an hour: the standby answers while the last
# heartbeat is under half of that (and of the waiting list's 10 min) old.
on "$primary" "SELECT admin.set_queue($c, p_idle_seconds => 3600)" >/dev/null
day=$(on "$primary" "SELECT on_date FROM ticket.concert_dates WHERE concert_id = $c")
keys=() ids=() tokens=()
for n in a b c d e; do
  new_user "standby-$n"
  post "/api/concerts/$c/queue" '' -H "$(bearer "$NEW_KEY")"
  [ "$STATUS" = 201 ] || { fail "user $n joins"; diag_answer; finish; }
  keys+=("$NEW_KEY") ids+=("$NEW_ID") tokens+=("$(jv .token)")
done
A=0 B=1 C=2 D=3 E=4
is "$(on "$primary" "SELECT string_agg(status, ' ' ORDER BY id) FROM ticket.queue_tokens WHERE concert_id = $c")" \
  "ACTIVE WAITING WAITING WAITING WAITING" "concert $c on partition $p: one ACTIVE, four WAITING"

# The standby has replayed everything the primary has written so far.
# shellcheck disable=SC2317 # called by check
replayed() {
  local lsn; lsn=$(on "$primary" 'SELECT pg_current_wal_lsn()')
  poll_until 10 answers "$standby" "SELECT pg_last_wal_replay_lsn() >= '$lsn'" t
}
# ... and received it, though its replay may be paused.
# shellcheck disable=SC2317 # called by check
received() {
  local lsn; lsn=$(on "$primary" 'SELECT pg_current_wal_lsn()')
  poll_until 10 answers "$standby" "SELECT pg_last_wal_receive_lsn() >= '$lsn'" t
}
# The primary's own answers, asked directly as the proxy would.
primary_map() {
  as_proxy "$primary" "SELECT body FROM peer.seat_map(${ids[$1]}, '${keys[$1]}', '${tokens[$1]}', $c, '$day')"
}
primary_poll() { as_proxy "$primary" "SELECT json_build_object('body', body, 'retry_after', retry_after) FROM api.queue_status('${tokens[$1]}')"; }
seat_map() { req GET "/api/concerts/$c/dates/$day/seats" -H "$(bearer "${keys[$1]}")" -H "$(qtoken "${tokens[$1]}")"; }
poll() { req GET /api/queue -H "$(qtoken "${tokens[$1]}")"; }

# ---- the same answers as the primary's
check "$standby has replayed its primary" replayed
seat_map $A
expect 200 "A's seat map: 200, four seats AVAILABLE" '[.seats[].status] == ["AVAILABLE", "AVAILABLE", "AVAILABLE", "AVAILABLE"]'
is "$(jq -S . <<<"$BODY")" "$(primary_map $A | jq -S .)" "A's seat map: the primary's body, exactly"
poll $D
expect 200 "D's poll: 200 WAITING at position 3" '.status == "WAITING"' '.position == 3'
is "$(jq -Sc --argjson ra "$(header Retry-After)" '{body: ., retry_after: $ra}' <<<"$BODY")" \
  "$(primary_poll $D | jq -Sc .)" "D's poll: the primary's body and Retry-After, exactly"

# ---- replay paused: the primary moves on, the standby does not
on "$standby" 'SELECT pg_wal_replay_pause()' >/dev/null
post /api/reservations "{\"concert_id\": $c, \"date\": \"$day\", \"seat_nos\": [1]}" \
  -H "$(bearer "${keys[A]}")" -H "$(qtoken "${tokens[A]}")"
expect 201 "replay paused: A holds seat 1 on the primary" '.status == "HELD"'
req DELETE /api/queue -H "$(qtoken "${tokens[C]}")"
is "$STATUS" 204 "C, ahead of D and E, leaves the line on the primary"
check "$standby has received that (its replay paused)" received

# Within the bound: the standby's answers, as the primary's were a moment ago.
seat_map $A
expect 200 "within the bound, A's seat map is the standby's: seat 1 still AVAILABLE" '.seats[0].status == "AVAILABLE"'
is "$(primary_map $A | jq -r '.seats[0].status')" HELD \
  "... where the primary's has it HELD (a hold of it from that map is refused, 409)"
poll $E
expect 200 "within the bound, E's poll is the standby's: position 4, from before C left" \
  '.status == "WAITING"' '.position == 4'
is "$(primary_poll $E | jq -r .body.position)" 3 "... where the primary's is 3"

# Past the bound: the lag only grows while replay is paused with WAL waiting, so a
# bound under today's is passed for good.
half=$(on "$standby" "SELECT floor(extract(epoch FROM ticket.standby_lag()) * 500)::int")
check "the paused standby's lag ($half ms x 2) is measurable" test "$half" -ge 1
bound "${half}ms"
is "$(on "$standby" "SELECT ticket.standby_lag() > interval '${half}ms'")" t "the bound lowered to ${half} ms: the lag is past it"
seat_map $A
expect 200 "past the bound, A's seat map is the primary's: seat 1 HELD" '.seats[0].status == "HELD"'
poll $E
expect 200 "past the bound, E's poll is the primary's: position 3" '.status == "WAITING"' '.position == 3'
bound 1min
poll $E
expect 200 "the bound raised over the lag again: the standby's position 4 again" '.position == 4'

# ---- an ACTIVE token, and one near the front: the primary's, whatever the bound
req DELETE /api/queue -H "$(qtoken "${tokens[A]}")"
is "$STATUS" 204 "A leaves on the primary, which admits B"
is "$(on "$standby" "SELECT string_agg(status, ' ' ORDER BY id) FROM ticket.queue_tokens WHERE concert_id = $c")" \
  "ACTIVE WAITING WAITING WAITING WAITING" "the paused standby still has A ACTIVE and B WAITING at 1"
poll $A
expect 200 "A's poll (ACTIVE on the standby) is the primary's: LEFT" '.status == "LEFT"'
poll $B
expect 200 "B's poll (position 1 on the standby) is the primary's: ACTIVE" '.status == "ACTIVE"'

on "$standby" 'SELECT pg_wal_replay_resume()' >/dev/null
check "replay resumed: $standby catches up" replayed

# ---- an idle primary, the default bound: the standby still answers
# B is ACTIVE, D and E wait at 1 and 2; F and G join at 3 and 4, G past twice max_active.
for n in f g; do
  new_user "standby-$n"
  post "/api/concerts/$c/queue" '' -H "$(bearer "$NEW_KEY")"
  [ "$STATUS" = 201 ] || { fail "user $n joins"; diag_answer; finish; }
  keys+=("$NEW_KEY") ids+=("$NEW_ID") tokens+=("$(jv .token)")
done
G=6
check "$standby has replayed F and G joining" replayed
# With nothing to stream, the primary sends a keepalive once its standby has not
# replied for half wal_sender_timeout; at PostgreSQL's 60 s the standby heard from it
# about every 10 s, could not show a lag under the bound, and every poll went to the
# primary. Looked at over 3 s or more from the last write (the joins), the lag then
# passed 2 s, and so the polls after went to the primary.
is "$(on "$primary" 'SHOW wal_sender_timeout')" 1s "$primary sends keepalives after 0.5 s of silence (wal_sender_timeout 1 s)"
bound 2s
lags=$(for _ in $(seq 60); do on "$standby" "SELECT extract(epoch FROM ticket.standby_lag())"; sleep 0.05; done)
worst=$(sort -g <<<"$lags" | tail -n 1)
check "60 looks at $standby over 3 s or more: its lag stays under the default 2 s bound (worst ${worst} s)" \
  awk -v w="$worst" 'BEGIN { exit !(w != "" && w < 2) }'
# Which node answered: the standby counts the calls of its functions (track_functions),
# and publishes a backend's counts within a few seconds of its last call.
on "$standby" "ALTER SYSTEM SET track_functions = 'pl'" >/dev/null
on "$standby" 'SELECT pg_reload_conf()' >/dev/null
CALLS="SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions
       WHERE schemaname = 'peer' AND funcname = 'standby_queue_status'"
# shellcheck disable=SC2317 # called by check
served_since() { poll_until 15 answers "$standby" "SELECT ($CALLS) >= $1 + $2" t; }
before=$(on "$standby" "$CALLS")
for _ in 1 2 3; do
  poll $G
  expect 200 "G's poll at position 4, the primary idle: 200 WAITING" '.status == "WAITING"' '.position == 4'
done
check "all three were answered by $standby" served_since "$before" 3

diag "the whole run took $(($(date +%s) - started)) s"
finish
