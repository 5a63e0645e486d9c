#!/usr/bin/env bash
# Every route against the real database, through FastCGI and through CGI: that
# each request reaches its api.* function with the right parameters, as the
# answers and the rows it leaves show.  This is what the unit tests cannot see
# (they run without a database): how values the C layer accepts are passed on
# (decoded names, seat lists, a seat_no, a concert_id as a string, percent-
# encoded query values, Idempotency-Keys verbatim, 255 characters, a body of
# exactly 16 KiB, the largest id), which credentials go as NULL (no key, no
# token once a reservation is paid or cancelled) so that the database answers,
# the 204s without a body, Retry-After from the database, the metrics in text,
# and that every error answer is counted.
set -euo pipefail
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/lib.sh"

routes() {
  local mode=$1 port=$2 k k2 uid tok tw cid ended bad cwait day rid rid2 newest emoji key255 pad n
  start_service "$mode" "$port"
  diag "mode $mode on port $port"

  # ---- POST /api/users: api.create_user(name)
  post /api/users '{"name": "\uae40", "extra": {"deep": [1, 2.5, null]}}'
  expect 201 "$mode: an escaped name is decoded; unknown members are ignored" '.name == "김"'
  emoji=$(printf '🎵%.0s' {1..64})
  post /api/users "{\"name\": \"$emoji\"}"
  expect 201 "$mode: a name of 64 four-byte characters is passed whole" ".name == \"$emoji\"" '.name | length == 64'
  post /api/users "{\"name\": \"${emoji}x\"}"
  expect_error 400 INVALID_ARGUMENT "$mode: 65 characters are refused" '.error.details.field == "name"'
  post /api/users $' \r\n\t{"name": "spaced"}\n'
  expect 201 "$mode: whitespace around the JSON is fine" '.name == "spaced"'
  k=$(jv .api_key) uid=$(jv .user_id)
  is "$(sql_user "$uid" "SELECT name FROM ticket.users WHERE id = $uid")" spaced "$mode: the user is in the database"

  # ---- GET /api/wallet, POST /api/wallet/charge: api.get_wallet(key), api.charge_wallet(key, amount, idem)
  req GET /api/wallet -H "$(bearer "$k")"
  expect 200 "$mode: GET /api/wallet" '. == {"balance": 0}'
  req GET /api/%77allet -H "$(bearer "$k")"
  expect 200 "$mode: a percent-encoded path is decoded before routing" '. == {"balance": 0}'
  req GET /api/wallet -H "Authorization: bEaReR $k"
  expect 200 "$mode: the Bearer scheme in any case" '.balance == 0'
  req POST /api/wallet/charge -H "$(bearer "$k")" -H 'Content-Type: application/json; charset=utf-8' \
    -H 'Idempotency-Key: charge 1/2 {x}' --data-binary '{"amount":1}'
  expect 200 "$mode: charge with a charset and a key with spaces" '.balance == 1'
  is "$(sql_user "$uid" "SELECT request || '|' || status FROM ticket.idempotency_keys WHERE user_id = $uid AND key = 'charge 1/2 {x}'")" \
    'charge 1|200' "$mode: the Idempotency-Key reaches the database verbatim"
  key255=$(printf 'k%.0s' {1..255})
  post /api/wallet/charge '{"amount": 2}' -H "$(bearer "$k")" -H "Idempotency-Key: $key255"
  expect 200 "$mode: a 255-character Idempotency-Key is taken" '.balance == 3'
  is "$(sql_user "$uid" "SELECT count(*) FROM ticket.idempotency_keys WHERE user_id = $uid AND length(key) = 255")" 1 \
    "$mode: and kept whole"
  pad=$(head -c 16000 /dev/zero | tr '\0' p)
  n=$(printf '{"amount": 4, "pad": "%s"}' "$pad" | wc -c)
  pad+=$(head -c $((16384 - n)) /dev/zero | tr '\0' p)
  post /api/wallet/charge "{\"amount\": 4, \"pad\": \"$pad\"}" -H "$(bearer "$k")"
  expect 200 "$mode: a body of exactly 16384 bytes is taken" '.balance == 7'
  sql "SELECT count(api.charge_wallet('$k', 10, NULL)) FROM generate_series(1, 55)" >/dev/null

  # ---- GET /api/wallet/transactions: api.list_transactions(key, limit, before)
  req GET /api/wallet/transactions -H "$(bearer "$k")"
  expect 200 "$mode: limit 50 by default, newest first" '.transactions | length == 50' \
    '[.transactions[].id] == ([.transactions[].id] | sort | reverse)'
  newest=$(jv '.transactions[0].id')
  req GET "/api/wallet/transactions?limit=%31%30&before=$newest&other=%zz" -H "$(bearer "$k")"
  expect 200 "$mode: limit=%31%30 is 10, before= is older, other parameters are ignored" \
    '.transactions | length == 10' ".transactions[0].id < $newest" \
    "[.transactions[].id] == [range($newest - 1; $newest - 11; -1)]"
  req GET "/api/wallet/transactions?limit=200&before=9223372036854775807" -H "$(bearer "$k")"
  expect 200 "$mode: limit=200 and the largest before" '.transactions | length == 58'
  req GET "/api/wallet/transactions?limit=5&limit=6" -H "$(bearer "$k")"
  expect_error 400 INVALID_ARGUMENT "$mode: a parameter given twice is 400" '.error.details.field == "limit"'

  # ---- GET /api/concerts: api.list_concerts()
  cid=$(new_concert 50 7 2 10)
  req GET /api/concerts
  expect 200 "$mode: GET /api/concerts lists the concert with its rules and queue" \
    ".concerts[] | select(.id == $cid) | .hold_minutes == 7 and .max_seats_per_user == 2
       and .queue == {\"waiting\": 0, \"active\": 0, \"max_active\": 10} and (.title | type == \"string\")
       and .venue == \"Hall\""

  # ---- GET /api/concerts?status=: api.list_concerts('{...}')
  ended=$(new_concert 1 5 1 1)
  sql_concert "$ended" "UPDATE ticket.concert_dates SET starts_at = now() - interval '1 day' WHERE concert_id = $ended"
  req GET /api/concerts
  expect 200 "$mode: without status= every concert is listed, the ENDED one too" \
    "[.concerts[] | select(.id == $cid or .id == $ended) | .status] == [\"ON_SALE\", \"ENDED\"]"
  req GET "/api/concerts?status=UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT"
  expect 200 "$mode: status= lists the concerts of those statuses only, by id" \
    "any(.concerts[]; .id == $cid)" "all(.concerts[]; .status != \"ENDED\")" \
    '[.concerts[].id] == ([.concerts[].id] | sort)'
  req GET "/api/concerts?status=ENDED%2CON_SALE"
  expect 200 "$mode: status=ENDED%2CON_SALE is decoded: both" \
    "any(.concerts[]; .id == $ended)" "any(.concerts[]; .id == $cid)" \
    'all(.concerts[]; .status == "ENDED" or .status == "ON_SALE")'
  req GET "/api/concerts?status=ENDED"
  expect 200 "$mode: status=ENDED lists only the past" "any(.concerts[]; .id == $ended)" 'all(.concerts[]; .status == "ENDED")'
  for bad in 'status=' 'status=ON_SALE,' 'status=on_sale' 'status=ON_SALE,ON_SALE' 'status=SOLD' 'status=ON_SALE&status=ENDED'; do
    req GET "/api/concerts?$bad"
    expect_error 400 INVALID_ARGUMENT "$mode: ?$bad is refused" '.error.details.field == "status"'
  done

  # ---- POST /api/concerts/{id}/queue, GET and DELETE /api/queue
  post "/api/concerts/$cid/queue" '{}' -H "$(bearer "$k")"
  expect 201 "$mode: joining with a {} body" ".concert_id == $cid" '.status == "ACTIVE"'
  tok=$(jv .token)
  req GET /api/queue -H "$(qtoken "$tok")" -H 'Authorization: garbage'
  expect 200 "$mode: GET /api/queue takes the token alone; Authorization is not read" ".token == \"$tok\""
  req POST "/api/concerts/$cid/queue" -H 'Content-Type: text/plain' --data-binary 'hello' -H "$(bearer "$k")"
  expect_error 415 UNSUPPORTED_MEDIA_TYPE "$mode: a body on the queue that is not JSON is 415"
  req GET "/api/concerts/$cid/dates" -H "$(qtoken 'not a token')"
  expect_error 401 UNAUTHENTICATED "$mode: no key and a malformed token: the database says 401 UNAUTHENTICATED"

  # ---- GET dates and seats: api.available_dates(key, token, id), api.seat_map(key, token, id, date)
  req GET "/api/concerts/$cid/dates" -H "$(bearer "$k")" -H "$(qtoken "$tok")"
  expect 200 "$mode: dates" '.dates | length == 1' '.dates[0].available_seats == 50'
  day=$(jv '.dates[0].date')
  req GET "/api/concerts/$cid/dates/2024-02-29/seats" -H "$(bearer "$k")" -H "$(qtoken "$tok")"
  expect_error 404 NOT_FOUND "$mode: a leap day passes the C checks; the database has no such date"
  req GET "/api/concerts/$cid/dates/$day/seats" -H "$(bearer "$k")" -H "$(qtoken "$tok")"
  expect 200 "$mode: the seat map of the date" ".date == \"$day\"" '.seats | length == 50'

  # ---- POST /api/reservations: api.hold_seat(key, token, id, date, '{7,8}')
  post /api/reservations "{\"concert_id\": $cid, \"date\": \"$day\", \"seat_nos\": [8, 7]}" \
    -H "$(bearer "$k")" -H "$(qtoken "$tok")"
  expect 201 "$mode: two seats in one hold" '.seat_nos == [7, 8]' '.amount == 300000'
  rid=$(jv .reservation_id)
  is "$(sql_concert "$rid" "SELECT string_agg(s.seat_no::text, ',' ORDER BY s.seat_no) FROM ticket.reservation_seats rs
              JOIN ticket.seats s ON s.id = rs.seat_id WHERE rs.reservation_id = $rid")" 7,8 \
    "$mode: the database holds seats 7 and 8 for it"
  req GET "/api/reservations/$rid" -H "$(bearer "$k")"
  expect_error 401 QUEUE_TOKEN_INVALID "$mode: a HELD reservation without a token: the database says 401"
  req DELETE "/api/reservations/$rid" -H "$(bearer "$k")" -H "$(qtoken "$tok")" \
    -H 'Content-Type: text/plain' --data-binary 'ignored'
  is "$STATUS" 204 "$mode: DELETE the reservation is 204 (a body on DELETE is ignored)"
  is "$(header Content-Type)|$BODY" '|' "$mode: a 204 has no Content-Type and no body"
  req GET "/api/concerts/$cid/dates/$day/seats" -H "$(bearer "$k")" -H "$(qtoken "$tok")"
  expect 200 "$mode: seats 7 and 8 are AVAILABLE at once" '.seats[6].status == "AVAILABLE"' '.seats[7].status == "AVAILABLE"'
  req GET "/api/reservations/$rid" -H "$(bearer "$k")"
  expect 200 "$mode: a CANCELLED reservation with the key alone (token passed as NULL)" '.status == "CANCELLED"'
  post /api/reservations "{\"concert_id\": \"$cid\", \"date\": \"$day\", \"seat_no\": 9, \"note\": \"x\"}" \
    -H "$(bearer "$k")" -H "$(qtoken "$tok")"
  expect 201 "$mode: seat_no and a concert_id string are taken" '.seat_nos == [9]' ".concert_id == $cid" '.amount == 150000'
  rid2=$(jv .reservation_id)

  # ---- POST /api/reservations/{id}/payment: api.pay_reservation(key, token, id, idem)
  post /api/wallet/charge '{"amount": 1000000}' -H "$(bearer "$k")"
  req POST "/api/reservations/$rid2/payment" -H "$(bearer "$k")" -H "$(qtoken "$tok")" \
    -H 'Content-Type: text/plain' -H 'Idempotency-Key: pay-1' --data-binary ''
  expect 201 "$mode: an empty payment body needs no JSON Content-Type" '.status == "CONFIRMED"' ".reservation_id == $rid2"
  is "$(sql_user "$uid" "SELECT request FROM ticket.idempotency_keys WHERE user_id = $uid AND key = 'pay-1'")" \
    "pay reservation $rid2" "$mode: the payment's Idempotency-Key reaches the database"
  post "/api/reservations/$rid2/payment" '{}' -H "$(bearer "$k")" -H "$(qtoken "$tok")" -H 'Idempotency-Key: pay-1'
  expect 201 "$mode: the replay with a {} body" ".reservation_id == $rid2"
  req GET "/api/reservations/$rid2" -H "$(bearer "$k")"
  expect 200 "$mode: the paid reservation with the key alone" '.status == "CONFIRMED"'
  req GET /api/reservations/9223372036854775807 -H "$(bearer "$k")"
  expect_error 404 NOT_FOUND "$mode: the largest id passes the C checks; the database has none"
  req GET /api/reservations/9223372036854775808 -H "$(bearer "$k")"
  expect_error 400 INVALID_ARGUMENT "$mode: one more is 400" '.error.details.field == "reservation_id"'

  # ---- Retry-After comes from the database; DELETE /api/queue is 204
  cwait=$(new_concert 10 5 1 1)
  new_user "routes-first-$mode"
  req POST "/api/concerts/$cwait/queue" -d '' -H "$(bearer "$NEW_KEY")"
  new_user "routes-second-$mode"; k2=$NEW_KEY
  req POST "/api/concerts/$cwait/queue" -d '' -H "$(bearer "$k2")"
  expect 201 "$mode: a second user waits" '.status == "WAITING"'
  tw=$(jv .token)
  is "$(header Retry-After)" "$(sql "SELECT retry_after FROM api.queue_status('$tw')")" \
    "$mode: Retry-After on the join is the database's retry_after"
  req GET "/api/concerts/$cwait/dates" -H "$(bearer "$k2")" -H "$(qtoken "$tw")"
  expect_error 429 QUEUE_NOT_ADMITTED "$mode: 429 while waiting"
  is "$(header Retry-After)" "$(jv .error.details.retry_after)" "$mode: Retry-After is the DETAIL's retry_after"
  req DELETE /api/queue -H "$(qtoken "$tw")"
  is "$STATUS|$(header Content-Type)|$BODY" '204||' "$mode: DELETE /api/queue is 204 without a body"

  # ---- GET /api/health, GET /api/metrics; error answers are counted
  req GET /api/health
  expect 200 "$mode: health" '. == {"status": "ok", "database": "ok"}'
  is "$(header Content-Type)" "$JSON_TYPE" "$mode: health is JSON"
  metric() { req GET /api/metrics; sed -n "s/^ticket_request_errors_total{code=\"$1\"} //p" <<<"$BODY"; }
  n=$(metric METHOD_NOT_ALLOWED)
  req DELETE /api/wallet -H "$(bearer "$k")"
  expect_error 405 METHOD_NOT_ALLOWED "$mode: a 405 to count"
  is "$(metric METHOD_NOT_ALLOWED)" "$(( ${n:-0} + 1 ))" "$mode: the 405 is counted in ticket_request_errors_total"
  req GET '/api/metrics?x=1'
  is "$STATUS $(header Content-Type)" "200 text/plain; version=0.0.4; charset=utf-8" "$mode: metrics are Prometheus text"
  check "$mode: metrics have the queue and seat gauges of the concert" \
    grep -q "^ticket_seats{concert_id=\"$cid\",status=\"SOLD\"} 1\$" "$WORK/body"
  check "$mode: metrics have the waiting gauge" grep -q "^ticket_queue_waiting{concert_id=\"$cwait\"} 0\$" "$WORK/body"
  req GET /api/health -H 'Content-Type: text/plain' --data-binary 'x'
  expect_error 400 INVALID_ARGUMENT "$mode: lighttpd refuses a GET with a body, in the error body"
  stop_service "$port"
}

routes fastcgi 18141
routes cgi 18143
finish
