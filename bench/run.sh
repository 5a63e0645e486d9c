#!/usr/bin/env bash
# make bench: each hot call of the service against the database's own ceiling, how
# the calls grow with the queue and the catalogue, and a sale opening.
#
#   1. ceiling  P: pgbench calls the SQL function over persistent prepared connections;
#               D: DURABLE_CLIENTS sessions commit a one-row INSERT each (synchronous_commit
#               on), the most durable writes the database does, beside the join at as many
#   2. HTTP     the same call through lighttpd, FastCGI then CGI (wrk, real keys and
#               tokens), beside H (a FastCGI program answering a constant) and B (a CGI
#               program that connects through pgbouncer and answers a constant);
#               L = 1/(1/H + 1/P) is the most an HTTP call can do on these shared cores;
#               the join again at DURABLE_CLIENTS connections, against H at as many
#   3. growth   poll and hold latency at a fixed rate with 1k/100k/1M waiting tokens
#               and 10/10k dates, each after a second's warm-up
#   4. surge    20,000 users join within seconds, poll at Retry-After, buy (bench/programs/surge);
#               after the sell-out 10 % of the buyers refund while the waiting list polls,
#               and every refunded seat must go to the first on the waiting list
#   5. opening  50,000 users join a pre-queue, the sale opens, each must see a place in line
#   6. catalogue 4,000 past concerts, then the concert list with and without ?status=, a
#               metrics scrape and the invariant audits (the minute's and the nightly)
#
# Run by `make bench` with a fresh migrated database (PG* env, TICKET_VAR, TICKET_ROOT,
# TICKET_BUILD). Prints a table; $TICKET_VAR/bench/results.json has every figure.
set -euo pipefail
cd "$(dirname "$0")"
CLIENTS=${BENCH_CLIENTS:-8}      # concurrency of pgbench and wrk alike
DURABLE_CLIENTS=${BENCH_DURABLE_CLIENTS:-16}  # of D and the join measured against it
T=${BENCH_SECONDS:-5}            # seconds per measurement
DATES=${BENCH_DATES:-800}        # dates of 50 seats of the hold concert
HOLDERS=${BENCH_HOLDERS:-10000}  # admitted users of the hold concert
WAITING=${BENCH_WAITING:-40000}  # users in line of the poll concert (also join and pay)
SURGE_USERS=${BENCH_SURGE_USERS:-20000}
SURGE_DATES=${BENCH_SURGE_DATES:-6}
SURGE_REFUNDS=0.1                # share of the surge's buyers who refund after the sell-out
OPENING_USERS=${BENCH_OPENING_USERS:-50000}   # in the pre-queue when the sale opens
OPENING_ARRIVE=${BENCH_OPENING_ARRIVE:-60}    # seconds over which they join
OPENING_LEAD=${BENCH_OPENING_LEAD:-90}        # seconds from the first join to the opening
CATALOGUE_PAST=${BENCH_CATALOGUE_PAST:-4000}  # past concerts before the list is read
# (the sale then has 3 minutes to sell out: 90 s ran out on a slow run of the machine)
PORT=${BENCH_PORT:-18200}
out="$TICKET_VAR/bench"
rm -rf "$out" && mkdir -p "$out"
results="$out/results.tsv"   # section, name, path, calls/s, p50 ms, p99 ms
psql=(psql -X -q -At -v ON_ERROR_STOP=1)
started=$(date +%s)

progress() { printf '[bench %4ss] %s\n' "$(($(date +%s) - started))" "$*" >&2; }
fail() { echo "bench: $*" >&2; exit 1; }
sql() { "${psql[@]}" -c "$1"; }
record() { # section name path rate p50 p99
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"
  progress "$(printf '%-7s %-14s %-9s %9s/s  p50 %7s ms  p99 %7s ms' "$@")"
}

# ---------------------------------------------------------------- data
progress "loading: $HOLDERS admitted users, $DATES dates of 50 seats, $WAITING in line"
"${psql[@]}" -f sql/loaders.sql >/dev/null
"${psql[@]}" -v dates="$DATES" -v holders="$HOLDERS" -v waiting="$WAITING" -f sql/setup.sql >/dev/null
eval "$(sql "SELECT string_agg(format('%s=%s', name, id), ' ') FROM bench.concerts")"
users=$((HOLDERS + WAITING))
sql "\\copy (SELECT key FROM bench.users ORDER BY n) TO '$out/joiners.txt'"
sql "\\copy (SELECT token FROM bench.tokens WHERE concert_id = $queue AND n > $HOLDERS + 100) TO '$out/tokens.txt'"
sql "\\copy (SELECT u.key || ' ' || t.token FROM bench.users u JOIN bench.tokens t ON t.n = u.n AND t.concert_id = $hold ORDER BY u.n) TO '$out/holders.txt'"
sql "\\copy (SELECT on_date FROM bench.dates ORDER BY n) TO '$out/dates.txt'"
sql "\\copy (SELECT key || ' ' || token || ' ' || on_date || ' ' || seat_no FROM bench.holds WHERE concert_id = $hold ORDER BY n) TO '$out/holds.txt'"
planned_holds=$(wc -l <"$out/holds.txt")
pgvars=(-D holders="$HOLDERS" -D waiting="$WAITING" -D dates="$DATES"
        -D hold="$hold" -D queue="$queue" -D join="$join" -D pay="$pay")

# What a run of an operation changed, to check that every call did its work:
# joins made tokens, holds reservations, pays payments (a call that found no
# planned row returns nothing, and pgbench would count it).
work_done() {
  case $1 in
  join) sql "SELECT count(*) FROM ticket.queue_tokens WHERE concert_id = $join" ;;
  insert) sql "SELECT count(*) FROM bench.durable" ;;
  hold) sql "SELECT bench.holds_made($hold)" ;;
  pay)  sql "SELECT count(*) FROM ticket.payments p JOIN ticket.reservations r ON r.id = p.reservation_id WHERE r.concert_id = $pay" ;;
  *)    echo 0 ;;
  esac
}
# Before a run: joins start from an empty queue; holds from the next unused row of
# the plan; pays need holds made (in bulk) for the most this run could pay. The rows
# go to files for wrk.
hold_next=1 pay_next=1
prepare() { # op most-pays
  case $1 in
  join) sql "SELECT bench.reset_joins($join)" >/dev/null
        sql "VACUUM ticket.queue_tokens" >/dev/null ;;  # the last run's rows, gone from the indexes
  hold)
    sql "SELECT setval('bench.next_$hold', $hold_next, false)" >/dev/null
    sql "\\copy (SELECT key || ' ' || token || ' ' || on_date || ' ' || seat_no FROM bench.holds WHERE concert_id = $hold AND n >= $hold_next ORDER BY n) TO '$out/holds.txt'" ;;
  pay)
    local last=$((pay_next + $2 - 1))
    [ "$last" -le "$users" ] || last=$users
    [ "$pay_next" -lt "$last" ] || fail "no user left to pay; raise BENCH_WAITING"
    sql "SELECT bench.make_holds($pay, $pay_next, $last)" >/dev/null
    sql "SELECT setval('bench.next_pay', $pay_next, false)" >/dev/null
    sql "\\copy (SELECT key || ' ' || token || ' ' || reservation_id || ' ' || n FROM bench.holds WHERE concert_id = $pay AND n BETWEEN $pay_next AND $last ORDER BY n) TO '$out/pays.txt'"
    pays_ready=$((last - pay_next + 1)) ;;
  esac
}
# After a run: every answered call did its work (HTTP: a call still in flight at the
# end may have done it too), and no run used up its rows; the next run starts after
# the rows this one may have used.
settle() { # op calls before slack
  case $1 in join|hold|pay|insert) ;; *) return 0 ;; esac
  local done_now; done_now=$(($(work_done "$1") - $3))
  [ "$done_now" -ge "$2" ] && [ "$done_now" -le $(($2 + $4)) ] ||
    fail "$1: $2 calls answered but $done_now did their work (see $out)"
  case $1 in
  hold) hold_next=$((hold_next + done_now + 2 * CLIENTS))
        [ "$hold_next" -le "$planned_holds" ] || fail "hold: ran out of seats; raise BENCH_DATES" ;;
  pay)  [ "$done_now" -lt "$pays_ready" ] || fail "pay: ran out of holds to pay"
        pay_next=$((pay_next + done_now + 2 * CLIENTS)) ;;
  esac
}

# p50 and p99 in ms of a file of latencies in microseconds, one per line.
percentiles() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) exit 1; printf "%.2f %.2f\n", a[int((NR - 1) * 0.5) + 1] / 1000, a[int((NR - 1) * 0.99) + 1] / 1000}'; }

# ---------------------------------------------------------------- 1. ceiling
pgbench_run() { # section name script [extra pgbench options]
  local section=$1 name=$2 script=$3; shift 3
  local log="$out/pgbench-$section-$name.log" before; before=$(work_done "$name")
  pgbench -n -M prepared -j 2 "${pgvars[@]}" -T "$T" "$@" -f "sql/$script.sql" \
    --log --log-prefix="$out/pgbench-tx" >"$log" 2>&1 || fail "pgbench $name failed: $(tail -n 3 "$log")"
  local calls tps p50 p99
  calls=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log")
  read -r p50 p99 < <(cat "$out"/pgbench-tx.* | awk '{print $3}' | percentiles)
  rm -f "$out"/pgbench-tx.*
  settle "$name" "$calls" "$before" 0
  record "$section" "$name" pgbench "$(printf '%.0f' "$tps")" "$p50" "$p99"
}

# A checkpoint before each phase: the loading's WAL must not be flushed in the middle of one.
checkpoint() { sql "CHECKPOINT"; }

ops=(join poll seats hold charge pay)
checkpoint
progress "1/6 ceiling: pgbench, $CLIENTS clients, ${T}s per call"
for op in "${ops[@]}"; do
  prepare "$op" $((4000 * T))
  pgbench_run ceiling "$op" "$op" -c "$CLIENTS"
done
# D and the join at DURABLE_CLIENTS sessions: a join is one durable write, so D is
# its ceiling once it waits for no lock; synchronous_commit is on whatever the
# database's default.
PGOPTIONS="${PGOPTIONS:-} -c synchronous_commit=on" \
  pgbench_run durable insert durable -c "$DURABLE_CLIENTS"
prepare join
pgbench_run durable join join -c "$DURABLE_CLIENTS"

# ---------------------------------------------------------------- 2. HTTP
ms() { awk '{v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[0-9]s$/ && $1 !~ /ms$/) v *= 1000; printf "%.2f", v}'; }
wrk_run() { # section name path script [connections]
  local section=$1 name=$2 path=$3 script=$4 conns=${5:-$CLIENTS}
  local log="$out/wrk-$section-$name-$path.log" before; before=$(work_done "$name")
  JOINERS="$out/joiners.txt" TOKENS="$out/tokens.txt" HOLDERS="$out/holders.txt" DATES="$out/dates.txt" \
  HOLDS="$out/holds.txt" PAYS="$out/pays.txt" CONCERT=${CONCERT:-} CONST_PATH=${CONST_PATH:-} \
  RUN_TAG="$path" WRK_THREADS=1 \
    wrk -t1 -c"$conns" -d"${T}s" --latency -s "wrk/$script.lua" "http://127.0.0.1:$PORT" >"$log" 2>&1 ||
    fail "wrk $name failed: $(tail -n 3 "$log")"
  local rps calls p50 p99 non2xx errors
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$log")
  calls=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$log")
  p50=$(awk '$1 == "50%" {print $2}' "$log" | ms)
  p99=$(awk '$1 == "99%" {print $2}' "$log" | ms)
  non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)/\1/p' "$log")
  errors=$(sed -n 's/^ *Socket errors: *\(.*\)/\1/p' "$log")
  [ -z "$non2xx" ] || fail "$name over $path: $non2xx answers were not 2xx ($log)"
  [ -z "$errors" ] || fail "$name over $path: socket errors $errors ($log)"
  settle "$name" "$calls" "$before" "$conns"
  record "$section" "$name" "$path" "$(printf '%.0f' "$rps")" "$p50" "$p99"
}

trap '../tests/lib/service.sh stop $PORT' EXIT
pay_rate=$(awk -F'\t' '$1 == "ceiling" && $2 == "pay" {print $4}' "$results")
for mode in fastcgi cgi; do
  progress "2/6 HTTP, $mode: lighttpd + $([ $mode = cgi ] && echo 'pgbouncer + ')programs, wrk $CLIENTS connections"
  checkpoint
  SERVE_ARGS='BENCH=1' ../tests/lib/service.sh start "$mode" "$PORT"
  if [ "$mode" = fastcgi ]; then
    CONST_PATH=/_bench/fastcgi/constant wrk_run http constant "$mode" constant
  else
    CONST_PATH=/_bench/cgi/constant_db wrk_run http constant "$mode" constant
  fi
  for op in "${ops[@]}"; do
    # Pays made for half as many again as pgbench managed: HTTP may do more (see docs/bench.md).
    prepare "$op" $(( (pay_rate * 3 / 2 + 100) * T ))
    case $op in join) c=$join ;; seats|hold) c=$hold ;; *) c= ;; esac
    CONCERT=$c wrk_run http "$op" "$mode" "$op"
  done
  if [ "$mode" = fastcgi ]; then
    CONST_PATH=/_bench/fastcgi/constant wrk_run durable constant "$mode" constant "$DURABLE_CLIENTS"
    prepare join
    CONCERT=$join wrk_run durable join "$mode" join "$DURABLE_CLIENTS"
  fi
  ../tests/lib/service.sh stop "$PORT"
done

# ---------------------------------------------------------------- 3. growth
progress "3/6 growth: loading queues of 1k, 100k and 1M waiting tokens and 10k dates (about a minute)"
"${psql[@]}" -f sql/growth.sql >/dev/null
checkpoint
# A second unrecorded first: a fresh backend's first calls and the first writes after
# the checkpoint are not what the growth is about.
warm() { pgbench -n -M prepared -c 4 -j 2 -T 1 -R "$1" -f "sql/$2.sql" "${@:3}" >/dev/null 2>&1 || fail "pgbench $2 (warm-up) failed"; }
for g in "waiting 1k" "waiting 100k" "waiting 1M" "dates 10k"; do
  id=$(sql "SELECT bench.concert_id('$g')")
  case $g in waiting*) warm 500 growth_poll -D queue="$id" ;; esac
  warm 80 hold -D hold="$id"
  case $g in
  waiting*) pgbench_run growth "poll ${g#waiting }" growth_poll -c 4 -R 500 -D queue="$id"
            pgbench_run growth "hold ${g#waiting }" hold -c 4 -R 80 -D hold="$id" ;;
  *)        pgbench_run growth "hold $g" hold -c 4 -R 80 -D hold="$id" ;;
  esac
done

# ---------------------------------------------------------------- 4. surge
# A sale that breaks its rules fails the bench, after the other sale and the report.
broken=()
progress "4/6 surge: $SURGE_USERS users join within 5 s for $((SURGE_DATES * 50)) seats, then a refund wave"
"${psql[@]}" -v dates="$SURGE_DATES" -f sql/surge.sql >/dev/null
surge=$(sql "SELECT bench.concert_id('surge')")
checkpoint
sql "\\copy (SELECT key FROM bench.users WHERE n <= $SURGE_USERS ORDER BY n) TO '$out/surge-users.txt'"
SERVE_ARGS='BENCH=1' ../tests/lib/service.sh start fastcgi "$PORT"
"$TICKET_BUILD/bench/surge" --url "http://127.0.0.1:$PORT" --concert "$surge" --users "$out/surge-users.txt" \
  --count "$SURGE_USERS" --arrive 5 --seats $((SURGE_DATES * 50)) --refunds "$SURGE_REFUNDS" \
  >"$out/surge.json" 2> >(tee "$out/surge.log" >&2)
../tests/lib/service.sh stop "$PORT"
"${psql[@]}" -v surge="$surge" -f sql/surge_check.sql >"$out/surge-db.json"
# The sale's rules, judged on what the driver saw and what the database holds.
jq -e --slurpfile db "$out/surge-db.json" --argjson seats $((SURGE_DATES * 50)) '
  $db[0] as $d | .refund_wave as $w |
  [ (select(.unexpected_errors != 0) | "\(.unexpected_errors) unexpected errors (see surge.log)"),
    (select(.stopped_by != "refunds_resold") | "the surge stopped by \(.stopped_by), not when the refunded seats were sold again"),
    (select($d.seats_sold != $seats or $d.payments_kept != $seats)
      | "\($d.seats_sold) seats sold and \($d.payments_kept) payments kept, not \($seats)"),
    (select($w == null or $w.refunds == 0 or $d.refunds != $w.refunds or $w.refunded != $w.refunds)
      | "refunds: \($w.refunds // 0) asked, \($w.refunded // 0) answered, \($d.refunds) in the database"),
    (select($d.refunded_seats_not_sold_again != 0) | "\($d.refunded_seats_not_sold_again) refunded seats not sold again"),
    (select($d.resales != $d.refunds or $d.resales_to_first_of_list != $d.refunds)
      | "\($d.resales) seats sold after the first refund, \($d.resales_to_first_of_list) of them to the first \($d.refunds) on the waiting list"),
    (select($d.books.difference != 0) | "admin.books() is \($d.books.difference) won off"),
    (select($d.invariant_violations != 0) | "\($d.invariant_violations) invariants broken: \($d.invariants_broken | tojson)")
  ] | if length == 0 then true else (map("bench: surge: " + .) | join("\n") + "\n" | halt_error(1)) end
' "$out/surge.json" >/dev/null || broken+=(surge)

# ---------------------------------------------------------------- 5. opening
progress "5/6 opening: $OPENING_USERS users join a pre-queue over ${OPENING_ARRIVE} s, the sale opens at ${OPENING_LEAD} s"
[ "$OPENING_USERS" -le "$users" ] || fail "opening: $OPENING_USERS users wanted, $users loaded; raise BENCH_WAITING"
sql "\\copy (SELECT key FROM bench.users WHERE n <= $OPENING_USERS ORDER BY n) TO '$out/opening-users.txt'"
checkpoint
SERVE_ARGS='BENCH=1' ../tests/lib/service.sh start fastcgi "$PORT"
"${psql[@]}" -v dates="$SURGE_DATES" -v lead="$OPENING_LEAD" -f sql/opening.sql >/dev/null
opening=$(sql "SELECT bench.concert_id('opening')")
opens_at=$(sql "SELECT extract(epoch FROM sale_opens_at) FROM ticket.concerts WHERE id = $opening")
"$TICKET_BUILD/bench/surge" --url "http://127.0.0.1:$PORT" --concert "$opening" --users "$out/opening-users.txt" \
  --count "$OPENING_USERS" --arrive "$OPENING_ARRIVE" --seats $((SURGE_DATES * 50)) --opens-at "$opens_at" \
  --max-seconds $((OPENING_LEAD + 180)) >"$out/opening.json" 2> >(tee "$out/opening.log" >&2)
../tests/lib/service.sh stop "$PORT"
"${psql[@]}" -v surge="$opening" -f sql/surge_check.sql >"$out/opening-db.json"
# How the database placed the pre-queue: when (the first call after sale_opens_at), how many, how long.
sql "SELECT json_build_object('opened_after_s', round(extract(epoch FROM opened_at - sale_opens_at), 3),
       'entries', shuffle_entries, 'shuffle_ms', shuffle_ms) FROM admin.queue_report($opening)" >"$out/opening-placed.json"
jq -e --slurpfile db "$out/opening-db.json" --slurpfile placed "$out/opening-placed.json" \
  --argjson seats $((SURGE_DATES * 50)) --argjson users "$OPENING_USERS" '
  $db[0] as $d | $placed[0] as $p | .opening as $o |
  [ (select(.unexpected_errors != 0) | "\(.unexpected_errors) unexpected errors (see opening.log)"),
    (select(.stopped_by != "sold_out") | "the opening stopped by \(.stopped_by), not at the sell-out"),
    (select($o.pre_queued != $users)
      | "\($o.pre_queued) of \($users) joined the pre-queue (\($o.joined_after_opening) after the opening: raise BENCH_OPENING_LEAD)"),
    (select($o.placed != $o.pre_queued) | "\($o.placed) of \($o.pre_queued) in the pre-queue saw a place in line"),
    (select($p.entries != $users) | "the database placed \($p.entries) entries, not \($users)"),
    (select($d.seats_sold != $seats or $d.payments_kept != $seats)
      | "\($d.seats_sold) seats sold and \($d.payments_kept) payments kept, not \($seats)"),
    (select($d.books.difference != 0) | "admin.books() is \($d.books.difference) won off"),
    (select($d.invariant_violations != 0) | "\($d.invariant_violations) invariants broken: \($d.invariants_broken | tojson)")
  ] | if length == 0 then true else (map("bench: opening: " + .) | join("\n") + "\n" | halt_error(1)) end
' "$out/opening.json" >/dev/null || broken+=(opening)

# ---------------------------------------------------------------- 6. catalogue
progress "6/6 catalogue: $CATALOGUE_PAST past concerts, then the list with and without status="
"${psql[@]}" -v past="$CATALOGUE_PAST" -f sql/catalogue.sql >/dev/null
checkpoint
pgbench_run catalogue all list_all -c "$CLIENTS"
pgbench_run catalogue current list_current -c "$CLIENTS"
pgbench_run catalogue metrics metrics -c 1  # one scraper
pgbench_run catalogue audit audit -c 1      # pg_cron's, once a minute
pgbench_run catalogue audit_all audit_all -c 1  # pg_cron's, nightly
sql "SELECT json_build_object('past', $CATALOGUE_PAST,
       'all_bytes', length((api.list_concerts()).body::text),
       'current_bytes', length((api.list_concerts('{UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT}')).body::text),
       'metrics_bytes', length((api.metrics()).body::text),
       'audit_rows', json_build_object('tokens', (SELECT count(*) FROM ticket.queue_tokens),
                                       'users', (SELECT count(*) FROM ticket.users),
                                       'ledger', (SELECT count(*) FROM ticket.ledger)))" >"$out/catalogue.json"

# ---------------------------------------------------------------- report
elapsed=$(($(date +%s) - started))
machine="$(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(sql 'SELECT version()' | cut -d, -f1)"
jq -n --rawfile tsv "$results" --slurpfile surge "$out/surge.json" \
  --arg machine "$machine" --arg date "$(date -u +%FT%TZ)" --argjson clients "$CLIENTS" --argjson seconds "$T" \
  --slurpfile opening "$out/opening.json" --slurpfile opening_db "$out/opening-db.json" \
  --slurpfile placed "$out/opening-placed.json" --slurpfile catalogue "$out/catalogue.json" \
  --argjson elapsed "$elapsed" --argjson durable_clients "$DURABLE_CLIENTS" --slurpfile db "$out/surge-db.json" '
  def rows: $tsv | split("\n") | map(select(length > 0) | split("\t")
    | {section: .[0], name: .[1], path: .[2], calls_per_s: (.[3] | tonumber), p50_ms: (.[4] | tonumber), p99_ms: (.[5] | tonumber)});
  def main: rows | map(select(.section == "ceiling" or .section == "http"));
  def rate($n; $p): (main | map(select(.name == $n and .path == $p)) | first | .calls_per_s) // null;
  def durable($n; $p): (rows | map(select(.section == "durable" and .name == $n and .path == $p)) | first) // null;
  def r2: . * 100 | round / 100;
  def growth($op): rows | map(select(.section == "growth" and (.name | startswith($op))));
  (rate("constant"; "fastcgi")) as $h | (rate("constant"; "cgi")) as $b |
  {machine: $machine, date: $date, clients: $clients, seconds_per_run: $seconds, elapsed_s: $elapsed,
   H_fastcgi_constant: $h, B_cgi_libpq_constant: $b,
   operations: ([rows[] | select(.section == "ceiling") | .name] | map(. as $op |
     (rate($op; "pgbench")) as $p | (rate($op; "fastcgi")) as $f | (rate($op; "cgi")) as $c |
     (1 / (1 / $h + 1 / $p)) as $l |
     {operation: $op, P: $p, L: ($l | round), fastcgi: $f, fastcgi_over_L: (($f / $l * 100 | round) / 100),
      fastcgi_over_P: (($f / $p * 100 | round) / 100), cgi: $c, cgi_over_B: (($c / $b * 100 | round) / 100),
      cgi_over_P: (($c / $p * 100 | round) / 100),
      latency_ms: (main | map(select(.name == $op)) | map({(.path): {p50: .p50_ms, p99: .p99_ms}}) | add)})),
   durable: (durable("insert"; "pgbench") as $d | durable("join"; "pgbench") as $j |
     durable("join"; "fastcgi") as $f | durable("constant"; "fastcgi").calls_per_s as $h16 |
     (1 / (1 / $h16 + 1 / $j.calls_per_s)) as $l16 |
     {clients: $durable_clients, D: $d.calls_per_s, D_latency_ms: {p50: $d.p50_ms, p99: $d.p99_ms},
      join_P: $j.calls_per_s, join_latency_ms: {p50: $j.p50_ms, p99: $j.p99_ms},
      join_over_D: ($j.calls_per_s / $d.calls_per_s | r2),
      H: $h16, join_L: ($l16 | round), join_fastcgi: $f.calls_per_s,
      join_fastcgi_latency_ms: {p50: $f.p50_ms, p99: $f.p99_ms},
      join_fastcgi_over_L: ($f.calls_per_s / $l16 | r2)}),
   growth: {runs: [rows[] | select(.section == "growth")],
            poll_p50_ratio: (growth("poll") | (map(.p50_ms) | max) / (map(.p50_ms) | min) * 100 | round / 100),
            hold_p50_ratio: (growth("hold") | (map(.p50_ms) | max) / (map(.p50_ms) | min) * 100 | round / 100)},
   surge: ($surge[0] + {database: $db[0]}),
   opening: ($opening[0] + {database: ($opening_db[0] + {placement: $placed[0]})}),
   catalogue: (rows | map(select(.section == "catalogue")) as $c | ($c | map(select(.name == "all")) | first) as $a |
     ($c | map(select(.name == "current")) | first) as $n |
     $catalogue[0] + {all: $a, current: $n, current_over_all: ($n.calls_per_s / $a.calls_per_s | r2),
                      metrics: ($c | map(select(.name == "metrics")) | first),
                      audit: ($c | map(select(.name == "audit")) | first),
                      audit_all: ($c | map(select(.name == "audit_all")) | first)})}' \
  >"$out/results.json"

jq -r '
  def pad($n): tostring | if length < $n then (" " * ($n - length)) + . else . end;
  def row: map(pad(11)) | join(" ");
  "\nmake bench on \(.machine), \(.clients) clients, \(.seconds_per_run) s per run, \(.elapsed_s) s in all",
  "H (FastCGI constant) \(.H_fastcgi_constant)/s, B (CGI + libpq, constant, via pgbouncer) \(.B_cgi_libpq_constant)/s\n",
  (["operation", "P pgbench", "L", "FastCGI", "of L", "CGI", "of B", "p99 ms"] | row),
  (.operations[] | [.operation, .P, .L, .fastcgi, .fastcgi_over_L, .cgi, .cgi_over_B, .latency_ms.fastcgi.p99] | row),
  "(calls/s; p99 of FastCGI)",
  (.durable | "\nD, durable one-row INSERT, \(.clients) clients: \(.D)/s (p50 \(.D_latency_ms.p50) ms); join (api.issue_token, fresh users) \(.join_P)/s: join/D \(.join_over_D)",
    "  FastCGI join at \(.clients) connections \(.join_fastcgi)/s, L \(.join_L) (H \(.H)/s): of L \(.join_fastcgi_over_L), p99 \(.join_fastcgi_latency_ms.p99) ms"),
  "\ngrowth (pgbench at a fixed rate, 4 clients), p50 / p99 ms:",
  (.growth.runs[] | "  \(.name | . + " " * (16 - length)) \(.p50_ms) / \(.p99_ms)"),
  "  largest/smallest p50: poll \(.growth.poll_p50_ratio), hold \(.growth.hold_p50_ratio)",
  "\nsurge: \(.surge.users) users, \(.surge.outcomes.bought) bought, sold out after \(.surge.sold_out_after_s) s, \(.surge.seats_per_second) seats/s, unexpected errors \(.surge.unexpected_errors)",
  "  p99 ms: " + ([.surge.calls | to_entries[] | "\(.key) \(.value.p99_ms)"] | join(", ")),
  (.surge.refund_wave | "  refund wave from \(.started_s) s: \(.refunded) of \(.refunds) buyers refunded, \(.resold) seats sold again to the waiting list (\(.waiting_list_at_start) long) by \(.last_resale_s) s",
    "    refund to resale p50 \(.resale_p50_s) s, p99 \(.resale_p99_s) s; \(.polls) polls meanwhile, p50 \(.poll_p50_ms) ms, p99 \(.poll_p99_ms) ms"),
  (.surge.database | "  database: \(.seats_sold) seats sold = \(.payments_kept) payments not refunded, \(.refunds) refunds (fees \(.fees_won) won), resold to the first \(.resales_to_first_of_list) on the waiting list; books off by \(.books.difference) won, \(.invariant_violations) invariants broken"),
  (.opening | "\nopening: \(.opening.pre_queued) users in the pre-queue (joined over \(.arrive_s) s, join p99 \(.calls.join.p99_ms) ms); the sale opened at \(.opening.opens_at_s) s",
    "  every one saw a place in line by \(.opening.placed_max_s) s after the opening (p50 \(.opening.placed_p50_s) s, p99 \(.opening.placed_p99_s) s)",
    "  sold out \(.opening.sold_out_after_opening_s) s after the opening, \(.seats_per_second) seats/s; polls after the opening p99 \(.opening.poll_p99_ms) ms (all polls \(.calls.poll.p99_ms) ms); unexpected errors \(.unexpected_errors)",
    (.database | "  database: placed \(.placement.entries) entries in \(.placement.shuffle_ms) ms, \(.placement.opened_after_s) s after sale_opens_at (at the first call after it)",
      "    \(.seats_sold) seats sold = \(.payments_kept) payments; books off by \(.books.difference) won, \(.invariant_violations) invariants broken")),
  (.catalogue | "\ncatalogue: \(.past) past concerts, then the concert list (pgbench, calls/s, p50 ms, bytes a call):",
    "  GET /api/concerts (every concert)              \(.all.calls_per_s)/s, p50 \(.all.p50_ms) ms, \(.all_bytes) bytes",
    "  ?status=UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT    \(.current.calls_per_s)/s, p50 \(.current.p50_ms) ms, \(.current_bytes) bytes: \(.current_over_all) times as many calls",
    "  GET /api/metrics, one scraper                  \(.metrics.calls_per_s)/s, p50 \(.metrics.p50_ms) ms, \(.metrics_bytes) bytes",
    "  the invariant audit of every row (nightly)    p50 \(.audit_all.p50_ms) ms (\(.audit_rows.tokens) tokens, \(.audit_rows.users) users, \(.audit_rows.ledger) ledger rows)",
    "  the minute'"'"'s (what changed in the last day)  p50 \(.audit.p50_ms) ms"),
  "\nresults: '"$out"'/results.json"' "$out/results.json"
[ ${#broken[@]} -eq 0 ] || fail "the sale's rules were broken in: ${broken[*]} (see above)"
