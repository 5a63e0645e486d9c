#!/usr/bin/env bash
# The sale opening over real HTTP, once through FastCGI and once through CGI.
# A concert scheduled with psql goes UPCOMING, PRE_QUEUE, ON_SALE as its
# sale_opens_at is moved (never by sleeping): a join before the pre-queue is
# 409 QUEUE_NOT_OPEN; joins in the pre-queue are PRE_QUEUE with no position, the
# opening time and a Retry-After to just after it; the shuffle shows only its
# commitment until the opening, then its seed (sha256(seed) = commitment) and
# the entries in ascending sha256(seed || entry_id) order, which is the order
# the pre-queue is admitted in, a page at a time; a join after the opening lines
# up behind the pre-queue.  Also: bad after/limit 400, unknown concert 404, a
# concert without a sale time, and a date whose booking opens later (409
# SALE_NOT_OPEN).
set -euo pipefail
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "Bail out! python3 is needed"; exit 1; }

# Seconds since the epoch of an RFC 3339 time.
epoch() { date -d "$1" +%s; }

# The concert as GET /api/concerts lists it, in LISTED.
listed() {
  req GET /api/concerts
  LISTED=$(jq -c --argjson id "$1" '.concerts[] | select(.id == $id)' <<<"$BODY")
}

# The expected order of the shuffle: entry ids (a JSON array) sorted by
# sha256(seed || entry_id), the seed as bytes and the id as UTF-8.
shuffled() {
  python3 -c 'import hashlib, json, sys
seed = bytes.fromhex(sys.argv[1])
ids = json.loads(sys.argv[2])
print(json.dumps(sorted(ids, key=lambda e: hashlib.sha256(seed + e.encode()).digest()), separators=(",", ":")))' "$1" "$2"
}

sale() {
  local mode=$1 port=$2 cid plain u p q opens pre seed commit order ra day late dates
  local -A keys tokens entries who
  start_service "$mode" "$port"
  diag "mode $mode on port $port"

  for u in a b c d; do new_user "sale-$u-$mode"; keys[$u]=$NEW_KEY; done
  cid=$(sql "SELECT admin.create_concert('Sale $mode $$', 'Hall', ARRAY[now() + interval '7 days'],
               p_seats => 10, p_max_active => 2,
               p_sale_opens_at => now() + interval '2 hours', p_pre_queue_minutes => 60)")

  # ---- UPCOMING: before the pre-queue opens
  listed "$cid"
  JSON=$LISTED expect 200 "$mode: the scheduled concert is listed UPCOMING with its times and commitment" \
    '.status == "UPCOMING"' '.sale_opens_at != null' '.pre_queue_opens_at != null' \
    '.shuffle.commitment | test("^[0-9a-f]{64}$")' '.shuffle.seed == null'
  opens=$(jq -r .sale_opens_at <<<"$LISTED") pre=$(jq -r .pre_queue_opens_at <<<"$LISTED")
  commit=$(jq -r .shuffle.commitment <<<"$LISTED")
  is "$(($(epoch "$opens") - $(epoch "$pre")))" 3600 "$mode: the pre-queue opens 60 minutes before the sale"
  plain=$LISTED
  req GET "/api/concerts/$cid"
  expect 200 "$mode: GET /api/concerts/{id} is the concert as listed" ". == $plain"

  req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "${keys[a]}")"
  expect_error 409 QUEUE_NOT_OPEN "$mode: joining before the pre-queue opens is 409 QUEUE_NOT_OPEN" \
    '.error.details.pre_queue_opens_at != null'
  is "$(epoch "$(jv .error.details.pre_queue_opens_at)")" "$(epoch "$pre")" \
    "$mode: ... with details.pre_queue_opens_at"
  req GET "/api/concerts/$cid/shuffle"
  expect 200 "$mode: /shuffle before the opening: the commitment, no seed, no entries" \
    ".concert_id == $cid" ".commitment == \"$commit\"" '.seed == null' '.entries == null' \
    '.rule | type == "string" and length > 0'
  req GET "/api/concerts/$cid/shuffle/entries"
  expect_error 409 QUEUE_NOT_OPEN "$mode: /shuffle/entries before the opening is 409 QUEUE_NOT_OPEN"

  # ---- PRE_QUEUE: the pre-queue opened 30 minutes ago, the sale opens in 30
  sql_concert "$cid" "UPDATE ticket.concerts SET sale_opens_at = now() + interval '30 minutes' WHERE id = $cid" >/dev/null
  listed "$cid"
  JSON=$LISTED expect 200 "$mode: the list shows PRE_QUEUE" '.status == "PRE_QUEUE"'
  opens=$(jq -r .sale_opens_at <<<"$LISTED")
  req GET "/api/concerts/$cid"
  expect 200 "$mode: GET /api/concerts/{id} shows PRE_QUEUE" '.status == "PRE_QUEUE"' '.shuffle.seed == null'

  for u in a b c; do
    if [ "$u" = b ]; then
      # The opening comes closer: in 5 minutes.
      sql_concert "$cid" "UPDATE ticket.concerts SET sale_opens_at = now() + interval '5 minutes' WHERE id = $cid" >/dev/null
      req GET "/api/concerts/$cid"; opens=$(jv .sale_opens_at)
    fi
    req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "${keys[$u]}")"
    expect 201 "$mode: $u joins the pre-queue: PRE_QUEUE, no position, opens_at, an entry_id" \
      '.status == "PRE_QUEUE"' '.position == null' ".concert_id == $cid" '.opens_at != null' \
      '.entry_id | type == "string" and length > 0' '.entry_id != .token'
    tokens[$u]=$(jv .token) entries[$u]=$(jv .entry_id)
    who[${entries[$u]}]=$u
    ra=$(header Retry-After)
    if [ "$u" = a ]; then
      is "$ra" 300 "$mode: with the opening 30 minutes away, Retry-After is 5 minutes"
    fi
  done
  is "$(epoch "$(jv .opens_at)")" "$(epoch "$opens")" "$mode: opens_at is the sale's opening"
  check "$mode: 5 minutes before, Retry-After brings the client back 1 to 5 s after the opening ($ra s)" \
    test "${ra:-0}" -ge $((300 - 30 + 1)) -a "${ra:-0}" -le $((300 + 5))
  is "$(printf '%s\n' "${entries[@]}" | sort -u | wc -l)" 3 "$mode: three distinct entry ids"
  req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "${keys[a]}")"
  expect 200 "$mode: joining again is 200 with the same token, still PRE_QUEUE" \
    ".token == \"${tokens[a]}\"" ".entry_id == \"${entries[a]}\"" '.status == "PRE_QUEUE"'
  req GET /api/queue -H "$(qtoken "${tokens[b]}")"
  expect 200 "$mode: a poll in the pre-queue is PRE_QUEUE without a position" \
    '.status == "PRE_QUEUE"' '.position == null' ".entry_id == \"${entries[b]}\""
  ra=$(header Retry-After)
  check "$mode: ... with Retry-After to just after the opening ($ra s)" \
    test "${ra:-0}" -ge $((300 - 30 + 1)) -a "${ra:-0}" -le $((300 + 5))
  req GET "/api/concerts/$cid/dates" -H "$(bearer "${keys[b]}")" -H "$(qtoken "${tokens[b]}")"
  expect_error 429 QUEUE_NOT_ADMITTED "$mode: a pre-queue token is not admitted yet (429)" \
    '.error.details.position == null' '.error.details.retry_after > 0'
  is "$(header Retry-After)" "$(jv .error.details.retry_after)" "$mode: ... with its Retry-After"
  req GET "/api/concerts/$cid/shuffle"
  expect 200 "$mode: /shuffle in the pre-queue: still no seed" '.seed == null' ".commitment == \"$commit\""
  req GET "/api/concerts/$cid/shuffle/entries?after=0&limit=10"
  expect_error 409 QUEUE_NOT_OPEN "$mode: /shuffle/entries in the pre-queue is 409 QUEUE_NOT_OPEN" \
    '.error.details.sale_opens_at != null'

  # ---- ON_SALE: the opening is due; the first poll opens it
  sql_concert "$cid" "UPDATE ticket.concerts SET sale_opens_at = now() - interval '1 second' WHERE id = $cid" >/dev/null
  req GET /api/queue -H "$(qtoken "${tokens[a]}")"
  expect 200 "$mode: the first poll after the opening is WAITING or ACTIVE" \
    '.status == "WAITING" or .status == "ACTIVE"'
  req GET "/api/concerts/$cid/shuffle"
  expect 200 "$mode: /shuffle after the opening: the seed and 3 entries" \
    '.seed | test("^[0-9a-f]{64}$")' '.entries == 3' ".commitment == \"$commit\""
  seed=$(jv .seed)
  is "$(python3 -c 'import hashlib, sys; print(hashlib.sha256(bytes.fromhex(sys.argv[1])).hexdigest())' "$seed")" \
    "$commit" "$mode: sha256(seed) is the commitment published before"
  listed "$cid"
  JSON=$LISTED expect 200 "$mode: the list shows ON_SALE and the seed" '.status == "ON_SALE"' ".shuffle.seed == \"$seed\""
  req GET "/api/concerts/$cid"
  expect 200 "$mode: GET /api/concerts/{id} shows ON_SALE and the seed" '.status == "ON_SALE"' \
    ".shuffle == {\"commitment\": \"$commit\", \"seed\": \"$seed\"}"

  req GET "/api/concerts/$cid/shuffle/entries"
  expect 200 "$mode: /shuffle/entries lists the 3 pre-queue entries by rank" \
    '[.entries[].rank] == [1, 2, 3]'
  order=$(jq -c '[.entries[].entry_id]' <<<"$BODY")
  is "$(jq -c 'sort' <<<"$order")" "$(printf '%s\n' "${entries[@]}" | jq -Rsc 'split("\n")[:-1] | sort')" \
    "$mode: they are the entry ids of the three joins"
  is "$order" "$(shuffled "$seed" "$order")" "$mode: the order is ascending sha256(seed || entry_id)"
  req GET "/api/concerts/$cid/shuffle/entries?after=0&limit=2"
  expect 200 "$mode: after=0&limit=2 is ranks 1 and 2" '[.entries[].rank] == [1, 2]' \
    "[.entries[].entry_id] == $(jq -c '.[:2]' <<<"$order")"
  req GET "/api/concerts/$cid/shuffle/entries?after=2&limit=2"
  expect 200 "$mode: after=2&limit=2 is rank 3" "[.entries[]] == [{\"rank\": 3, \"entry_id\": $(jq '.[2]' <<<"$order")}]"
  req GET "/api/concerts/$cid/shuffle/entries?after=3"
  expect 200 "$mode: after the last rank the page is empty" '.entries == []'
  for q in limit=0 limit=1001 limit=abc after=-1; do
    req GET "/api/concerts/$cid/shuffle/entries?$q"
    expect_error 400 INVALID_ARGUMENT "$mode: $q is 400 INVALID_ARGUMENT" ".error.details.field == \"${q%%=*}\""
  done

  # The pre-queue is admitted in the shuffled order: max_active 2.
  u=${who[$(jq -r '.[0]' <<<"$order")]}
  req GET /api/queue -H "$(qtoken "${tokens[$u]}")"
  expect 200 "$mode: rank 1 ($u) is ACTIVE" '.status == "ACTIVE"'
  u=${who[$(jq -r '.[1]' <<<"$order")]}
  req GET /api/queue -H "$(qtoken "${tokens[$u]}")"
  expect 200 "$mode: rank 2 ($u) is ACTIVE" '.status == "ACTIVE"'
  u=${who[$(jq -r '.[2]' <<<"$order")]}
  req GET /api/queue -H "$(qtoken "${tokens[$u]}")"
  expect 200 "$mode: rank 3 ($u) WAITS first in line" '.status == "WAITING"' '.position == 1'
  req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "${keys[d]}")"
  expect 201 "$mode: a join after the opening lines up behind the pre-queue" \
    '.status == "WAITING"' '.position == 2'
  req GET "/api/concerts/$cid/shuffle"
  expect 200 "$mode: the late join is not in the shuffle" '.entries == 3'

  # ---- a date whose booking opens an hour after the sale
  late=$(sql_concert "$cid" "SELECT admin.add_date($cid, now() + interval '8 days', p_booking_opens_at => now() + interval '1 hour')")
  late=$(sql_concert "$cid" "SELECT on_date FROM ticket.concert_dates WHERE id = $late")
  u=${who[$(jq -r '.[0]' <<<"$order")]}
  req GET "/api/concerts/$cid/dates" -H "$(bearer "${keys[$u]}")" -H "$(qtoken "${tokens[$u]}")"
  expect 200 "$mode: both dates are listed, the later with its booking_opens_at" \
    '.dates | length == 2' '.dates[0].booking_opens_at == null' \
    ".dates[1].date == \"$late\"" '.dates[1].booking_opens_at != null'
  dates=$BODY
  post /api/reservations "{\"concert_id\": $cid, \"date\": \"$late\", \"seat_nos\": [1]}" \
    -H "$(bearer "${keys[$u]}")" -H "$(qtoken "${tokens[$u]}")"
  expect_error 409 SALE_NOT_OPEN "$mode: holding a seat of that date is 409 SALE_NOT_OPEN" \
    '.error.details.booking_opens_at != null'
  is "$(epoch "$(jv .error.details.booking_opens_at)")" \
    "$(epoch "$(jq -r '.dates[1].booking_opens_at' <<<"$dates")")" "$mode: ... with details.booking_opens_at"
  day=$(jq -r '.dates[0].date' <<<"$dates")
  post /api/reservations "{\"concert_id\": $cid, \"date\": \"$day\", \"seat_nos\": [1]}" \
    -H "$(bearer "${keys[$u]}")" -H "$(qtoken "${tokens[$u]}")"
  expect 201 "$mode: a seat of the date already open can be held" '.status == "HELD"'

  # ---- unknown concert, and a concert without a sale time
  for p in "" /shuffle /shuffle/entries; do
    req GET "/api/concerts/999999999$p"
    expect_error 404 NOT_FOUND "$mode: GET /api/concerts/999999999$p is 404"
  done
  plain=$(new_concert 5 5 1 5)
  req GET "/api/concerts/$plain"
  expect 200 "$mode: a concert without a sale time is ON_SALE, with no times and no shuffle" \
    ".id == $plain" '.status == "ON_SALE"' '.sale_opens_at == null' '.pre_queue_opens_at == null' \
    '.shuffle == null'
  req GET "/api/concerts/$plain/shuffle"
  expect_error 404 NOT_FOUND "$mode: its /shuffle is 404"
  req GET "/api/concerts/$plain/shuffle/entries"
  expect_error 404 NOT_FOUND "$mode: its /shuffle/entries is 404"
  req POST "/api/concerts/$plain/queue" -d '' -H "$(bearer "${keys[d]}")"
  expect 201 "$mode: joining it is ACTIVE at once, opens_at null" '.status == "ACTIVE"' '.opens_at == null'
  req POST "/api/concerts/$plain/shuffle" -d ''
  expect_error 405 METHOD_NOT_ALLOWED "$mode: POST /shuffle is 405"
  is "$(header Allow)" GET "$mode: ... with Allow: GET"
  stop_service "$port"
}

sale fastcgi 18270
sale cgi 18272
finish
