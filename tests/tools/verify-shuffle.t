#!/usr/bin/env bash
# tools/verify-shuffle against a real sale opening: people join a concert's pre-queue
# over HTTP (and 1,200 more through api.issue_token, so that the entries take two
# pages), the opening is brought about by moving sale_opens_at into the past, and the
# tool then finds the published order right. Served through tests/tools/tamper-proxy.py
# with two ranks swapped, a rank left out or another seed, it fails and says where.
set -euo pipefail
# Only tests/http's own files are checked against docs/openapi.yaml (zz_openapi.t
# runs before this folder), so this file logs no exchanges.
TICKET_EXCHANGE_LOG=
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/../http/lib.sh"

PORT=18280          # the service (and 18281, its pgbouncer)
PROXY_PORT=18282
TOOL="$TICKET_ROOT/tools/verify-shuffle"
HTTP_JOINS=5
SQL_JOINS=1200

# verify BASE_URL CONCERT_ID: run the tool; its exit status in RC, its output in OUT.
verify() {
  RC=0
  OUT=$("$TOOL" "$1" "$2" 2>&1) || RC=$?
}
# says TEXT: the tool's last output contains TEXT.
says() {
  if grep -qF -- "$1" <<<"$OUT"; then return 0; fi
  diag "output was: $OUT"
  return 1
}

start_service fastcgi "$PORT"
cid=$(sql "SELECT admin.create_concert('Shuffle $$', 'Hall', ARRAY[now() + interval '30 days'],
  p_sale_opens_at => now() + interval '1 hour', p_pre_queue_minutes => 120)")
verify "$BASE" "$cid"
is "$RC" 2 "before the opening the tool cannot verify yet (exit 2)"
check "and says that the sale has not opened" says "has not opened"

ids=()
for i in $(seq "$HTTP_JOINS"); do
  new_user "shuffle-$i"
  req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "$NEW_KEY")"
  expect 201 "user $i joins the pre-queue over HTTP" '.status == "PRE_QUEUE"' '.position == null' \
    '.entry_id | type == "string" and length > 0'
  ids+=("$(jv .entry_id)")
done
joined=$(sql "WITH u AS (SELECT (api.create_user('bulk-' || n)).body AS b FROM generate_series(1, $SQL_JOINS) n)
  SELECT count(*) FROM u, LATERAL api.issue_token(u.b->>'api_key', $cid) t
  WHERE t.status = 201 AND t.body->>'status' = 'PRE_QUEUE'")
is "$joined" "$SQL_JOINS" "$SQL_JOINS more join the pre-queue through api.issue_token"
req GET "/api/concerts/$cid/shuffle/entries"
expect_error 409 QUEUE_NOT_OPEN "the entries are not published before the opening"

# The opening: sale_opens_at moves into the past, and the next /shuffle call opens it.
sql "UPDATE ticket.concerts SET sale_opens_at = now() - interval '1 second' WHERE id = $cid"
opened() { req GET "/api/concerts/$cid/shuffle"; [ "$STATUS" = 200 ] && jqt '.seed != null'; }
check "the sale opens once sale_opens_at has passed: /shuffle publishes the seed" poll_until 10 opened
total=$((HTTP_JOINS + SQL_JOINS))
expect 200 "/shuffle counts every pre-queue entry" ".entries == $total"
listed=
for after in 0 1000; do
  req GET "/api/concerts/$cid/shuffle/entries?after=$after&limit=1000"
  listed+=$(jq -r '.entries[].entry_id' <<<"$BODY")$'\n'
done
missing=0
for id in "${ids[@]}"; do grep -qxF -- "$id" <<<"$listed" || missing=$((missing + 1)); done
is "$missing" 0 "the HTTP joiners' entry_ids are among the published ones"

verify "$BASE" "$cid"
is "$RC" 0 "verify-shuffle finds the published order right (exit 0)"
check "it checked the commitment" says "ok: sha256(seed) equals the commitment"
check "it checked $total ranks without a gap (two pages)" says "ok: ranks 1..$total, no gap"
check "it checked the order" says "ok: the order is ascending sha256(seed || entry_id)"

# ---- a tampered copy
python3 "$(dirname "$0")/tamper-proxy.py" "$PROXY_PORT" "$BASE" &
proxy=$!
stop_proxy() { kill "$proxy" 2>/dev/null || :; }
EXIT_HOOK=stop_proxy
proxy_up() { curl -sf -o /dev/null "http://127.0.0.1:$PROXY_PORT/same/api/concerts/$cid/shuffle"; }
check "the tampering proxy answers" poll_until 10 proxy_up
PROXY="http://127.0.0.1:$PROXY_PORT"

verify "$PROXY/same" "$cid"
is "$RC" 0 "through the proxy, untouched, the order still verifies"
verify "$PROXY/swap-3-7" "$cid"
is "$RC" 1 "ranks 3 and 7 swapped: verify-shuffle fails (exit 1)"
check "and names rank 3, the first wrong one" says "rank 3: published entry_id"
verify "$PROXY/drop-500" "$cid"
is "$RC" 1 "rank 500 left out: verify-shuffle fails (exit 1)"
check "and names the gap at rank 500" says "rank 500: the list goes on with rank 501"
verify "$PROXY/seed" "$cid"
is "$RC" 1 "a seed that is not the committed one: verify-shuffle fails (exit 1)"
check "and says the seed does not match the commitment" says "sha256(seed) is not the commitment"

stop_proxy
finish
