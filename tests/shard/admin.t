#!/usr/bin/env bash
# The DBAs' admin.* on the proxy of the sharded topology (docs/scale.md, "Operators
# on the proxy"), in psql as on one database: the same signatures as a partition's;
# each call about one concert, made on the proxy for a concert of each partition,
# answers what that partition answers (the same rows, the same error for an unknown
# concert) and changes that partition; the reports merge every concert partition in
# concert id order; the recorded violations of both clusters come in the order they
# were found; the books add up the partitions' parts after charges and payments made
# through the proxy's api.* as the programs' role, with difference 0, and show a
# wallet changed behind the ledger's back.
set -euo pipefail
SHARD=${TICKET_VAR:?run through tests/harness (make test)}/shard-admin
NODE_PORT=${SHARD_TEST_PGPORT:-55471} BOUNCER_PORT=${SHARD_TEST_BOUNCER_PORT:-18411}
# (no HTTP here: psql is the DBAs' interface)
# shellcheck source=tests/shard/lib.sh
. "$(dirname "$0")/lib.sh"
# answer NODE SQL: its rows, or its error as psql shows it: ERROR (with the SQLSTATE),
# DETAIL and HINT lines; not where it was raised, which differs on the proxy.
answer() {
  local out
  out=$("$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$(topology url "$1")" -c "$2" 2>&1) || :
  if grep -q '^ERROR:' <<<"$out"; then grep -E '^(ERROR|DETAIL|HINT):' <<<"$out"; else echo "$out"; fi
}
# web SQL: one value per line, as the programs' role on the proxy.
web() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$web_url" -c "$1"; }
# part ID: the concert partition of a concert (or reservation) id.
part() { echo "concerts-$(($1 % 2))"; }

started=$(date +%s)
if topology up >"$WORK/up.log" 2>&1; then pass "topology up ($(($(date +%s) - started)) s)"
else fail "topology up"; diag "$(tail -n 20 "$WORK/up.log")"; finish; fi
web_url=$(topology url proxy) web_url=${web_url/user=ticket_owner/user=ticket_web}
# The partitions' minute jobs (tick, invariants) would change what the proxy and a
# partition are asked about between the two questions.
for n in concerts-0 concerts-1 users-0 users-1; do
  on "$n" "SELECT cron.alter_job(jobid, active => false) FROM cron.job" >/dev/null
done

# ---- the same functions
routed="'add_date', 'schedule_sale', 'open_sale', 'set_queue', 'set_holds', 'set_refunds', 'tick_concert',
        'sales_report', 'queue_report', 'concert_ids', 'violations', 'books'"
signatures="SELECT p.proname || '(' || pg_get_function_arguments(p.oid) || ') ' ||
              CASE WHEN p.proname = 'violations' THEN '' ELSE pg_get_function_result(p.oid) END
            FROM pg_proc p WHERE p.pronamespace = 'admin'::regnamespace AND p.proname IN ($routed) ORDER BY 1"
got=$(on proxy "$signatures")
is "$(wc -l <<<"$got")" 12 "the proxy has the twelve routed admin functions"
is "$got" "$(on concerts-0 "$signatures")" "... with a partition's arguments, defaults and results"
is "$(on proxy "SELECT pg_get_function_result('admin.violations'::regproc)")" \
  "TABLE($(on concerts-0 "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
                          FROM pg_attribute WHERE attrelid = 'ticket.invariant_violations'::regclass
                            AND attnum > 0 AND NOT attisdropped"))" \
  "admin.violations: the columns of a partition's ticket.invariant_violations"
got=$("$PSQL" -X -A -t -d "$web_url" -c "SELECT admin.books()" 2>&1) || :
is "${got%%$'\n'*}" "ERROR:  permission denied for schema admin" "the programs' role cannot call them"

# ---- one concert, on its partition
c1=$(on proxy "SELECT admin.create_concert('Admin one', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 3,
                                           p_sale_opens_at => now() + interval '1 day')")
c2=$(on proxy "SELECT admin.create_concert('Admin two', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 3,
                                           p_sale_opens_at => now() + interval '1 day')")
is "$(part "$c1") $(part "$c2")" "concerts-$((c1 % 2)) concerts-$((1 - c1 % 2))" \
  "two concerts, one on each concert partition ($c1, $c2)"
declare -A day
for c in "$c1" "$c2"; do
  p=$(part "$c") who="concert $c ($(part "$c"))"
  d=$(on proxy "SELECT admin.add_date($c, now() + interval '14 days', 4, ARRAY[9000, 5000])")
  is "$(on "$p" "SELECT d.concert_id || ' ' || count(*) || ' ' || sum(s.price) FROM ticket.concert_dates d
                 JOIN ticket.seats s ON s.date_id = d.id WHERE d.id = $d GROUP BY d.concert_id")" "$c 4 28000" \
    "$who: add_date made date $d, its 4 seats and 2 price tiers, on the concert's partition"
  day[$c]=$(on "$p" "SELECT on_date FROM ticket.concert_dates WHERE id = $d")

  sql="SELECT s::text FROM admin.schedule_sale($c, '2030-01-02 03:04:05+00', 30) s"
  got=$(answer proxy "$sql")
  check "$who: schedule_sale answers its row with the seed's commitment" \
    grep -Eq "^\($c,\"[^\"]+\",\"[^\"]+\",[0-9a-f]{64}\)$" <<<"$got"
  is "$(answer "$p" "$sql")" "$got" "$who: ... the partition's row, the sale moved there"
  is "$(answer proxy "SELECT admin.open_sale($c)")" f "$who: open_sale before the sale is due: false"
  on proxy "SELECT admin.schedule_sale($c, now() - interval '1 minute')" >/dev/null
  is "$(answer proxy "SELECT admin.open_sale($c)")|$(answer "$p" "SELECT admin.open_sale($c)")" "t|f" \
    "$who: open_sale once due: true on the proxy, then false on the partition, opened there"
  sql="SELECT admin.schedule_sale($c, now() + interval '1 day')"
  got=$(answer proxy "$sql")
  is "$got" "ERROR:  T400A: concert $c is on sale already: its line cannot be reordered" \
    "$who: schedule_sale once on sale: the partition's T400A"
  is "$(answer "$p" "$sql")" "$got" "$who: ... word for word"

  is "$(answer proxy "SELECT admin.set_queue($c, 7, 3, 90)")|$(answer "$p" "SELECT admin.set_queue($c)")" "0|0" \
    "$who: set_queue answers how many it admitted, as the partition"
  on proxy "SELECT admin.set_holds($c, 9, 2), admin.set_refunds($c, 48, 15)" >/dev/null
  is "$(on "$p" "SELECT max_active, active_minutes, idle_seconds, hold_minutes, max_seats_per_user,
                        refund_hours_before, refund_fee_percent FROM ticket.concerts WHERE id = $c")" \
    "7|3|90|9|2|48|15" "$who: set_queue, set_holds and set_refunds changed the concert on its partition"
  sql="SELECT t::text FROM admin.tick_concert($c) t"
  is "$(answer proxy "$sql")|$(answer "$p" "$sql")" "(0,0,0,0,f)|(0,0,0,0,f)" \
    "$who: tick_concert with nothing to do, as the partition"
done

# An unknown concert: each partition's own answer, whichever partition its id names.
for id in 999998 999999; do
  for sql in "admin.add_date($id, now() + interval '1 day')" "admin.schedule_sale($id, now() + interval '1 day')" \
             "admin.open_sale($id)" "admin.set_queue($id, 5)" "admin.set_holds($id, 5)" "admin.set_refunds($id, 5)" \
             "admin.tick_concert($id)"; do
    got=$(answer proxy "SELECT $sql") want=$(answer "$(part "$id")" "SELECT $sql")
    [ -n "$want" ] || want="(no answer from $(part "$id"))"
    is "$got" "$want" "unknown concert: $sql on the proxy answers as on $(part "$id")"
  done
done
is "$(answer proxy "SELECT admin.set_queue(999999)")" "ERROR:  T404A: concert 999999 not found" \
  "... e.g. set_queue: T404A concert 999999 not found"

# ---- money through the proxy's api.*, as the programs
keys=() ids=()
for n in 1 2; do
  IFS='|' read -r id key < <(web "SELECT (r).body->>'user_id', (r).body->>'api_key' FROM api.create_user('admin-$n') r")
  ids+=("$id") keys+=("$key")
  web "SELECT (api.charge_wallet('$key', 200000, 'charge-$n')).status" >/dev/null
done
is "$(( (ids[0] + ids[1]) % 2 ))" 1 "two users, one on each user partition (${ids[*]})"
# User i buys seat 1 at concert i; the other user holds seat 2 there.
declare -A held
for i in 0 1; do
  c=$(( i == 0 ? c1 : c2 ))
  for j in "$i" $((1 - i)); do
    key=${keys[j]} seat=$(( j == i ? 1 : 2 ))
    tok=$(web "SELECT (api.issue_token('$key', $c)).body->>'token'")
    IFS='|' read -r st rid < <(web "SELECT (r).status, (r).body->>'reservation_id'
                                    FROM api.hold_seat('$key', '$tok', $c, '${day[$c]}', ARRAY[$seat]) r")
    [ "$st" = 201 ] || diag "user ${ids[j]} holding seat $seat at concert $c: $st"
    if [ "$j" = "$i" ]; then
      is "$(web "SELECT (r).status || ' ' || ((r).body->>'status') FROM api.pay_reservation('$key', '$tok', $rid, 'pay-$c') r")" \
        "201 CONFIRMED" "user ${ids[j]} pays 9000 won for seat 1 at concert $c through the proxy's saga"
    else
      held[$c]=$rid
    fi
  done
done

# ---- the reports, merged
for f in sales_report queue_report; do
  is "$(on proxy "SELECT r::text FROM admin.$f() r")" \
    "$({ on concerts-0 "SELECT r.concert_id, r::text FROM admin.$f() r"
         on concerts-1 "SELECT r.concert_id, r::text FROM admin.$f() r"; } | sort -s -t'|' -k1,1n | cut -d'|' -f2-)" \
    "$f(): every concert partition's rows, in concert id order"
  for c in "$c1" "$c2"; do
    is "$(on proxy "SELECT r::text FROM admin.$f($c) r")" "$(on "$(part "$c")" "SELECT r::text FROM admin.$f($c) r")" \
      "$f($c): its partition's rows"
  done
  is "$(on proxy "SELECT count(*) FROM admin.$f(999999)")" 0 "$f of an unknown concert: no rows, as on one database"
done
is "$(on proxy "SELECT concert_id, on_date, seats, sold, held, available, revenue FROM admin.sales_report()
                WHERE seats = 4 ORDER BY concert_id")" \
  "$c1|${day[$c1]}|4|1|1|2|9000
$c2|${day[$c2]}|4|1|1|2|9000" "sales_report(): each concert's added date, one seat sold and one held"
is "$(on proxy "SELECT string_agg(concert_id::text, ' ') FROM admin.queue_report()")" "$c1 $c2" \
  "queue_report(): both concerts"
is "$(on proxy "SELECT string_agg(i::text, ' ') FROM admin.concert_ids() i")" \
  "$({ on concerts-0 "SELECT admin.concert_ids()"; on concerts-1 "SELECT admin.concert_ids()"; } | sort -n | paste -sd' ')" \
  "concert_ids(): every partition's, in order"

# ---- the tick of one concert, with a hold run out (its clock moved back by hand)
c=$c2 rid=${held[$c2]}
on "$(part "$c")" "UPDATE ticket.reservations SET expires_at = now() WHERE id = $rid;
                   UPDATE ticket.seats SET held_until = now() WHERE reservation_id = $rid;
                   UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim), now()) WHERE reservation_id = $rid" >/dev/null
is "$(on proxy "SELECT t::text FROM admin.tick_concert($c) t")|$(on "$(part "$c")" "SELECT status FROM ticket.reservations WHERE id = $rid")" \
  "(1,0,0,0,f)|EXPIRED" "tick_concert($c) on the proxy expired the run-out hold on its partition"

# ---- violations recorded on each node, in the order they were found
on concerts-0 "INSERT INTO ticket.invariant_violations (checked_at, invariant, detail)
               VALUES (now() - interval '3 hours', 'first', 'on concerts-0')" >/dev/null
on users-1 "INSERT INTO ticket.invariant_violations (checked_at, invariant, detail)
            VALUES (now() - interval '2 hours', 'second', 'on users-1')" >/dev/null
on concerts-1 "INSERT INTO ticket.invariant_violations (checked_at, invariant, detail)
               VALUES (now() - interval '1 hour', 'third', 'on concerts-1'),
                      (now() - interval '2 days', 'too old', 'on concerts-1')" >/dev/null
is "$(on proxy "SELECT invariant || ' ' || detail FROM admin.violations()")" "first on concerts-0
second on users-1
third on concerts-1" "violations(): the last day's of every node, both clusters, oldest first"
is "$(on proxy "SELECT invariant FROM admin.violations(now() - interval '90 minutes')")" third \
  "violations(p_since): only those since"
is "$(on proxy "SELECT string_agg(v::text, ',') FROM admin.violations(now() - interval '3 days') v WHERE invariant = 'too old'")" \
  "$(on concerts-1 "SELECT v::text FROM admin.violations(now() - interval '3 days') v WHERE invariant = 'too old'")" \
  "violations(): a partition's rows as it answers them"

# ---- the books across both sides
is "$(on proxy "SELECT b::text FROM admin.books() b")" "(400000,18000,0,0,382000,0)" \
  "books(): 400000 charged, 18000 paid on the users' ledgers, 382000 in wallets: difference 0"
is "$(on proxy "SELECT charged || ' ' || paid || ' ' || balances FROM admin.books()")" \
  "$({ on users-0 "SELECT charged, paid, balances FROM admin.books()"
       on users-1 "SELECT charged, paid, balances FROM admin.books()"; } |
     awk -F'|' '{ c += $1; p += $2; b += $3 } END { print c, p, b }')" \
  "books(): the sums of the user partitions' books"
is "$(on concerts-0 "SELECT sum(amount) FROM ticket.payments")+$(on concerts-1 "SELECT sum(amount) FROM ticket.payments")" \
  "9000+9000" "... whose payments are those on the concert partitions"
on users-1 "UPDATE ticket.wallets SET balance = balance + 123 WHERE user_id = (SELECT min(user_id) FROM ticket.wallets)" >/dev/null
is "$(on proxy "SELECT balances || ' ' || difference FROM admin.books()")" "382123 -123" \
  "books(): a wallet raised by 123 behind its ledger's back on users-1 shows as difference -123"

diag "the whole run took $(($(date +%s) - started)) s"
finish
