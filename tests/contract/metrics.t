#!/usr/bin/env bash
# Operators' side of the contract, with promtool (Debian package prometheus):
# GET /api/metrics after a little of everything (a sale, a waiting user, refusals)
# is Prometheus text that `promtool check metrics` passes without a word, and holds
# every series docs/prometheus/alerts.yml reads; docs/prometheus/scrape.yml and
# alerts.yml pass `promtool check config` and `check rules`; `promtool test rules`
# (alerts.test.yml) fires each alert where it should and nowhere else.
set -euo pipefail
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/../http/lib.sh"
command -v promtool >/dev/null || { echo "Bail out! promtool is needed (apt-get install prometheus)"; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd)
PROM="$TICKET_ROOT/docs/prometheus"
# Series the alerts read that /api/metrics does not export yet (docs/prometheus/alerts.yml).
NOT_EXPORTED_YET=()

# promtool_quiet DESCRIPTION ARGS...: promtool succeeds and says nothing but SUCCESS.
promtool_quiet() {
  local desc=$1 out rc=0; shift
  out=$(promtool "$@" 2>&1) || rc=$?
  out=$(grep -v -e '^Checking ' -e 'SUCCESS' -e '^Unit Testing: ' -e '^\s*$' <<<"$out" || :)
  if [ "$rc" -eq 0 ] && [ -z "$out" ]; then pass "$desc"
  else fail "$desc"; diag "promtool $* exited $rc"; diag "$out"; fi
}

start_service fastcgi 18150

# ---- traffic: A buys a seat while B waits for the one turn; some refusals
cid=$(new_concert 10 5 1 1)
new_user metrics-a; ka=$NEW_KEY
new_user metrics-b; kb=$NEW_KEY
post /api/wallet/charge '{"amount": 500000}' -H "$(bearer "$ka")"
expect 200 "A charges the wallet"
req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "$ka")"
expect 201 "A joins and is let in" '.status == "ACTIVE"'
ta=$(jv .token)
req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "$kb")"
expect 201 "B joins and waits" '.status == "WAITING"'
req GET "/api/concerts/$cid/dates" -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
expect 200 "A reads the dates" '.dates | length == 1'
day=$(jv '.dates[0].date')
post /api/reservations "{\"concert_id\": $cid, \"date\": \"$day\", \"seat_no\": 1}" \
  -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
expect 201 "A holds a seat"
rid=$(jv .reservation_id)
req POST "/api/reservations/$rid/payment" -d '' -H "$(bearer "$ka")" -H "$(qtoken "$ta")"
expect 201 "A pays"
req GET /api/wallet
expect_error 401 UNAUTHENTICATED "a wallet without a key is refused"
req GET /api/no-such-thing
expect_error 404 NOT_FOUND "an unknown path is refused"

# ---- the scrape
req GET /api/metrics
expect 200 "GET /api/metrics"
is "$(header Content-Type)" 'text/plain; version=0.0.4; charset=utf-8' "its Content-Type is Prometheus text 0.0.4"
cp "$WORK/body" "$WORK/metrics.txt"
promtool_quiet "promtool check metrics passes it without a warning" check metrics <"$WORK/metrics.txt"
check "it shows the concert's seats and the payment" \
  grep -qE "^ticket_seats\{concert_id=\"$cid\",status=\"SOLD\"\} 1$" "$WORK/metrics.txt"
check "and the refusals by code" grep -qE '^ticket_request_errors_total\{code="UNAUTHENTICATED"\} [1-9]' "$WORK/metrics.txt"

# Every series an alert reads is exported (or listed as not yet).
used=$(grep -E '^\s*expr:' "$PROM/alerts.yml" | grep -oE '\bticket_[a-z_]+' | sort -u)
[ -n "$used" ] || fail "alerts.yml reads ticket_* series"
for name in $used; do
  exported=no
  grep -qE "^$name(\{| )" "$WORK/metrics.txt" && exported=yes
  if [[ " ${NOT_EXPORTED_YET[*]} " == *" $name "* ]]; then
    is "$exported" no "alerts.yml reads $name, not exported yet (drop it from NOT_EXPORTED_YET once it is)"
  else
    is "$exported" yes "alerts.yml reads $name, which /api/metrics exports"
  fi
done

# ---- the operator's files
promtool_quiet "docs/prometheus/scrape.yml passes promtool check config" check config "$PROM/scrape.yml"
promtool_quiet "docs/prometheus/alerts.yml passes promtool check rules" check rules "$PROM/alerts.yml"
promtool_quiet "each alert fires where it should (promtool test rules)" test rules "$HERE/alerts.test.yml"

finish
