#!/usr/bin/env bash
# 120 buyers over real HTTP at the same instant, all admitted (max_active 150,
# one seat each), race for the same 5 seats: each client holds one of them.
# Exactly one 201 per seat, every other answer 409 SEAT_UNAVAILABLE and nothing
# else (no 5xx, no other code); afterwards the database's holder of each seat
# is the reservation that got the 201, no other reservation exists, and
# admin.check_invariants() is empty.  Through FastCGI, then through CGI.
set -euo pipefail
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/lib.sh"

CLIENTS=${RACE_HTTP_CLIENTS:-120}
SEATS=5

# race.py BASE CONCERT DATE CLIENTS SEATS: sign CLIENTS users up and let
# them join the queue (8 at a time), then open one connection per client,
# wait until all are open, and send every hold at once.  One JSON line per
# client on stdout: {"i", "seat", "status", "code", "rid", "seat_nos"}.
race_clients() {
  python3 - "$@" <<'PY'
import http.client, json, sys, threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

base, concert, date, clients, seats = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
host, port = urlsplit(base).hostname, urlsplit(base).port

def call(method, path, body=None, headers=None, conn=None):
    c = conn or http.client.HTTPConnection(host, port, timeout=60)
    h = dict(headers or {})
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h["Content-Length"] = str(len(data))
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, (json.loads(raw) if raw else None)

def setup(i):
    st, u = call("POST", "/api/users", {"name": f"racer-{i}"})
    assert st == 201, (st, u)
    auth = {"Authorization": "Bearer " + u["api_key"]}
    st, t = call("POST", f"/api/concerts/{concert}/queue", None, auth)
    assert st == 201 and t["status"] == "ACTIVE", (st, t)
    return {**auth, "X-Queue-Token": t["token"]}

with ThreadPoolExecutor(8) as pool:
    creds = list(pool.map(setup, range(clients)))

barrier = threading.Barrier(clients)
results = [None] * clients

def hold(i):
    seat = i % seats + 1
    out = {"i": i, "seat": seat, "status": 0, "code": None, "rid": None, "seat_nos": None}
    try:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        conn.connect()
        barrier.wait(timeout=60)
        st, b = call("POST", "/api/reservations",
                     {"concert_id": concert, "date": date, "seat_nos": [seat]}, creds[i], conn)
        out["status"] = st
        if isinstance(b, dict):
            out["code"] = (b.get("error") or {}).get("code")
            out["rid"] = b.get("reservation_id")
            out["seat_nos"] = b.get("seat_nos")
    except Exception as e:  # reported as status 0
        out["code"] = repr(e)
    results[i] = out

threads = [threading.Thread(target=hold, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for r in results:
    print(json.dumps(r))
PY
}

race() {
  local mode=$1 port=$2 cid day out winners held others probe t0
  start_service "$mode" "$port"
  cid=$(new_concert 50 5 1 150)
  # The performance's date as the API shows it: ask, then leave the queue.
  new_user "race-probe-$mode"
  req POST "/api/concerts/$cid/queue" -d '' -H "$(bearer "$NEW_KEY")"
  probe=$(jv .token)
  req GET "/api/concerts/$cid/dates" -H "$(bearer "$NEW_KEY")" -H "$(qtoken "$probe")"
  day=$(jv '.dates[0].date')
  req DELETE /api/queue -H "$(qtoken "$probe")"
  is "$STATUS" 204 "$mode: the probe found the date $day and left the queue"

  out="$WORK/race-$mode.jsonl"
  t0=$SECONDS
  race_clients "$BASE" "$cid" "$day" "$CLIENTS" "$SEATS" >"$out"
  diag "$mode: $CLIENTS clients raced in $((SECONDS - t0)) s (with sign-up)"

  JSON=$(jq -s . "$out")
  check "$mode: $CLIENTS answers" jqt "length == $CLIENTS"
  check "$mode: exactly one 201 per seat" \
    jqt "[.[] | select(.status == 201) | .seat] | sort == [range(1; $((SEATS + 1)))]"
  check "$mode: every other answer is 409 SEAT_UNAVAILABLE" \
    jqt "[.[] | select(.status != 201)] | length == $((CLIENTS - SEATS)) and
         all(.status == 409 and .code == \"SEAT_UNAVAILABLE\")"
  check "$mode: no 5xx, no other status" jqt 'all(.status == 201 or .status == 409)'
  check "$mode: each 201 holds the seat its client asked for" \
    jqt 'all(.[] | select(.status == 201); .seat_nos == [.seat] and (.rid | type == "number"))'
  others=$(jq -c '[.[] | select(.status != 201 and (.status != 409 or .code != "SEAT_UNAVAILABLE"))] | .[:5]' <<<"$JSON")
  [ "$others" = '[]' ] || diag "unexpected answers: $others"
  winners=$(jq -r '.[] | select(.status == 201) | "\(.seat) \(.rid)"' <<<"$JSON" | sort -n)
  held=$(sql_concert "$cid" "SELECT s.seat_no || ' ' || s.reservation_id
                FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
               WHERE d.concert_id = $cid AND s.held_until > now() ORDER BY s.seat_no")
  is "$held" "$winners" "$mode: the database's holder of each seat is the client that got 201"
  is "$(sql_concert "$cid" "SELECT count(*) FROM ticket.reservations WHERE concert_id = $cid")" "$SEATS" \
    "$mode: no reservation but the $SEATS winners"
  is "$(sql_concert "$cid" "SELECT count(*) FROM ticket.reservation_seats rs JOIN ticket.reservations r ON r.id = rs.reservation_id
              WHERE r.concert_id = $cid")" "$SEATS" "$mode: one seat claim per winner"
  is "$(sql 'SELECT count(*) FROM admin.check_invariants()')" 0 "$mode: admin.check_invariants() is empty"
  unset JSON
  stop_service "$port"
}

race fastcgi 18121
race cgi 18123
finish
