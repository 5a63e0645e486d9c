#!/usr/bin/env bash
# After the sale, over real HTTP in both modes: a buyer sees what a refund would
# give, refunds with the key alone (an Idempotency-Key replay moves no money, a
# second refund is 409), the wallet history shows the REFUND row, a refund past
# the deadline is 409 with details.refundable_until; and on a sold-out concert
# the waiting list polls slowly with its place, then gets the seat that came back.
set -euo pipefail
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/lib.sh"

after_sale() {
  local mode=$1 port=$2 ka kb cid day rid tok tb
  start_service "$mode" "$port"

  new_user "refund-a-$mode"; ka=$NEW_KEY
  post /api/wallet/charge '{"amount": 500000}' -H "$(bearer "$ka")"
  cid=$(new_concert 1 5 1 5)
  day=$(sql_concert "$cid" "SELECT on_date FROM ticket.concert_dates WHERE concert_id = $cid")
  req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "$ka")"; tok=$(jv .token)
  post /api/reservations "{\"concert_id\": $cid, \"date\": \"$day\", \"seat_nos\": [1]}" \
    -H "$(bearer "$ka")" -H "$(qtoken "$tok")"
  rid=$(jv .reservation_id)
  req POST "/api/reservations/$rid/payment" -d '' -H "$(bearer "$ka")" -H "$(qtoken "$tok")"
  expect 201 "$mode: A buys the only seat" '.status == "CONFIRMED"'

  # ---- the waiting list
  new_user "refund-b-$mode"; kb=$NEW_KEY
  req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "$kb")"
  expect 201 "$mode: B joins a sold-out concert: SOLD_OUT, first on the waiting list" \
    '.status == "SOLD_OUT"' '.position == 1'
  tb=$(jv .token)
  req GET /api/queue -H "$(qtoken "$tb")"
  expect 200 "$mode: B's poll says SOLD_OUT at place 1" '.status == "SOLD_OUT"' '.position == 1'
  check "$mode: the waiting list polls slowly (Retry-After 5 to 60 s)" \
    test "$(header Retry-After)" -ge 5 -a "$(header Retry-After)" -le 60

  # ---- the refund
  req GET "/api/reservations/$rid" -H "$(bearer "$ka")"
  expect 200 "$mode: the paid reservation shows what a refund gives back, with the key alone" \
    '.status == "CONFIRMED"' '.refund.refund == 135000' '.refund.fee == 15000' '.refund.refundable_until != null'
  req POST "/api/reservations/$rid/refund" -d '' -H "$(bearer "$ka")" -H "Idempotency-Key: refund-$mode"
  expect 200 "$mode: the refund is 200 REFUNDED with 135,000 back and 15,000 kept" \
    ". == {\"reservation_id\": $rid, \"status\": \"REFUNDED\", \"refund\": 135000, \"fee\": 15000, \"balance\": 485000}"
  body=$BODY
  req POST "/api/reservations/$rid/refund" -d '' -H "$(bearer "$ka")" -H "Idempotency-Key: refund-$mode"
  is "$STATUS $BODY" "200 $body" "$mode: a retry with the same key replays it"
  req POST "/api/reservations/$rid/refund" -d '' -H "$(bearer "$ka")"
  expect_error 409 REFUND_NOT_ALLOWED "$mode: refunding again is 409 REFUND_NOT_ALLOWED"
  req GET '/api/wallet/transactions?limit=1' -H "$(bearer "$ka")"
  expect 200 "$mode: the wallet history shows the REFUND on top" \
    ".transactions[0] | .type == \"REFUND\" and .amount == 135000 and .balance_after == 485000 and .reservation_id == $rid"
  req GET /api/queue -H "$(qtoken "$tb")"
  expect 200 "$mode: the seat came back: B, first on the waiting list, is ACTIVE" '.status == "ACTIVE"'

  # ---- past the deadline
  post /api/reservations "{\"concert_id\": $cid, \"date\": \"$day\", \"seat_nos\": [1]}" \
    -H "$(bearer "$kb")" -H "$(qtoken "$tb")"
  rid=$(jv .reservation_id)
  post /api/wallet/charge '{"amount": 500000}' -H "$(bearer "$kb")"
  req POST "/api/reservations/$rid/payment" -d '' -H "$(bearer "$kb")" -H "$(qtoken "$tb")"
  expect 201 "$mode: B buys the seat that came back" '.status == "CONFIRMED"'
  sql_concert "$cid" "UPDATE ticket.concert_dates SET starts_at = now() + interval '2 hours' WHERE concert_id = $cid" >/dev/null
  req POST "/api/reservations/$rid/refund" -d '' -H "$(bearer "$kb")"
  expect_error 409 REFUND_NOT_ALLOWED "$mode: 2 hours before the performance is past the deadline" \
    '.error.details.refundable_until != null'
  req POST "/api/reservations/$rid/refund" -d '' -H "$(bearer "$ka")"
  expect_error 404 NOT_FOUND "$mode: another user's reservation is 404"
  req POST "/api/reservations/999999999/refund" -d "" -H "$(bearer "$kb")"
  expect_error 404 NOT_FOUND "$mode: an unknown reservation is 404"
  req POST "/api/reservations/x/refund" -d '' -H "$(bearer "$kb")"
  expect_error 400 INVALID_ARGUMENT "$mode: a malformed id is 400"
  req GET "/api/reservations/$rid/refund" -H "$(bearer "$kb")"
  expect_error 405 METHOD_NOT_ALLOWED "$mode: GET of the refund is 405" ".error != null"
  is "$(header Allow)" POST "$mode: ... with Allow: POST"
  stop_service "$port"
}

after_sale fastcgi 18260
after_sale cgi 18262
finish
