#!/usr/bin/env bash
# Every error code of docs/api.md over real HTTP, through FastCGI and through CGI:
# each answer is checked for its status, Content-Type and the exact error body
# {"error": {"code", "message", "details", "hint"}}, and for what it must not
# have changed (no money moved, seats as they were).  Last, with the FastCGI
# and the CGI service up, the database is stopped: /api/health answers 503
# DATABASE_UNAVAILABLE; once it is started again, the next request succeeds
# without restarting lighttpd.  The database is started again on any exit.
set -euo pipefail
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/lib.sh"

# The server inherits this environment: the tests' libpq settings must not reach
# its own connections (on the sharded topology, PL/Proxy's to the partitions'
# pgbouncers, which refuse PGOPTIONS).
cluster() {
  env -u PGOPTIONS -u PGHOST -u PGDATABASE -u PGUSER VAR="$TICKET_VAR" PGPORT="$PGPORT" \
    "$TICKET_ROOT/scripts/cluster.sh" "${1#cluster-}" >&2
}
# Whatever happens, the next test file finds the database up.
# shellcheck disable=SC2317 # called by on_exit
db_back_up() {
  psql -X -q -c 'SELECT 1' >/dev/null 2>&1 || cluster cluster-up || :
}
EXIT_HOOK=db_back_up

# The error answers of one mode.
errors() {
  local mode=$1 port=$2 ka kb kw kc uid ta ta2 tb tw c1 c2 day rid rid2 big
  start_service "$mode" "$port"
  diag "mode $mode on port $port"

  # ---- 400 INVALID_JSON
  post /api/users '{"name":'
  expect_error 400 INVALID_JSON "$mode: truncated JSON is 400 INVALID_JSON" \
    '.error.details | (.line | type == "number") and (.column | type == "number") and (.position | type == "number")'
  post /api/users '{"name": "a", "name": "b"}'
  expect_error 400 INVALID_JSON "$mode: a duplicate member is 400 INVALID_JSON"
  post /api/users ''
  expect_error 400 INVALID_JSON "$mode: an empty body where one is needed is 400 INVALID_JSON"

  # ---- 400 INVALID_ARGUMENT, naming the field
  post /api/users '{"name": ""}'
  expect_error 400 INVALID_ARGUMENT "$mode: an empty name is 400 INVALID_ARGUMENT" '.error.details.field == "name"'
  post /api/users '[]'
  expect_error 400 INVALID_ARGUMENT "$mode: a JSON array body is 400 INVALID_ARGUMENT" '.error.details.field == "body"'
  new_user "errors-a-$mode"; ka=$NEW_KEY uid=$NEW_ID
  new_user "errors-b-$mode"; kb=$NEW_KEY
  new_user "errors-w-$mode"; kw=$NEW_KEY
  new_user "errors-c-$mode"; kc=$NEW_KEY
  req GET /api/reservations/abc -H "$(bearer "$ka")"
  expect_error 400 INVALID_ARGUMENT "$mode: a bad path id is 400 INVALID_ARGUMENT" \
    '.error.details.field == "reservation_id"'
  req GET /api/reservations/007 -H "$(bearer "$ka")"
  expect_error 400 INVALID_ARGUMENT "$mode: a path id with a leading zero is 400" \
    '.error.details.field == "reservation_id"'
  req POST /api/concerts/0/queue -d '' -H "$(bearer "$ka")"
  expect_error 400 INVALID_ARGUMENT "$mode: concert id 0 is 400 INVALID_ARGUMENT" \
    '.error.details.field == "concert_id"'
  req GET /api/concerts/1/dates/2026-02-30/seats -H "$(bearer "$ka")" -H "$(qtoken qt_x)"
  expect_error 400 INVALID_ARGUMENT "$mode: date 2026-02-30 is 400 INVALID_ARGUMENT" \
    '.error.details.field == "date"'
  req GET '/api/wallet/transactions?limit=0' -H "$(bearer "$ka")"
  expect_error 400 INVALID_ARGUMENT "$mode: limit=0 is 400 INVALID_ARGUMENT" \
    '.error.details.field == "limit"' '.error.details.min == 1' '.error.details.max == 200'
  req GET '/api/wallet/transactions?limit=201' -H "$(bearer "$ka")"
  expect_error 400 INVALID_ARGUMENT "$mode: limit=201 is 400 INVALID_ARGUMENT" '.error.details.field == "limit"'
  req GET '/api/wallet/transactions?before=x' -H "$(bearer "$ka")"
  expect_error 400 INVALID_ARGUMENT "$mode: before=x is 400 INVALID_ARGUMENT" '.error.details.field == "before"'
  post /api/wallet/charge '{"amount": 1.5}' -H "$(bearer "$ka")"
  expect_error 400 INVALID_ARGUMENT "$mode: amount 1.5 is 400 INVALID_ARGUMENT" '.error.details.field == "amount"'
  post /api/wallet/charge '{"amount": 5}' -H "$(bearer "$ka")" -H "Idempotency-Key: $(printf 'k%.0s' {1..256})"
  expect_error 400 INVALID_ARGUMENT "$mode: a 256-character Idempotency-Key is 400" \
    '.error.details.field == "Idempotency-Key"'
  req POST /api/wallet/charge -H "$(bearer "$ka")"
  expect_error 411 INVALID_ARGUMENT "$mode: a POST without Content-Length is 411 (lighttpd) with the error body"

  # ---- 400 INVALID_AMOUNT
  post /api/wallet/charge '{"amount": 0}' -H "$(bearer "$ka")"
  expect_error 400 INVALID_AMOUNT "$mode: amount 0 is 400 INVALID_AMOUNT" '.error.details.field == "amount"'
  post /api/wallet/charge '{"amount": 10000001}' -H "$(bearer "$ka")"
  expect_error 400 INVALID_AMOUNT "$mode: amount 10,000,001 is 400 INVALID_AMOUNT"
  post /api/wallet/charge '{"amount": 99999999999999999999}' -H "$(bearer "$ka")"
  expect_error 400 INVALID_AMOUNT "$mode: an amount past int64 is 400 INVALID_AMOUNT"
  req GET /api/wallet -H "$(bearer "$ka")"
  expect 200 "$mode: no refused charge moved money" '.balance == 0'

  # ---- 401 UNAUTHENTICATED
  req GET /api/wallet
  expect_error 401 UNAUTHENTICATED "$mode: no Authorization is 401 UNAUTHENTICATED"
  req GET /api/wallet -H "$(bearer tk_unknownkey)"
  expect_error 401 UNAUTHENTICATED "$mode: an unknown key is 401 UNAUTHENTICATED"
  req GET /api/wallet -H 'Authorization: Basic YTpi'
  expect_error 401 UNAUTHENTICATED "$mode: a Basic Authorization is 401 UNAUTHENTICATED"

  # ---- the waiting room: c1 admits two at a time, c2 many
  c1=$(new_concert 50 5 1 2)
  c2=$(new_concert 50 5 1 100)
  req POST "/api/concerts/$c1/queue" -d '' -H "$(bearer "$ka")"; ta=$(jv .token)
  req POST "/api/concerts/$c1/queue" -d '' -H "$(bearer "$kb")"; tb=$(jv .token)
  req POST "/api/concerts/$c1/queue" -d '' -H "$(bearer "$kw")"; tw=$(jv .token)
  expect 201 "$mode: a third user waits on c1" '.status == "WAITING"' '.position == 1'
  req POST "/api/concerts/$c2/queue" -d '' -H "$(bearer "$ka")"; ta2=$(jv .token)
  expect 201 "$mode: A joins c2 too" '.status == "ACTIVE"'

  # ---- 401 QUEUE_TOKEN_INVALID
  req GET /api/queue -H "$(qtoken qt_unknowntoken)"
  expect_error 401 QUEUE_TOKEN_INVALID "$mode: an unknown token is 401 QUEUE_TOKEN_INVALID"
  req GET /api/queue -H 'X-Queue-Token: not a token'
  expect_error 401 QUEUE_TOKEN_INVALID "$mode: a malformed token is 401 QUEUE_TOKEN_INVALID"
  req GET /api/queue
  expect_error 401 QUEUE_TOKEN_INVALID "$mode: no token on GET /api/queue is 401 QUEUE_TOKEN_INVALID"
  req GET "/api/concerts/$c1/dates" -H "$(bearer "$ka")" -H "$(qtoken qt_unknowntoken)"
  expect_error 401 QUEUE_TOKEN_INVALID "$mode: dates with an unknown token are 401 QUEUE_TOKEN_INVALID"
  req GET "/api/concerts/$c1/dates" -H "$(bearer "$ka")"
  expect_error 401 QUEUE_TOKEN_INVALID "$mode: dates without a token are 401 QUEUE_TOKEN_INVALID"

  # ---- 403 QUEUE_TOKEN_MISMATCH
  req GET "/api/concerts/$c1/dates" -H "$(bearer "$ka")" -H "$(qtoken "$ta2")"
  expect_error 403 QUEUE_TOKEN_MISMATCH "$mode: a token of another concert is 403 QUEUE_TOKEN_MISMATCH"
  req GET "/api/concerts/$c1/dates" -H "$(bearer "$ka")" -H "$(qtoken "$tb")"
  expect_error 403 QUEUE_TOKEN_MISMATCH "$mode: a token of another user is 403 QUEUE_TOKEN_MISMATCH"

  # ---- 429 QUEUE_NOT_ADMITTED
  req GET "/api/concerts/$c1/dates" -H "$(bearer "$kw")" -H "$(qtoken "$tw")"
  expect_error 429 QUEUE_NOT_ADMITTED "$mode: a WAITING token is 429 QUEUE_NOT_ADMITTED" \
    '.error.details.position == 1'
  check "$mode: the 429 has a Retry-After header" grep -Eqi '^Retry-After: [1-9][0-9]*' "$WORK/head"

  # ---- 404 NOT_FOUND
  req GET /api/nope
  expect_error 404 NOT_FOUND "$mode: an unknown path is 404 NOT_FOUND"
  req GET /api/wallet/ -H "$(bearer "$ka")"
  expect_error 404 NOT_FOUND "$mode: a trailing slash is an unknown path"
  req POST /api/concerts/999999999/queue -d '' -H "$(bearer "$ka")"
  expect_error 404 NOT_FOUND "$mode: an unknown concert is 404 NOT_FOUND"
  req GET /api/reservations/999999999 -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect_error 404 NOT_FOUND "$mode: an unknown reservation is 404 NOT_FOUND"
  req GET "/api/concerts/$c1/dates/2030-01-01/seats" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect_error 404 NOT_FOUND "$mode: a date without a performance is 404 NOT_FOUND"
  req GET "/api/concerts/$c1/dates" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  day=$(jv '.dates[0].date')
  post /api/reservations "{\"concert_id\": $c1, \"date\": \"$day\", \"seat_no\": 51}" \
    -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect_error 404 NOT_FOUND "$mode: a seat that does not exist is 404 NOT_FOUND"

  # ---- 405 METHOD_NOT_ALLOWED with Allow
  req PUT /api/wallet -H "$(bearer "$ka")"
  expect_error 405 METHOD_NOT_ALLOWED "$mode: PUT /api/wallet is 405" '.error.details.method == "PUT"'
  is "$(header Allow)" GET "$mode: Allow: GET on /api/wallet"
  req DELETE /api/users
  expect_error 405 METHOD_NOT_ALLOWED "$mode: DELETE /api/users is 405"
  is "$(header Allow)" POST "$mode: Allow: POST on /api/users"
  req PATCH /api/queue
  expect_error 405 METHOD_NOT_ALLOWED "$mode: PATCH /api/queue is 405"
  is "$(header Allow)" 'GET, DELETE' "$mode: Allow: GET, DELETE on /api/queue"

  # ---- 409 SEAT_UNAVAILABLE, HOLD_LIMIT_REACHED
  post /api/reservations "{\"concert_id\": $c1, \"date\": \"$day\", \"seat_nos\": [1]}" \
    -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect 201 "$mode: A holds seat 1" '.status == "HELD"'
  rid=$(jv .reservation_id)
  post /api/reservations "{\"concert_id\": $c1, \"date\": \"$day\", \"seat_nos\": [1]}" \
    -H "$(bearer "$kb")" -H "$(qtoken "$tb")"
  expect_error 409 SEAT_UNAVAILABLE "$mode: B's hold of A's seat is 409 SEAT_UNAVAILABLE"
  post /api/reservations "{\"concert_id\": $c1, \"date\": \"$day\", \"seat_nos\": [2]}" \
    -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect_error 409 HOLD_LIMIT_REACHED "$mode: A's second seat is 409 HOLD_LIMIT_REACHED"
  post /api/reservations "{\"concert_id\": $c1, \"date\": \"$day\", \"seat_nos\": [2, 3]}" \
    -H "$(bearer "$kb")" -H "$(qtoken "$tb")"
  expect_error 409 HOLD_LIMIT_REACHED "$mode: two seats at once over a limit of one is 409 HOLD_LIMIT_REACHED"

  # ---- 402 INSUFFICIENT_BALANCE: nothing changes
  req POST "/api/reservations/$rid/payment" -d '' -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect_error 402 INSUFFICIENT_BALANCE "$mode: paying with balance 0 is 402 INSUFFICIENT_BALANCE"
  req GET "/api/reservations/$rid" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect 200 "$mode: after the 402 the reservation is still HELD" '.status == "HELD"'
  req GET "/api/concerts/$c1/dates/$day/seats" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect 200 "$mode: after the 402 seat 1 is HELD, not SOLD" '.seats[0].status == "HELD"'
  req GET /api/wallet/transactions -H "$(bearer "$ka")"
  expect 200 "$mode: after the 402 the ledger is empty" '.transactions == []'

  # ---- 409 RESERVATION_NOT_HELD
  req DELETE "/api/reservations/$rid" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  is "$STATUS" 204 "$mode: cancelling the hold is 204"
  req DELETE "/api/reservations/$rid" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect_error 409 RESERVATION_NOT_HELD "$mode: cancelling twice is 409 RESERVATION_NOT_HELD"
  req POST "/api/reservations/$rid/payment" -d '' -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect_error 409 RESERVATION_NOT_HELD "$mode: paying a cancelled hold is 409 RESERVATION_NOT_HELD"

  # ---- 410 HOLD_EXPIRED: the hold is aged to its end with psql; no money moves
  post /api/wallet/charge '{"amount": 500000}' -H "$(bearer "$ka")"
  expect 200 "$mode: A charges 500000" '.balance == 500000'
  post /api/reservations "{\"concert_id\": $c1, \"date\": \"$day\", \"seat_nos\": [3]}" \
    -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect 201 "$mode: A holds seat 3" '.status == "HELD"'
  rid2=$(jv .reservation_id)
  sql_concert "$rid2" "UPDATE ticket.reservations SET expires_at = now() - interval '1 second' WHERE id = $rid2;
       UPDATE ticket.seats SET held_until = now() - interval '1 second' WHERE reservation_id = $rid2;
       UPDATE ticket.reservation_seats
          SET claim = tstzrange(least(lower(claim), now() - interval '2 seconds'), now() - interval '1 second')
        WHERE reservation_id = $rid2"
  req POST "/api/reservations/$rid2/payment" -d '' -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect_error 410 HOLD_EXPIRED "$mode: paying after the hold ran out is 410 HOLD_EXPIRED"
  req GET /api/wallet -H "$(bearer "$ka")"
  expect 200 "$mode: after the 410 the balance is unchanged" '.balance == 500000'
  req GET /api/wallet/transactions -H "$(bearer "$ka")"
  expect 200 "$mode: after the 410 the ledger has the charge only" \
    '[.transactions[].type] == ["CHARGE"]'
  req GET "/api/concerts/$c1/dates/$day/seats" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect 200 "$mode: after the 410 seat 3 is AVAILABLE" '.seats[2].status == "AVAILABLE"'
  req GET "/api/reservations/$rid2" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
  expect 200 "$mode: the reservation reads EXPIRED" '.status == "EXPIRED"'

  # ---- 413, 415
  big=$(printf '{"name": "%s"}' "$(head -c 17408 /dev/zero | tr '\0' x)")
  post /api/users "$big"
  expect_error 413 PAYLOAD_TOO_LARGE "$mode: a 17 KiB body is 413 PAYLOAD_TOO_LARGE" '.error.details.limit == 16384'
  big=$(printf '{"name": "%s"}' "$(head -c 70000 /dev/zero | tr '\0' x)")
  post /api/users "$big"
  expect_error 413 PAYLOAD_TOO_LARGE "$mode: a 70 KB body is 413 PAYLOAD_TOO_LARGE (lighttpd's limit)"
  req POST /api/users -H 'Content-Type: text/plain' --data-binary '{"name": "x"}'
  expect_error 415 UNSUPPORTED_MEDIA_TYPE "$mode: a text/plain body is 415 UNSUPPORTED_MEDIA_TYPE" \
    '.error.details.content_type == "text/plain"'
  req POST /api/users -H 'Content-Type: application/json; charset=latin1' --data-binary '{"name": "x"}'
  expect_error 415 UNSUPPORTED_MEDIA_TYPE "$mode: charset latin1 is 415 UNSUPPORTED_MEDIA_TYPE"

  # ---- 422 IDEMPOTENCY_KEY_REUSED, 409 IDEMPOTENCY_IN_PROGRESS
  post /api/wallet/charge '{"amount": 1000}' -H "$(bearer "$kc")" -H 'Idempotency-Key: e-1'
  expect 200 "$mode: a charge with key e-1" '.balance == 1000'
  post /api/wallet/charge '{"amount": 2000}' -H "$(bearer "$kc")" -H 'Idempotency-Key: e-1'
  expect_error 422 IDEMPOTENCY_KEY_REUSED "$mode: key e-1 for another amount is 422"
  req POST "/api/reservations/$rid2/payment" -d '' -H "$(bearer "$ka")" -H "$(qtoken "$ta")" \
    -H 'Idempotency-Key: shared'
  expect_error 410 HOLD_EXPIRED "$mode: a failed payment under key 'shared' (not kept)"
  sql_user "$uid" "INSERT INTO ticket.idempotency_keys (user_id, key, request) VALUES ($uid, 'stuck', 'charge 1000')"
  post /api/wallet/charge '{"amount": 1000}' -H "$(bearer "$ka")" -H 'Idempotency-Key: stuck'
  expect_error 409 IDEMPOTENCY_IN_PROGRESS "$mode: a key whose first request has no answer yet is 409"
  req GET /api/wallet -H "$(bearer "$kc")"
  expect 200 "$mode: the refused replays moved no money" '.balance == 1000'

  # ---- 401 QUEUE_TOKEN_EXPIRED after DELETE /api/queue; the waiter is admitted
  req DELETE /api/queue -H "$(qtoken "$tb")"
  is "$STATUS" 204 "$mode: B leaves the queue (204)"
  req GET /api/queue -H "$(qtoken "$tb")"
  expect 200 "$mode: B's token is LEFT" '.status == "LEFT"'
  req GET "/api/concerts/$c1/dates" -H "$(bearer "$kb")" -H "$(qtoken "$tb")"
  expect_error 401 QUEUE_TOKEN_EXPIRED "$mode: a LEFT token is 401 QUEUE_TOKEN_EXPIRED"
  req GET /api/queue -H "$(qtoken "$tw")"
  expect 200 "$mode: the waiter is ACTIVE once B has left" '.status == "ACTIVE"'

  is "$(sql 'SELECT count(*) FROM admin.check_invariants()')" 0 "$mode: no broken invariant"
}

# ---- 503 DATABASE_UNAVAILABLE: the database stops under both services
db_down() {
  local fcgi=$1 cgi=$2
  cluster cluster-down
  BASE="http://127.0.0.1:$fcgi"
  req GET /api/health
  expect_error 503 DATABASE_UNAVAILABLE "fastcgi: health with the database down is 503"
  is "$(header Retry-After)" 1 "fastcgi: the 503 has Retry-After: 1"
  req GET /api/wallet -H "$(bearer tk_whoever)"
  expect_error 503 DATABASE_UNAVAILABLE "fastcgi: the wallet with the database down is 503"
  refute "fastcgi: the 503 does not show the database's text" \
    jqt '.error | tostring | test("connect|socket|PGSQL|No such file"; "i")'
  # Through pgbouncer: it must not hold the request until its own
  # query_wait_timeout (120 s by default); the answer is a 503 within 10 s.
  BASE="http://127.0.0.1:$cgi"
  req GET /api/health --max-time 10
  expect_error 503 DATABASE_UNAVAILABLE "cgi: health with the database down is 503 within 10 s"

  cluster cluster-up
  BASE="http://127.0.0.1:$fcgi"
  req GET /api/health
  expect 200 "fastcgi: the next request after the database is back succeeds" \
    '. == {"status": "ok", "database": "ok"}'
  req GET /api/wallet -H "$(bearer tk_whoever)"
  expect_error 401 UNAUTHENTICATED "fastcgi: and so does the next call of another program"
  # pgbouncer waits server_login_retry after a failed login: poll, bounded.
  BASE="http://127.0.0.1:$cgi"
  # shellcheck disable=SC2317 # called by poll_until
  health_ok() { req GET /api/health --max-time 5; [ "$STATUS" = 200 ]; }
  check "cgi: health is 200 again once pgbouncer reconnects (within 20 s)" poll_until 20 health_ok
}

errors fastcgi 18111
errors cgi 18113
db_down 18111 18113
finish
