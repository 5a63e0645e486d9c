#!/usr/bin/env bash
# The whole journey over real HTTP, once through FastCGI and once through CGI
# (pgbouncer): two buyers on a concert that admits one at a time.  A signs up,
# charges (an Idempotency-Key replay moves no money; the same key for another
# amount is 422), joins and is admitted; B joins and waits (429 with
# Retry-After, position 1); A sees the dates and the 50 seats, holds one, B
# cannot see A's reservation, A pays (a replay answers the same 201 after the
# token is DONE), the ledger shows the payment, the paid reservation is
# readable with the key alone, and B is admitted on its next poll and sees
# the seat SOLD.
set -euo pipefail
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/lib.sh"

journey() {
  local mode=$1 port=$2 ua ka kb ta tb cid day rid seat price amount tx body pay
  start_service "$mode" "$port"
  diag "mode $mode on port $port"

  # ---- A signs up and charges
  post /api/users "{\"name\": \"alice-$mode\"}"
  expect 201 "$mode: POST /api/users is 201 with user_id, name and api_key" \
    ".name == \"alice-$mode\"" '.user_id != null' \
    '.api_key | type == "string" and length > 20' 'keys == ["api_key", "name", "user_id"]'
  ka=$(jv .api_key) ua=$(jv .user_id)

  post /api/wallet/charge '{"amount": 200000}' -H "$(bearer "$ka")" -H "Idempotency-Key: charge-$mode"
  expect 200 "$mode: charge with an Idempotency-Key is 200" \
    '.balance == 200000' '.transaction_id != null' 'keys == ["balance", "transaction_id"]'
  body=$BODY tx=$(jv .transaction_id)
  post /api/wallet/charge '{"amount": 200000}' -H "$(bearer "$ka")" -H "Idempotency-Key: charge-$mode"
  is "$STATUS $BODY" "200 $body" "$mode: the replay has the same status and body"
  req GET /api/wallet/transactions -H "$(bearer "$ka")"
  expect 200 "$mode: the ledger has one CHARGE row, not two" \
    '.transactions | length == 1' ".transactions[0].id == $tx" \
    '.transactions[0] | .type == "CHARGE" and .amount == 200000 and .balance_after == 200000
       and .reservation_id == null and (.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*([+-][0-9]{2}:[0-9]{2}|Z)$"))'
  is "$(sql_user "$ua" "SELECT count(*) FROM ticket.ledger
             WHERE user_id = (SELECT user_id FROM ticket.ledger WHERE id = $tx)")" 1 \
    "$mode: one ledger row in the database"
  post /api/wallet/charge '{"amount": 1000}' -H "$(bearer "$ka")" -H "Idempotency-Key: charge-$mode"
  expect_error 422 IDEMPOTENCY_KEY_REUSED "$mode: the same key for another amount is 422"
  req GET /api/wallet -H "$(bearer "$ka")"
  expect 200 "$mode: balance 200000 after the replay and the refusal" '. == {"balance": 200000}'

  # ---- the concert admits one at a time; A is admitted, B waits
  cid=$(new_concert 50 5 1 1)
  post "/api/concerts/$cid/queue" '' -H "$(bearer "$ka")"
  expect 201 "$mode: A joins the queue and is ACTIVE at once" \
    '.status == "ACTIVE"' ".concert_id == $cid" '.position == null' '.expires_at != null' \
    '.token | type == "string"'
  ta=$(jv .token)
  req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "$ka")"
  expect 200 "$mode: joining again is 200 with the same token" ".token == \"$ta\"" '.status == "ACTIVE"'

  new_user "bob-$mode"; kb=$NEW_KEY
  req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "$kb")"
  expect 201 "$mode: B joins and WAITS at position 1" '.status == "WAITING"' '.position == 1' \
    '.eta_seconds | type == "number"'
  tb=$(jv .token)
  check "$mode: Retry-After while WAITING on join" grep -Eqi '^Retry-After: [0-9]+' "$WORK/head"

  req GET "/api/concerts/$cid/dates" -H "$(bearer "$kb")" -H "$(qtoken "$tb")"
  expect_error 429 QUEUE_NOT_ADMITTED "$mode: B's dates are 429 QUEUE_NOT_ADMITTED" \
    '.error.details.position == 1' '.error.details.retry_after >= 1'
  is "$(header Retry-After)" "$(jv .error.details.retry_after)" "$mode: 429 carries Retry-After"
  req GET /api/queue -H "$(qtoken "$tb")"
  expect 200 "$mode: GET /api/queue shows B WAITING at position 1" \
    '.status == "WAITING"' '.position == 1' ".token == \"$tb\"" ".concert_id == $cid"
  check "$mode: GET /api/queue has Retry-After while WAITING" grep -Eqi '^Retry-After: [1-9][0-9]*' "$WORK/head"

  # ---- A: dates, seats, hold
  req GET "/api/concerts/$cid/dates" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect 200 "$mode: A sees one date with 50 seats available" \
    '.dates | length == 1' '.dates[0].available_seats == 50' \
    '.dates[0].date | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")' '.dates[0].starts_at != null'
  day=$(jv '.dates[0].date')
  req GET "/api/concerts/$cid/dates/$day/seats" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect 200 "$mode: the seat map has seats 1..50 ascending, all AVAILABLE" \
    ".date == \"$day\"" '[.seats[].seat_no] == [range(1; 51)]' \
    'all(.seats[]; .status == "AVAILABLE")' '.seats[0].price == 150000' '.seats[49].price == 80000'
  seat=20
  price=$(jv ".seats[] | select(.seat_no == $seat) | .price")

  post /api/reservations "{\"concert_id\": $cid, \"date\": \"$day\", \"seat_nos\": [$seat]}" \
    -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect 201 "$mode: A holds seat $seat (201 HELD)" '.status == "HELD"' ".concert_id == $cid" \
    ".date == \"$day\"" ".seat_nos == [$seat]" ".amount == $price" '.expires_at != null' \
    'keys == ["amount", "concert_id", "date", "expires_at", "reservation_id", "seat_nos", "status"]'
  rid=$(jv .reservation_id) body=$BODY
  req GET "/api/reservations/$rid" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  is "$STATUS $BODY" "200 $body" "$mode: GET the reservation is 200, the same as the hold"
  req GET "/api/reservations/$rid" -H "$(bearer "$kb")"
  expect_error 404 NOT_FOUND "$mode: B's GET of A's reservation is 404"
  req GET "/api/reservations/$rid" -H "$(bearer "$kb")" -H "$(qtoken "$tb")"
  expect_error 404 NOT_FOUND "$mode: B's GET of A's reservation with B's token is 404"

  # ---- A pays
  req POST "/api/reservations/$rid/payment" -d '' -H "$(bearer "$ka")" -H "$(qtoken "$ta")" \
    -H "Idempotency-Key: pay-$mode"
  expect 201 "$mode: A pays (201 CONFIRMED)" '.status == "CONFIRMED"' ".reservation_id == $rid" \
    ".amount == $price" ".balance == $((200000 - price))" '.payment_id != null'
  pay=$BODY
  req POST "/api/reservations/$rid/payment" -d '' -H "$(bearer "$ka")" -H "$(qtoken "$ta")" \
    -H "Idempotency-Key: pay-$mode"
  is "$STATUS $BODY" "201 $pay" "$mode: the payment replay is 201 with the same body (token DONE)"
  req GET /api/queue -H "$(qtoken "$ta")"
  expect 200 "$mode: A's token is DONE" '.status == "DONE"'
  req POST "/api/reservations/$rid/payment" -d '' -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect_error 409 RESERVATION_NOT_HELD "$mode: paying again without an Idempotency-Key: 409, never a 401 back to the queue"

  req GET /api/wallet -H "$(bearer "$ka")"
  expect 200 "$mode: balance after paying" ". == {\"balance\": $((200000 - price))}"
  req GET '/api/wallet/transactions?limit=50' -H "$(bearer "$ka")"
  expect 200 "$mode: the ledger has the PAYMENT on top, then the CHARGE" \
    '.transactions | length == 2' \
    ".transactions[0] | .type == \"PAYMENT\" and .amount == $price and .balance_after == $((200000 - price))
       and .reservation_id == $rid" \
    ".transactions[1].id == $tx" '.transactions[0].id > .transactions[1].id'
  amount=$(sql_concert "$rid" "SELECT count(*) || ' ' || sum(amount) FROM ticket.payments WHERE reservation_id = $rid")
  is "$amount" "1 $price" "$mode: one payment row in the database"

  req GET "/api/reservations/$rid" -H "$(bearer "$ka")"
  expect 200 "$mode: GET the paid reservation with the key alone is 200 CONFIRMED" \
    '.status == "CONFIRMED"' ".reservation_id == $rid" ".seat_nos == [$seat]"

  # ---- B is admitted on its next poll and sees the seat SOLD
  req GET /api/queue -H "$(qtoken "$tb")"
  expect 200 "$mode: B's next poll is ACTIVE" '.status == "ACTIVE"' '.position == null' '.expires_at != null'
  refute "$mode: no Retry-After once ACTIVE" has_header Retry-After
  req GET "/api/concerts/$cid/dates" -H "$(bearer "$kb")" -H "$(qtoken "$tb")"
  expect 200 "$mode: B sees 49 seats available" '.dates[0].available_seats == 49'
  req GET "/api/concerts/$cid/dates/$day/seats" -H "$(bearer "$kb")" -H "$(qtoken "$tb")"
  expect 200 "$mode: B sees seat $seat SOLD, the others AVAILABLE" \
    ".seats[] | select(.seat_no == $seat) | .status == \"SOLD\"" \
    "[.seats[] | select(.status == \"AVAILABLE\")] | length == 49"
  is "$(sql 'SELECT count(*) FROM admin.check_invariants()')" 0 "$mode: no broken invariant"

  stop_service "$port"
}

journey fastcgi 18101
journey cgi 18103
finish
