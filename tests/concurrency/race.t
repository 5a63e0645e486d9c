#!/usr/bin/env bash
# Many sessions at once through the real functions (pgbench, outside any single
# transaction): 60 clients race to hold and pay the same 10 seats with 120 users,
# and charge a few shared wallets with and without repeated Idempotency-Keys.
# Afterwards: no seat ever had two live holders or two sales, every 201 is one row,
# balances equal their ledgers, each key moved money once, and the invariants hold.
# Needs PGHOST/PGPORT/PGDATABASE/PGUSER of a migrated database (tests/harness sets them).
# On the sharded topology that is the proxy, where the race runs; the rows it left are
# looked at on the concert's partition and on every user partition.
set -euo pipefail
# shellcheck source=tests/lib/partitions.sh
. "$(dirname "$0")/../lib/partitions.sh"

CLIENTS=${RACE_CLIENTS:-60}
TX=${RACE_TX:-150}
PGBENCH="$(pg_config --bindir)/pgbench"
psql=(psql -X -q -At -v ON_ERROR_STOP=1)
export PGOPTIONS='-c client_min_messages=warning'

work=$(mktemp -d)
trap 'rm -rf "$work"; "${psql[@]}" -c "DROP SCHEMA IF EXISTS race CASCADE" >/dev/null 2>&1 || :' EXIT

n=0
ok() { # ok CONDITION-AS-SQL DESCRIPTION
  n=$((n + 1))
  if [ "$("${psql[@]}" -c "SELECT ($1)::boolean")" = t ]; then echo "ok $n - $2"
  else echo "not ok $n - $2"; echo "#   failed: $1"; fi
}

echo "1..10"

# The concert, and its performance's date where the concert's rows are.
cid=$("${psql[@]}" -c "SELECT admin.create_concert('Race', 'Test hall', ARRAY[now() + interval '3 days'], 10,
                                                   ARRAY[1000]::bigint[], 5, 2, 1000)")
# on_concert QUERY, on_users QUERY: QUERY where the concert's rows are, and where the
# users' are (one line per user partition); on one database, there.
on_concert() {
  if sharded; then "${psql[@]}" -d "$(partition_url concerts "$cid")" -c "$1"; else "${psql[@]}" -c "$1"; fi
}
on_users() {
  local url
  if ! sharded; then "${psql[@]}" -c "$1"; return; fi
  for url in $(partition_urls users); do "${psql[@]}" -d "$url" -c "$1"; done
}
on_date=$(on_concert "SELECT on_date FROM ticket.concert_dates WHERE concert_id = $cid")

"${psql[@]}" -v cid="$cid" -v on_date="$on_date" >/dev/null <<'SQL'
DROP SCHEMA IF EXISTS race CASCADE;
CREATE SCHEMA race;
-- The users, their ids, raw keys and tokens (only the test knows them).
CREATE TABLE race.users (n int PRIMARY KEY, uid bigint, key text, token text);
-- What every call answered: the status or SQLSTATE, and the reservation it made.
CREATE TABLE race.calls (kind text, n int, seat int, outcome text, reservation_id bigint, idem text);
CREATE TABLE race.concert AS SELECT :cid::bigint AS id, :'on_date'::date AS on_date;
INSERT INTO race.users (n, uid, key)
SELECT n, (u.body->>'user_id')::bigint, u.body->>'api_key'
FROM generate_series(1, 120) n CROSS JOIN LATERAL api.create_user('racer' || n) u;
UPDATE race.users SET token = (api.issue_token(key, (SELECT id FROM race.concert))).body->>'token';
-- Wallets 1..100 get enough for one seat or two; 101..120 get nothing (their payments fail with 402).
SELECT api.charge_wallet(key, 1000 + (n % 2) * 1000, NULL) FROM race.users WHERE n <= 100;

CREATE FUNCTION race.hold(p_n int, p_seats int[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE u race.users; r api.reply;
BEGIN
  SELECT * INTO u FROM race.users WHERE n = p_n;
  r := api.hold_seat(u.key, u.token, (SELECT id FROM race.concert), (SELECT on_date FROM race.concert), p_seats);
  INSERT INTO race.calls VALUES ('hold', p_n, p_seats[1], r.status::text, (r.body->>'reservation_id')::bigint);
EXCEPTION WHEN OTHERS THEN
  INSERT INTO race.calls VALUES ('hold', p_n, p_seats[1], SQLSTATE, NULL);
END $$;

CREATE FUNCTION race.pay_or_cancel(p_n int, p_cancel boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE u race.users; v_id bigint; r api.reply;
BEGIN
  SELECT * INTO u FROM race.users WHERE n = p_n;
  SELECT reservation_id INTO v_id FROM race.calls WHERE n = p_n AND kind = 'hold' AND outcome = '201'
  ORDER BY random() LIMIT 1;
  IF v_id IS NULL THEN
    INSERT INTO race.calls VALUES ('none', p_n, NULL, 'none', NULL);
    RETURN;
  END IF;
  IF p_cancel THEN
    r := api.cancel_reservation(u.key, u.token, v_id);
  ELSE
    r := api.pay_reservation(u.key, u.token, v_id, NULL);
  END IF;
  INSERT INTO race.calls VALUES (CASE WHEN p_cancel THEN 'cancel' ELSE 'pay' END, p_n, NULL, r.status::text, v_id);
EXCEPTION WHEN OTHERS THEN
  INSERT INTO race.calls VALUES (CASE WHEN p_cancel THEN 'cancel' ELSE 'pay' END, p_n, NULL, SQLSTATE, v_id);
END $$;

CREATE FUNCTION race.charge(p_n int, p_amount bigint, p_idem text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r api.reply;
BEGIN
  r := api.charge_wallet((SELECT key FROM race.users WHERE n = p_n), p_amount, p_idem);
  INSERT INTO race.calls VALUES ('charge', p_n, NULL, r.status::text, (r.body->>'transaction_id')::bigint, p_idem);
EXCEPTION WHEN OTHERS THEN
  INSERT INTO race.calls VALUES ('charge', p_n, NULL, SQLSTATE, NULL, p_idem);
END $$;
SQL

# Weighted mix: mostly holds on the same 10 seats (some of two seats), then payments,
# cancels, and charges on five shared wallets with keys that repeat across clients.
cat > "$work/hold.sql" <<'SQL'
\set u random(1, 120)
\set s random(1, 10)
SELECT race.hold(:u::int, CASE WHEN :u::int % 4 = 0 THEN ARRAY[:s::int, :s::int % 10 + 1] ELSE ARRAY[:s::int] END);
SQL
cat > "$work/pay.sql" <<'SQL'
\set u random(1, 120)
SELECT race.pay_or_cancel(:u::int, false);
SQL
cat > "$work/cancel.sql" <<'SQL'
\set u random(1, 120)
SELECT race.pay_or_cancel(:u::int, true);
SQL
cat > "$work/charge.sql" <<'SQL'
\set u random(1, 5)
\set k random(1, 20)
SELECT race.charge(:u::int, 100, CASE WHEN :k::int <= 10 THEN 'race-' || :u || '-' || :k END);
SQL

"$PGBENCH" -n -c "$CLIENTS" -j 2 -t "$TX" -M prepared \
  -f "$work/hold.sql@6" -f "$work/pay.sql@3" -f "$work/cancel.sql@1" -f "$work/charge.sql@3" \
  >"$work/pgbench.log" 2>&1 || { tail -n 20 "$work/pgbench.log" | sed 's/^/# /'; exit 1; }
grep -E '^(number of transactions actually processed|tps)' "$work/pgbench.log" | sed 's/^/# /'
"${psql[@]}" -c "SELECT kind || ' ' || outcome || ': ' || count(*) FROM race.calls GROUP BY kind, outcome ORDER BY kind, outcome" | sed 's/^/# /'

# The race's users, all and the five whose wallets the charges shared.
uids=$("${psql[@]}" -c "SELECT string_agg(uid::text, ',') FROM race.users")
uids5=$("${psql[@]}" -c "SELECT string_agg(uid::text, ',') FROM race.users WHERE n <= 5")
ok "(SELECT count(*) FROM race.calls) = $CLIENTS * $TX" \
   "every one of the $((CLIENTS * TX)) calls answered (no client aborted)"
ok "NOT EXISTS (SELECT 1 FROM race.calls WHERE outcome NOT IN ('none', '200', '201', '204', 'T409A', 'T409B', 'T409C', 'T402A', 'T410A', 'T401C'))" \
   "every answer is a success or an expected refusal (no deadlock, no constraint error, no internal error)"
ok "(SELECT count(*) FROM race.calls WHERE kind = 'hold' AND outcome = '201') > 10
    AND (SELECT count(*) FROM race.calls WHERE kind = 'hold' AND outcome = 'T409A') > 0" \
   "the seats were really contended: many holds won, many lost to SEAT_UNAVAILABLE"
ok "(SELECT count(*) FROM race.calls WHERE kind = 'hold' AND outcome = '201')
    = $(on_concert "SELECT count(*) FROM ticket.reservations WHERE concert_id = $cid")" \
   "every 201 of a hold is exactly one reservation row"
ok "'$(on_concert "SELECT NOT EXISTS (SELECT 1 FROM ticket.reservation_seats a JOIN ticket.reservation_seats b
                ON a.seat_id = b.seat_id AND a.reservation_id < b.reservation_id AND a.claim && b.claim)")'" \
   "no seat was ever claimed by two reservations at overlapping times"
ok "'$(on_concert "SELECT (SELECT count(*) FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
     WHERE d.concert_id = $cid AND s.sold)
    = (SELECT count(*) FROM ticket.payments p JOIN ticket.reservation_seats rs USING (reservation_id)
       JOIN ticket.reservations r ON r.id = p.reservation_id WHERE r.concert_id = $cid)")'" \
   "sold seats and paid seats are the same number: no seat sold twice or sold unpaid"
ok "$(on_users "SELECT count(*) FROM ticket.wallets w WHERE w.user_id IN ($uids)
                AND w.balance <> (SELECT coalesce(sum(CASE WHEN type = 'PAYMENT' THEN -amount ELSE amount END), 0)
                                  FROM ticket.ledger l WHERE l.user_id = w.user_id)" | awk '{ s += $1 } END { print s }') = 0" \
   "every balance equals the sum of its ledger"
ok "NOT EXISTS (SELECT idem FROM race.calls WHERE kind = 'charge' AND idem IS NOT NULL AND outcome = '200'
                GROUP BY n, idem HAVING count(DISTINCT reservation_id) <> 1)" \
   "a repeated Idempotency-Key always got the same transaction back"
ok "$(on_users "SELECT count(*) FROM ticket.ledger WHERE type = 'CHARGE' AND user_id IN ($uids5)" | awk '{ s += $1 } END { print s }')
    = 5 + (SELECT count(*) FROM race.calls WHERE kind = 'charge' AND idem IS NULL AND outcome = '200')
        + (SELECT count(DISTINCT (n, idem)) FROM race.calls WHERE kind = 'charge' AND idem IS NOT NULL AND outcome = '200')" \
   "charges moved money once per call without a key and once per distinct key"
ok "NOT EXISTS (SELECT 1 FROM admin.check_invariants())
    AND $(on_users "SELECT abs(difference) FROM admin.books()" | awk '{ s += $1 } END { print s }') = 0" \
   "admin.check_invariants() is empty and the books balance"
