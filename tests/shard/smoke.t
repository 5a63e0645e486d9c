#!/usr/bin/env bash
# The sharded topology (scripts/topology.sh, docs/scale.md), briefly, over real
# HTTP through lighttpd, the FastCGI programs and the PL/Proxy database: its
# nodes come up and `make -s nodes` lists them with their roles; users made in
# turn land on both user partitions, and each one's wallet charges and reads
# there; concerts made on the proxy land on both concert partitions, list in id
# order and read one by one; a user of each user partition buys at a concert of
# each concert partition (a refused payment, then a paid one, through the
# proxy's saga; one cut off after its debit, finished by a retry with its
# Idempotency-Key), refunds go through the refund's saga (one cut off after its
# first step, credited by recovery and then answered to a retry with its key; a
# DBA's), and the proxy's invariants hold
# across them; errors answer as on one database (401 with its
# hint, 404, 422 with its details); a stopped user node answers 503
# DATABASE_UNAVAILABLE while the other one serves, and the same programs serve
# it again once it is back; the standbys replay their primaries.
set -euo pipefail
SHARD=${TICKET_VAR:?run through tests/harness (make test)}/shard
NODE_PORT=${SHARD_TEST_PGPORT:-55461} BOUNCER_PORT=${SHARD_TEST_BOUNCER_PORT:-18401}
HTTP_PORT=${SHARD_TEST_HTTP_PORT:-18400}
# shellcheck source=tests/shard/lib.sh
. "$(dirname "$0")/lib.sh"

# ---- the nodes
started=$(date +%s)
if topology up >"$WORK/up.log" 2>&1; then pass "topology up: every node started and migrated ($(($(date +%s) - started)) s)"
else fail "topology up"; diag "$(tail -n 20 "$WORK/up.log")"; finish; fi

nodes=$(make -s -C "$TICKET_ROOT" nodes VAR="$SHARD" TOPOLOGY_PGPORT="$NODE_PORT" TOPOLOGY_BOUNCER_PORT="$BOUNCER_PORT")
is "$(awk '{ print $1, $2, $3 }' <<<"$nodes")" "proxy proxy -
concerts-0 primary concerts/0
concerts-1 primary concerts/1
users-0 primary users/0
users-1 primary users/1
concerts-0-standby standby concerts/0
concerts-1-standby standby concerts/1" "make -s nodes: one line per node with its role and partition"
bad=
while read -r name role _ url; do
  want=f; [ "$role" != standby ] || want=t
  got=$("$PSQL" -X -A -t -d "$url" -c 'SELECT pg_is_in_recovery()' 2>&1) || got="no answer: $got"
  [ "$got" = "$want" ] || bad+="$name: pg_is_in_recovery() $got, want $want; "
done <<<"$nodes"
is "$bad" "" "make -s nodes: each URL reaches its node, and only the standbys are in recovery"

web_url=$(topology url proxy) web_url=${web_url/user=ticket_owner/user=ticket_web}
got=$("$PSQL" -X -A -t -d "$web_url" -c "SELECT admin.create_concert('x', 'y', ARRAY[now()])" 2>&1) || :
is "${got%%$'\n'*}" "ERROR:  permission denied for schema admin" "the programs' role cannot create a concert on the proxy"
got=$("$PSQL" -X -A -t -d "$web_url" -c "SELECT route.create_concert(0, 'x', 'y', ARRAY[now()], 1, ARRAY[1::bigint], 5, 1, 1, 1, 1, NULL, 1)" 2>&1) || :
is "${got%%$'\n'*}" "ERROR:  permission denied for schema route" "... nor call its routed call, nor any (they take a user id on trust)"

start_service fastcgi "$HTTP_PORT"
req GET /api/health
expect 200 "health through the proxy: every partition answers" '.status == "ok"'

# ---- users, on both user partitions in turn
keys=() ids=()
for n in 1 2 3 4; do
  new_user "shard-$n"
  keys+=("$NEW_KEY") ids+=("$NEW_ID")
done
is "$(printf '%s\n' "${ids[@]}" | awk '{ print $1 % 2 }' | sort | uniq -c | awk '{ print $1 }' | paste -sd' ')" "2 2" \
  "four users made in turn: two ids of each partition's slots"
is "$(on users-0 'SELECT count(*) FROM ticket.users WHERE id % 2 = 0'):$(on users-0 'SELECT count(*) FROM ticket.users')" "2:2" \
  "users-0 holds the two users of even ids, and only them"
is "$(on users-1 'SELECT count(*) FROM ticket.users WHERE id % 2 = 1'):$(on users-1 'SELECT count(*) FROM ticket.users')" "2:2" \
  "users-1 holds the two users of odd ids, and only them"
check "the keys name their users (tk_<user id>.<secret>)" test "${keys[0]%%.*}" = "tk_${ids[0]}"

for i in 0 1; do
  post /api/wallet/charge '{"amount": 7000}' -H "$(bearer "${keys[i]}")" -H "Idempotency-Key: shard-$i"
  expect 200 "user ${ids[i]} (partition $((ids[i] % 2))): a charge answers the balance" '.balance == 7000'
  tx=$(jv .transaction_id)
  post /api/wallet/charge '{"amount": 7000}' -H "$(bearer "${keys[i]}")" -H "Idempotency-Key: shard-$i"
  expect 200 "user ${ids[i]}: the same Idempotency-Key replays the first answer" \
    ".balance == 7000 and .transaction_id == $tx"
  req GET /api/wallet -H "$(bearer "${keys[i]}")"
  expect 200 "user ${ids[i]}: the wallet reads the balance" '.balance == 7000'
  req GET '/api/wallet/transactions?limit=5' -H "$(bearer "${keys[i]}")"
  expect 200 "user ${ids[i]}: the ledger has the one charge" \
    '.transactions | length == 1 and .[0].type == "CHARGE" and .[0].amount == 7000'
done

# ---- concerts, on both concert partitions
c1=$(on proxy "SELECT admin.create_concert('Shard one', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 3)")
c2=$(on proxy "SELECT admin.create_concert('Shard two', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 3)")
is "$(( (c1 + c2) % 2 ))" 1 "two concerts made on the proxy: one id of each partition's slots ($c1, $c2)"
is "$(on "concerts-$((c1 % 2))" "SELECT title FROM ticket.concerts WHERE id = $c1")" "Shard one" \
  "concert $c1 is on the partition its id names"
req GET /api/concerts
expect 200 "list: the concerts of both partitions, in id order, in the one list of one database" \
  "(.concerts | map(.id)) == ([$c1, $c2] | sort)" \
  '.concerts | all(has("id", "title", "venue", "status", "queue"))'
for c in "$c1" "$c2"; do
  req GET "/api/concerts/$c"
  expect 200 "get concert $c from its partition" ".id == $c and .status == \"ON_SALE\""
done

# ---- a sale on each concert partition, by a user of each user partition
# The key is checked on the user's partition, the call runs on the concert's; the
# payment is the saga of the proxy (docs/scale.md): reserve, debit, confirm.
for i in 0 1; do
  c=$(( i == 0 ? c1 : c2 )) key=${keys[i]} uid=${ids[i]}
  who="user $uid (users-$((uid % 2))) at concert $c (concerts-$((c % 2)))"
  req POST "/api/concerts/$c/queue" -d '' -H "$(bearer "$key")"
  expect 201 "$who: joins, admitted at once" '.status == "ACTIVE"' "(.token | startswith(\"qt_$c.\"))"
  tok=$(jv .token)
  req GET /api/queue -H "$(qtoken "$tok")"
  expect 200 "$who: the token's poll, routed by the concert it names" '.status == "ACTIVE"'
  req GET "/api/concerts/$c/dates" -H "$(bearer "$key")" -H "$(qtoken "$tok")"
  expect 200 "$who: the dates, past the queue gate with a key of another server" '.dates | length == 1'
  day=$(jv '.dates[0].date')
  req GET "/api/concerts/$c/dates/$day/seats" -H "$(bearer "$key")" -H "$(qtoken "$tok")"
  expect 200 "$who: the seat map" '.seats | length == 3 and all(.status == "AVAILABLE")'
  req GET "/api/concerts/$c/dates" -H "$(bearer "${keys[1 - i]}")" -H "$(qtoken "$tok")"
  expect_error 403 QUEUE_TOKEN_MISMATCH "$who: another user's key with this token: 403, as on one database"
  post /api/reservations "{\"concert_id\": $c, \"date\": \"$day\", \"seat_nos\": [1]}" \
    -H "$(bearer "$key")" -H "$(qtoken "$tok")"
  expect 201 "$who: holds seat 1" '.status == "HELD" and .amount == 150000'
  rid=$(jv .reservation_id)
  is "$(( rid % 2 ))" "$(( c % 2 ))" "$who: the reservation's id is of its concert's slots"
  post "/api/reservations/$rid/payment" '{}' -H "$(bearer "$key")" -H "$(qtoken "$tok")" -H "Idempotency-Key: pay-$i"
  expect_error 402 INSUFFICIENT_BALANCE "$who: 7000 won cannot pay 150000: 402 with the details of one database" \
    '.error.details == {"balance": 7000, "amount": 150000}'
  req GET "/api/reservations/$rid" -H "$(bearer "$key")" -H "$(qtoken "$tok")"
  expect 200 "$who: the refused payment released the hold as it was" '.status == "HELD"'
  post /api/wallet/charge '{"amount": 150000}' -H "$(bearer "$key")"
  post "/api/reservations/$rid/payment" '{}' -H "$(bearer "$key")" -H "$(qtoken "$tok")" -H "Idempotency-Key: pay-$i"
  expect 201 "$who: pays once charged (the same Idempotency-Key: the refusal was not kept)" \
    ".status == \"CONFIRMED\" and .amount == 150000 and .balance == 7000 and .reservation_id == $rid"
  paid=$BODY
  post "/api/reservations/$rid/payment" '{}' -H "$(bearer "$key")" -H "$(qtoken "$tok")" -H "Idempotency-Key: pay-$i"
  is "$STATUS $BODY" "201 $paid" "$who: the Idempotency-Key replays the payment"
  req GET /api/queue -H "$(qtoken "$tok")"
  expect 200 "$who: paying ended the turn" '.status == "DONE"'
  is "$(on "concerts-$((c % 2))" "SELECT r.status || ' ' || p.amount || ' ' || s.sold FROM ticket.reservations r
        JOIN ticket.payments p ON p.reservation_id = r.id JOIN ticket.seats s ON s.reservation_id = r.id WHERE r.id = $rid"):$(
      on "users-$((uid % 2))" "SELECT string_agg(outcome || ' ' || amount, ',') FROM ticket.debits WHERE reservation_id = $rid")" \
    "CONFIRMED 150000 true:REFUSED 150000,DEBITED 150000" \
    "$who: seat sold and payment on the concert's partition; a refused and a debited debit on the user's"
done
# ---- a payment cut off after its debit (the proxy went away): its steps by hand up
# to the debit, as the proxy runs them; a retry with its Idempotency-Key only sells.
key=${keys[2]} uid=${ids[2]} who="user ${ids[2]} at concert $c1"
req POST "/api/concerts/$c1/queue" -d '' -H "$(bearer "$key")"
tok=$(jv .token)
post /api/wallet/charge '{"amount": 150000}' -H "$(bearer "$key")"
post /api/reservations "{\"concert_id\": $c1, \"date\": \"$(on "concerts-$((c1 % 2))" "SELECT on_date FROM ticket.concert_dates WHERE concert_id = $c1")\", \"seat_nos\": [2]}" \
  -H "$(bearer "$key")" -H "$(qtoken "$tok")"
expect 201 "$who: holds seat 2" '.status == "HELD"'
rid=$(jv .reservation_id)
proxy_url=$(topology url "concerts-$((c1 % 2))") proxy_url=${proxy_url/user=ticket_owner/user=ticket_proxy}
on proxy "SELECT route.pay_begin(route.user_slot('$key'), '$key', 'cut-1', $rid)" >/dev/null
amount=$("$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$proxy_url" -c "SELECT peer.pay_reserve($uid, '$key', '$tok', $rid, 'cut-ref-1')")
is "$amount:$(on proxy "SELECT outcome || ' ' || balance FROM route.debit(route.user_slot('$key'), $uid, 'cut-ref-1', $rid, $amount)")" \
  "110000:DEBITED 40000" "$who: reserved (seat 2, 110000 won) and debited, then cut off: its Idempotency-Key's claim has no answer"
post "/api/reservations/$rid/payment" '{}' -H "$(bearer "$key")" -H "$(qtoken "$tok")" -H "Idempotency-Key: cut-1"
expect 201 "$who: the retry with the key finishes the sale instead of answering IDEMPOTENCY_IN_PROGRESS" \
  ".status == \"CONFIRMED\" and .amount == 110000 and .balance == 40000 and .reservation_id == $rid"
paid=$BODY
post "/api/reservations/$rid/payment" '{}' -H "$(bearer "$key")" -H "$(qtoken "$tok")" -H "Idempotency-Key: cut-1"
is "$STATUS $BODY" "201 $paid" "$who: ... and the key replays that answer"
is "$(on "users-$((uid % 2))" "SELECT count(*) || ' ' || sum(amount) FROM ticket.debits WHERE reservation_id = $rid AND user_id = $uid")" \
  "1 110000" "$who: one debit, the cut-off payment's"
is "$(on proxy "SELECT string_agg(invariant || ': ' || detail, '; ') FROM admin.check_invariants()")" "" \
  "admin.check_invariants() on the proxy: every partition's, and every payment against its debit"
req GET /api/metrics
is "$STATUS $(grep -c '^ticket_payments_total 3$' <<<"$BODY") $(grep -c "^ticket_seats{concert_id=\"$c2\",status=\"SOLD\"} 1$" <<<"$BODY")" \
  "200 1 1" "metrics: both concert partitions' samples, summed (three payments) or each concert's from its partition (seats)"

# ---- refunds: the user's, through the proxy's saga; one cut off after its first step
# (the proxy went away), credited by recovery; a DBA's, in full.
post "/api/reservations/$rid/refund" '{}' -H "$(bearer "$key")" -H "Idempotency-Key: refund-1"
expect 200 "$who: refunds the cut-off payment's seat: 110000 less the 10 % fee, credited on the user's partition" \
  ".status == \"REFUNDED\" and .refund == 99000 and .fee == 11000 and .balance == 139000 and .reservation_id == $rid"
refunded=$BODY
post "/api/reservations/$rid/refund" '{}' -H "$(bearer "$key")" -H "Idempotency-Key: refund-1"
is "$STATUS $BODY" "200 $refunded" "$who: the refund's Idempotency-Key replays it"
post "/api/reservations/$rid/refund" '{}' -H "$(bearer "$key")"
expect_error 409 REFUND_NOT_ALLOWED "$who: a second refund: 409, as on one database"
req GET /api/wallet -H "$(bearer "$key")"
expect 200 "$who: the seat on sale again and the money back once" '.balance == 139000'
# User 1 bought seat 1 of concert $c1 above; its refund, with an Idempotency-Key, stops
# after step 1.
rid1=$(on "concerts-$((c1 % 2))" "SELECT id FROM ticket.reservations WHERE concert_id = $c1 AND user_id = ${ids[0]}")
is "$(on proxy "SELECT (replay).status IS NULL FROM route.refund_begin(route.user_slot('${keys[0]}'), '${keys[0]}', 'cut-refund', $rid1)")" \
  t "user ${ids[0]}'s refund claims its Idempotency-Key"
post "/api/reservations/$rid1/refund" '{}' -H "$(bearer "${keys[0]}")" -H "Idempotency-Key: cut-refund"
expect_error 409 IDEMPOTENCY_IN_PROGRESS "a retry before its first step: 409, the first may be running"
is "$(on proxy "SELECT amount || ' ' || fee FROM route.refund_reserve(route.slot($rid1), ${ids[0]}, $rid1, 'cut-refund-1', 'user', NULL, false)")" \
  "135000 15000" "the refund cut off after its first step: the seat is back, the credit pending"
is "$(on proxy "SELECT admin.recover_refunds('0 seconds')")" 1 "admin.recover_refunds() on the proxy credits it"
req GET /api/wallet -H "$(bearer "${keys[0]}")"
expect 200 "... once: user ${ids[0]}'s balance is 7000 + 135000" '.balance == 142000'
is "$(on proxy "SELECT admin.recover_refunds('0 seconds')")" 0 "... and has nothing left to do"
post "/api/reservations/$rid1/refund" '{}' -H "$(bearer "${keys[0]}")" -H "Idempotency-Key: cut-refund"
expect 200 "a retry with the key answers the refund, as the first would have, instead of IDEMPOTENCY_IN_PROGRESS" \
  ".status == \"REFUNDED\" and .refund == 135000 and .fee == 15000 and .balance == 142000 and .reservation_id == $rid1"
refunded=$BODY
post "/api/reservations/$rid1/refund" '{}' -H "$(bearer "${keys[0]}")" -H "Idempotency-Key: cut-refund"
is "$STATUS $BODY" "200 $refunded" "... and the key replays that answer"
is "$(on "users-$((ids[0] % 2))" "SELECT count(*) || ' ' || sum(amount) FROM ticket.ledger WHERE user_id = ${ids[0]} AND type = 'REFUND'")" \
  "1 135000" "... credited once"
rid2=$(on "concerts-$((c2 % 2))" "SELECT id FROM ticket.reservations WHERE concert_id = $c2 AND user_id = ${ids[1]}")
is "$(on proxy "SELECT admin.refund($rid2, 'show cancelled')::jsonb - 'reservation_id'")" \
  '{"fee": 0, "refund": 150000, "status": "REFUNDED", "balance": 157000}' "admin.refund on the proxy: a DBA's refund, in full"
is "$(on proxy "SELECT string_agg(invariant || ': ' || detail, '; ') FROM admin.check_invariants()")" "" \
  "admin.check_invariants() on the proxy after the refunds: every refund against its credit"

# ---- errors, as on one database
req GET /api/wallet -H "$(bearer tk_nobody)"
expect_error 401 UNAUTHENTICATED "a key of another shape: 401 UNAUTHENTICATED, decided on the proxy" \
  '.error.hint == "send Authorization: Bearer <api_key> from POST /api/users"'
req GET /api/wallet -H "$(bearer "${keys[1]%%.*}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")"
expect_error 401 UNAUTHENTICATED "a user's id with a wrong secret: the partition's 401, its message and hint unprefixed" \
  '.error.message == "missing or unknown API key"' \
  '.error.hint == "send Authorization: Bearer <api_key> from POST /api/users"'
req GET /api/concerts/999998
expect_error 404 NOT_FOUND "an unknown concert: 404 NOT_FOUND with the partition's message" \
  '.error.message == "concert 999998 not found"'
post /api/wallet/charge '{"amount": 5}' -H "$(bearer "${keys[0]}")" -H "Idempotency-Key: shard-0"
expect_error 422 IDEMPOTENCY_KEY_REUSED "an Idempotency-Key used for another amount: 422 with the partition's details" \
  '.error.details == {"first_request": "charge 7000"}'

# ---- a user node down, and back
odd=0; [ $((ids[0] % 2)) = 1 ] || odd=1   # the index of a user on users-1
even=$((1 - odd))
for i in "$odd" "$even"; do
  req GET /api/wallet -H "$(bearer "${keys[i]}")"
  balance[i]=$(jv .balance)
done
# The user of users-1 joins a third concert, admitted at once, before the node stops.
c3=$(on proxy "SELECT admin.create_concert('Shard three', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 3)")
req POST "/api/concerts/$c3/queue" -d '' -H "$(bearer "${keys[odd]}")"
expect 201 "user ${ids[odd]} joins concert $c3, admitted" '.status == "ACTIVE"'
tok3=$(jv .token)
VAR=$SHARD/nodes/users-1 PGPORT=$((NODE_PORT + 4)) "$TICKET_ROOT/scripts/cluster.sh" down
# A call with a queue token needs only the concert's partition: the token proves the key.
req GET "/api/concerts/$c3/dates" -H "$(bearer "${keys[odd]}")" -H "$(qtoken "$tok3")"
expect 200 "users-1 stopped: its admitted user's dates, the key proven by the token on the concert's partition" \
  '.dates | length == 1'
day3=$(jv '.dates[0].date')
req GET "/api/concerts/$c3/dates/$day3/seats" -H "$(bearer "${keys[odd]}")" -H "$(qtoken "$tok3")"
expect 200 "users-1 stopped: ... the seat map" '.seats | length == 3'
post /api/reservations "{\"concert_id\": $c3, \"date\": \"$day3\", \"seat_nos\": [3]}" \
  -H "$(bearer "${keys[odd]}")" -H "$(qtoken "$tok3")"
expect 201 "users-1 stopped: ... and a hold" '.status == "HELD"'
req GET "/api/concerts/$c3/dates" -H "$(bearer "${keys[odd]%.*}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")" -H "$(qtoken "$tok3")"
expect_error 503 DATABASE_UNAVAILABLE "users-1 stopped: a wrong key with that token is not proven, and its partition cannot say: 503"
req GET /api/wallet -H "$(bearer "${keys[odd]}")"
expect_error 503 DATABASE_UNAVAILABLE "users-1 stopped: its user's wallet is 503 DATABASE_UNAVAILABLE"
check "... with Retry-After" has_header Retry-After
req GET /api/wallet -H "$(bearer "${keys[even]}")"
expect 200 "users-1 stopped: a user of users-0 is served" ".balance == ${balance[even]}"
req GET /api/health
expect_error 503 DATABASE_UNAVAILABLE "users-1 stopped: health is 503"
VAR=$SHARD/nodes/users-1 PGPORT=$((NODE_PORT + 4)) "$TICKET_ROOT/scripts/cluster.sh" up >/dev/null 2>&1
# pgbouncer tries the node again a second after its last failed login.
for _ in $(seq 60); do
  req GET /api/wallet -H "$(bearer "${keys[odd]}")"
  [ "$STATUS" != 200 ] || break
  sleep 0.5
done
expect 200 "users-1 back: the same programs serve its user again, balance kept" ".balance == ${balance[odd]}"
req GET /api/health
expect 200 "users-1 back: health is 200"

# ---- recovery goes on past a concert node that is down: a payment cut off before its
# debit on one concert partition is released while the other partition is stopped.
# Its Idempotency-Key's claim is given up to a retry a minute on, which pays afresh.
key=${keys[3]} uid=${ids[3]} who="user ${ids[3]} at concert $c1"
req POST "/api/concerts/$c1/queue" -d '' -H "$(bearer "$key")"
tok=$(jv .token)
post /api/wallet/charge '{"amount": 150000}' -H "$(bearer "$key")"
post /api/reservations "{\"concert_id\": $c1, \"date\": \"$(on "concerts-$((c1 % 2))" "SELECT on_date FROM ticket.concert_dates WHERE concert_id = $c1")\", \"seat_nos\": [3]}" \
  -H "$(bearer "$key")" -H "$(qtoken "$tok")"
expect 201 "$who: holds seat 3" '.status == "HELD"'
rid=$(jv .reservation_id)
on proxy "SELECT route.pay_begin(route.user_slot('$key'), '$key', 'cut-2', $rid)" >/dev/null
on proxy "SET ROLE ticket_router; SELECT route.pay_reserve(route.slot($rid), $uid, '$key', '$tok', $rid, 'cut-ref-2')" >/dev/null
other=$(( 1 - c1 % 2 ))
VAR=$SHARD/nodes/concerts-$other PGPORT=$((NODE_PORT + 1 + other)) "$TICKET_ROOT/scripts/cluster.sh" down
is "$(on proxy "SELECT confirmed || ' ' || released || ' ' || failed FROM admin.recover_payments('0 seconds')" 2>/dev/null)" "0 1 1" \
  "concerts-$other stopped: recovery releases the payment cut off on concerts-$((c1 % 2)) and counts the partition it could not reach"
req GET "/api/reservations/$rid" -H "$(bearer "$key")" -H "$(qtoken "$tok")"
expect 200 "$who: the hold is HELD again, no money taken" '.status == "HELD"'
VAR=$SHARD/nodes/concerts-$other PGPORT=$((NODE_PORT + 1 + other)) "$TICKET_ROOT/scripts/cluster.sh" up >/dev/null 2>&1
post "/api/reservations/$rid/payment" '{}' -H "$(bearer "$key")" -H "$(qtoken "$tok")" -H "Idempotency-Key: cut-2"
expect_error 409 IDEMPOTENCY_IN_PROGRESS "$who: a retry with the key at once: 409, the first may still be running"
# age CLAIM: the claim of user $uid's Idempotency-Key CLAIM, made two minutes ago.
age() {
  on "users-$((uid % 2))" "UPDATE ticket.idempotency_keys SET created_at = created_at - interval '2 minutes'
                           WHERE user_id = $uid AND key = '$1' AND status IS NULL RETURNING key" >/dev/null
}
age cut-2
post "/api/reservations/$rid/payment" '{}' -H "$(bearer "$key")" -H "$(qtoken "$tok")" -H "Idempotency-Key: cut-2"
expect 201 "$who: a minute on, the retry with the key pays afresh" ".status == \"CONFIRMED\" and .reservation_id == $rid"
paid=$BODY
post "/api/reservations/$rid/payment" '{}' -H "$(bearer "$key")" -H "$(qtoken "$tok")" -H "Idempotency-Key: cut-2"
is "$STATUS $BODY" "201 $paid" "$who: ... and the key replays that answer"
is "$(on "users-$((uid % 2))" "SELECT string_agg(outcome, ' ' ORDER BY outcome) FROM ticket.debits WHERE reservation_id = $rid")" \
  "ABORTED DEBITED" "$who: the cut-off payment's reference ABORTED, the retry's DEBITED"
# A refund cut off before its first step: likewise.
on proxy "SELECT route.refund_begin(route.user_slot('$key'), '$key', 'cut-refund-2', $rid)" >/dev/null
post "/api/reservations/$rid/refund" '{}' -H "$(bearer "$key")" -H "Idempotency-Key: cut-refund-2"
expect_error 409 IDEMPOTENCY_IN_PROGRESS "$who: a refund's retry with the key at once, nothing refunded yet: 409"
age cut-refund-2
post "/api/reservations/$rid/refund" '{}' -H "$(bearer "$key")" -H "Idempotency-Key: cut-refund-2"
expect 200 "$who: a minute on, the refund's retry with the key refunds afresh" \
  ".status == \"REFUNDED\" and .reservation_id == $rid and .balance == 150000 - .fee"
# pgbouncer logs in to the restarted concerts-$other again a second after its last failure.
# shellcheck disable=SC2317 # called by check
invariants_hold() { [ "$(on proxy "SELECT count(*) FROM admin.check_invariants()" 2>/dev/null)" = 0 ]; }
check "admin.check_invariants() on the proxy after the retries" poll_until 15 invariants_hold

# ---- the standbys replay their primaries
for p in 0 1; do
  want=$(on "concerts-$p" 'SELECT count(*) FROM ticket.concerts') got=
  for _ in $(seq 100); do
    got=$(on "concerts-$p-standby" 'SELECT count(*) FROM ticket.concerts')
    [ "$got" != "$want" ] || break
    sleep 0.1
  done
  is "$got" "$want" "concerts-$p-standby has replayed the concerts of concerts-$p"
done

diag "the whole run took $(($(date +%s) - started)) s"
finish
