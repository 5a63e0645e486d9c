#!/usr/bin/env bash
# make bench TOPOLOGY=sharded: what the proxy's hop costs, measured in one run against
# one database (the fresh cluster make bench gives) and the sharded topology
# (scripts/topology.sh, on its own ports), both loaded alike through the API.
#
#   1. hop      one call at a time (pgbench, 1 client): p50/p99 of each call on one
#               database and through the proxy; hop = proxy p50 - one database's p50.
#               Joins (fresh users) and hold + pay (a seat of their own each) likewise,
#               a fixed number of them, with each statement's average.
#               Then the poll taken apart on the proxy and on its partition, to see
#               where the hop goes.
#   2. load     the poll and the seat map at BENCH_SHARD_CLIENTS clients, both ways
#   3. standby  the poll of the farthest-back token; for it and the load runs, the
#               share of the proxy's calls the concert standbys answered
#               (pg_stat_user_functions on them)
#   4. sale     two sales at once over HTTP (lighttpd + FastCGI against the proxy), one
#               on each concert partition (bench/programs/surge each), then
#               admin.check_invariants() on the proxy
#
# Run by `make bench TOPOLOGY=sharded` with a fresh migrated database (PG* env,
# TICKET_VAR, TICKET_ROOT, TICKET_BUILD). Prints a table; every figure is in
# $TICKET_VAR/bench/results.json.
set -euo pipefail
cd "$(dirname "$0")"
T=${BENCH_SECONDS:-5}                          # seconds per pgbench run
CLIENTS=${BENCH_SHARD_CLIENTS:-16}             # of the load runs
LINE=${BENCH_SHARD_LINE:-2000}                 # in line for the poll concert
ADMITTED=${BENCH_SHARD_ADMITTED:-100}          # admitted to the seats concert
JOINS=${BENCH_SHARD_JOINS:-500}                # joins timed, one at a time (at most LINE)
PAYS=${BENCH_SHARD_PAYS:-300}                  # holds then payments timed, likewise
SALE_USERS=${BENCH_SHARD_SALE_USERS:-400}      # per sale concert
SALE_DATES=${BENCH_SHARD_SALE_DATES:-2}        # of 50 seats, per sale concert
SALE_ARRIVE=${BENCH_SHARD_SALE_ARRIVE:-5}      # seconds over which a sale's users join
NODE_PORT=${BENCH_TOPOLOGY_PGPORT:-55450}      # the topology's first node, the others follow
BOUNCER_PORT=${BENCH_TOPOLOGY_BOUNCER_PORT:-6450}
PORT=${BENCH_PORT:-18200}                      # HTTP, for the sale
HOP_TARGET_MS=0.3
out="$TICKET_VAR/bench"
# Not under TICKET_VAR, which the next run's fresh cluster removes before this
# script could stop what an interrupted run left running there.
shard="$(dirname "$TICKET_VAR")/bench-topology"
rm -rf "$out" && mkdir -p "$out"
results="$out/results.tsv"   # section, name, target, calls/s, p50 ms, p99 ms
started=$(date +%s)

progress() { printf '[bench %4ss] %s\n' "$(($(date +%s) - started))" "$*" >&2; }
fail() { echo "bench: $*" >&2; exit 1; }
record() { # section name target rate p50 p99
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"
  progress "$(printf '%-7s %-12s %-16s %8s/s  p50 %6s ms  p99 %6s ms' "$@")"
}
topology() {
  VAR=$shard TOPOLOGY_PGPORT=$NODE_PORT TOPOLOGY_BOUNCER_PORT=$BOUNCER_PORT "$TICKET_ROOT/scripts/topology.sh" "$@"
}
# q URL SQL: one value per line.
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
{ [ "$JOINS" -le "$LINE" ] && [ "$PAYS" -le "$LINE" ]; } || fail "BENCH_SHARD_JOINS and _PAYS are at most BENCH_SHARD_LINE"
[ "$SALE_USERS" -gt $((SALE_DATES * 50)) ] || fail "a sale sells out only with more users than seats: raise BENCH_SHARD_SALE_USERS"

single=$TICKET_DBURL
topology down >/dev/null 2>&1 || :
rm -rf -- "$shard"
# The web side runs against the proxy, with its pid file and logs in the proxy's folder.
service() { TICKET_VAR=$shard/nodes/proxy PGPORT=$NODE_PORT "$TICKET_ROOT/tests/lib/service.sh" "$@"; }
trap 'service stop "$PORT"; topology down >/dev/null 2>&1 || :' EXIT
progress "topology: starting 7 nodes from port $NODE_PORT (pgbouncers from $BOUNCER_PORT)"
topology up >"$out/topology-up.log" 2>&1 || fail "topology up failed: $(tail -n 5 "$out/topology-up.log")"
proxy=$(topology url proxy)
declare -A node_url
while read -r name _ _ url; do node_url[$name]=$url; done < <(topology nodes)
concert_parts=$(topology nodes | awk '$2 == "primary" && $3 ~ /^concerts\//' | wc -l)
# The node of the concert partition that holds concert ID.
concert_node() { echo "concerts-$(($1 & (concert_parts - 1)))"; }
bouncer_url() { # NODE: as PL/Proxy reaches it (scripts/topology.sh's bouncer_url)
  local i; i=$(topology nodes | awk -v n="$1" '$1 == n {print NR - 1}')
  echo "host=$shard/nodes/$1/run port=$((BOUNCER_PORT + i)) dbname=ticket user=ticket_owner"
}

# ---------------------------------------------------------------- data
progress "loading, on one database and through the proxy alike: $((LINE + 2 * SALE_USERS)) users, a line of $LINE, $ADMITTED admitted"
for target in single proxy; do
  url=${!target}
  psql -X -q -v ON_ERROR_STOP=1 -d "$url" -v line="$LINE" -v admitted="$ADMITTED" -v sale_users="$SALE_USERS" \
    -v sale_dates="$SALE_DATES" -v pays="$PAYS" -f sql/sharded_setup.sql >/dev/null || fail "loading $target failed"
  # Turns and waits longer than the bench, as bench.concert sets them (admin.set_queue is
  # not routed: on the node that holds the concert).
  for c in poll seats join pay; do
    id=$(q "$url" "SELECT id FROM bench.concerts WHERE name = '$c'")
    at=$url; [ "$target" = single ] || at=${node_url[$(concert_node "$id")]}
    q "$at" "SELECT admin.set_queue($id, p_active_minutes => 240, p_idle_seconds => 3600)" >/dev/null
  done
  psql -X -q -v ON_ERROR_STOP=1 -d "$url" -v line="$LINE" -v admitted="$ADMITTED" -v pays="$PAYS" \
    -f sql/sharded_line.sql >/dev/null || fail "joining the lines on $target failed"
done
psql -X -q -v ON_ERROR_STOP=1 -d "$proxy" -f sql/sharded_variants.sql >/dev/null

# The same call on both: its arguments, per target, as pgbench -D options.
declare -A args sale_id
for target in single proxy; do
  url=${!target}
  read -r poll seats sale_a sale_b join pay < <(q "$url" "SELECT string_agg(id::text, ' '
    ORDER BY array_position(ARRAY['poll', 'seats', 'sale_a', 'sale_b', 'join', 'pay'], name)) FROM bench.concerts")
  front=$(q "$url" "SELECT token FROM bench.tokens WHERE concert = 'poll' AND n = 2")
  back=$(q "$url" "SELECT token FROM bench.tokens WHERE concert = 'poll' AND n = $LINE")
  key=$(q "$url" "SELECT key FROM bench.users WHERE n = 1")
  seat_token=$(q "$url" "SELECT token FROM bench.tokens WHERE concert = 'seats' AND n = 1")
  on_date=$(q "$url" "SELECT on_date FROM bench.seat_date")
  args[$target:poll]="-D token=$front"
  args[$target:poll_back]="-D token=$back"
  args[$target:get_concert]="-D concert=$poll"
  args[$target:get_wallet]="-D key=$key"
  args[$target:seat_map]="-D key=$key -D token=$seat_token -D concert=$seats -D on_date=$on_date"
  args[$target:poll_line]="-D line=$LINE"
  args[$target:join]="-D concert=$join"
  args[$target:pay]="-D concert=$pay"
  args[$target:seat_map_admitted]="-D admitted=$ADMITTED -D concert=$seats -D on_date=$on_date"
  if [ "$target" = proxy ]; then
    [ $(((sale_a ^ sale_b) & (concert_parts - 1))) -ne 0 ] ||
      fail "the two sale concerts ($sale_a, $sale_b) are on the same partition"
    proxy_poll=$poll proxy_front=$front sale_id=([a]=$sale_a [b]=$sale_b)
  fi
done
# Each call answers 200 on both before it is timed: pgbench counts any answer.
for target in single proxy; do
  url=${!target}
  for call in poll poll_back get_concert get_wallet seat_map; do
    file=sql/sharded/${call%_back}.sql
    sqltext=$(sed -e 's/^\\set.*//' "$file")
    for d in ${args[$target:$call]}; do
      [ "$d" = -D ] && continue
      sqltext=${sqltext//:${d%%=*}/\'${d#*=}\'}
    done
    got=$(q "$url" "SELECT status FROM (${sqltext%;}) r")
    [ "$got" = 200 ] || fail "$call on $target answered $got, not 200"
  done
done

# ---------------------------------------------------------------- runs
# p50 and p99 in ms of a file of latencies in microseconds, one per line.
percentiles() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) exit 1; printf "%.3f %.3f\n", a[int((NR - 1) * 0.5) + 1] / 1000, a[int((NR - 1) * 0.99) + 1] / 1000}'; }
# Runs last -T BENCH_SECONDS, or as many transactions as LENGTH says (-t N).
pgbench_run() { # section name target url script clients [pgbench options]
  local section=$1 name=$2 target=$3 url=$4 script=$5 clients=$6; shift 6
  local log="$out/pgbench-$section-$name-$target.log" tps p50 p99
  # shellcheck disable=SC2086 # the -D options are words
  pgbench -n -M prepared -r -c "$clients" -j "$(( clients < 2 ? 1 : 2 ))" ${LENGTH:--T $T} "$@" \
    -f "sql/sharded/$script.sql" --log --log-prefix="$out/pgbench-tx" "$url" >"$log" 2>&1 ||
    fail "pgbench $name on $target failed: $(tail -n 3 "$log")"
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log")
  read -r p50 p99 < <(cat "$out"/pgbench-tx.* | awk '{print $3}' | percentiles)
  rm -f "$out"/pgbench-tx.*
  record "$section" "$name" "$target" "$(printf '%.0f' "$tps")" "$p50" "$p99"
}
# The average of the statement of a run's log that calls api.FUNCTION (pgbench -r), in ms.
statement_avg() { # log function
  awk -v f="api.$2(" 'index($0, f) && $1 ~ /^[0-9.]+$/ {print $1; exit}' "$1"
}
# A second unrecorded first: the proxy's first calls open its connections to the partitions.
warm() { pgbench -n -M prepared -c "$2" -T 1 "${@:4}" -f "sql/sharded/$3.sql" "$1" >/dev/null 2>&1 || fail "warm-up of $3 failed"; }

# The load's aftermath (autovacuum, dirty buffers, WAL to replay) would otherwise share
# the two cores with the first runs: vacuumed, checkpointed and replayed before them.
progress "settling: VACUUM ANALYZE and CHECKPOINT on every node, the standbys caught up"
for url in "$single" "${node_url[@]}"; do
  [ "$(q "$url" 'SELECT pg_is_in_recovery()')" = t ] && continue
  q "$url" 'VACUUM (ANALYZE)' >/dev/null
  q "$url" 'CHECKPOINT' >/dev/null
done
for n in "${!node_url[@]}"; do
  case $n in concerts-*-standby) ;; *) continue ;; esac
  lsn=$(q "${node_url[${n%-standby}]}" 'SELECT pg_current_wal_lsn()')
  for _ in $(seq 100); do
    [ "$(q "${node_url[$n]}" "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && break
    sleep 0.1
  done
done

progress "1/4 hop: each call alone (pgbench, 1 client, ${T}s), on one database and through the proxy"
for call in poll get_concert get_wallet seat_map; do
  for target in single proxy; do
    # shellcheck disable=SC2086
    warm "${!target}" 1 "$call" ${args[$target:$call]}
    # shellcheck disable=SC2086
    pgbench_run hop "$call" "$target" "${!target}" "$call" 1 ${args[$target:$call]}
  done
done
# Writes: each a fresh user's join, then a hold and its payment; no warm-up (each
# user joins and pays once), the proxy's connections are open by now.
for target in single proxy; do
  # shellcheck disable=SC2086
  LENGTH="-t $JOINS" pgbench_run hop join "$target" "${!target}" join 1 ${args[$target:join]}
  # shellcheck disable=SC2086
  LENGTH="-t $PAYS" pgbench_run hop hold_pay "$target" "${!target}" pay 1 ${args[$target:pay]}
  for f in issue_token hold_seat pay_reservation; do
    case $f in issue_token) log='join' ;; *) log='hold_pay' ;; esac
    a=$(statement_avg "$out/pgbench-hop-$log-$target.log" "$f")
    [ -n "$a" ] || fail "no average of api.$f in $out/pgbench-hop-$log-$target.log"
    record avg "$f" "$target" 0 "$a" "$a"
  done
done
# Where a routed poll's time goes: the wrapper without its EXCEPTION block, without
# SECURITY DEFINER and SET search_path, PL/Proxy alone; and the partition's own
# api.queue_status through its pgbouncer (as PL/Proxy reaches it) and on its socket.
part=$(concert_node "$proxy_poll")
for v in "poll_noexc proxy" "poll_plain proxy" "poll_route proxy" "poll partition-bouncer" "poll partition"; do
  read -r script where <<<"$v"
  case $where in
    proxy) url=$proxy ;;
    partition-bouncer) url=$(bouncer_url "$part") ;;
    partition) url=${node_url[$part]} ;;
  esac
  warm "$url" 1 "$script" -D token="$proxy_front"
  pgbench_run parts "$script" "$where" "$url" "$script" 1 -D token="$proxy_front"
done

# ---------------------------------------------------------------- standby hook
# The reads standby reads are to take off the concert primaries: polls, seat maps. The
# share the concert standbys answered in a run through the proxy is what the primaries
# did not: the run's calls less the calls of api.FUNCTION on the concert primaries
# (pg_stat_user_functions), over the run's calls. A standby's refusal is an answer too,
# so its own counts cannot tell a served call from a refused one.
# A backend publishes its counts at most once a second while busy, and within a second
# of going idle (PL/Proxy's connections stay open): a run's are read 2 s after it.
calls_on() { # node function
  q "${node_url[$1]}" "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions
                       WHERE schemaname = 'api' AND funcname = '$2'"
}
primary_calls() { # function
  local n sum=0
  for n in "${!node_url[@]}"; do
    case $n in concerts-*-standby) ;; concerts-*) sum=$((sum + $(calls_on "$n" "$1"))) ;; esac
  done
  echo "$sum"
}
for n in "${!node_url[@]}"; do
  case $n in concerts-*-standby) continue ;; concerts-*) ;; *) continue ;; esac
  q "${node_url[$n]}" "ALTER SYSTEM SET track_functions = 'pl'" >/dev/null   # the owner is the superuser
  q "${node_url[$n]}" "SELECT pg_reload_conf()" >/dev/null
done
# proxy_run section name script clients function [options]: pgbench_run through the
# proxy, with the standbys' share of FUNCTION's calls in standby.tsv.
proxy_run() {
  local section=$1 name=$2 script=$3 clients=$4 fn=$5 before calls; shift 5
  before=$(primary_calls "$fn")
  pgbench_run "$section" "$name" proxy "$proxy" "$script" "$clients" "$@"
  sleep 2
  calls=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out/pgbench-$section-$name-proxy.log")
  printf '%s\t%s\t%s\t%s\n' "$name" "$fn" "$calls" "$((calls - ($(primary_calls "$fn") - before)))" >>"$out/standby.tsv"
}

progress "2/4 load: the poll and the seat map at $CLIENTS clients"
for call in poll_line seat_map_admitted; do
  fn=queue_status; [ "$call" = poll_line ] || fn=seat_map
  # shellcheck disable=SC2086
  warm "$single" "$CLIENTS" "$call" ${args[single:$call]}
  # shellcheck disable=SC2086
  pgbench_run load "$call" single "$single" "$call" "$CLIENTS" ${args[single:$call]}
  # shellcheck disable=SC2086
  warm "$proxy" "$CLIENTS" "$call" ${args[proxy:$call]}
  # shellcheck disable=SC2086
  proxy_run load "$call" "$call" "$CLIENTS" "$fn" ${args[proxy:$call]}
done

# The poll of the farthest-back token, one at a time: the call standby reads are for.
progress "3/4 standby: the poll of the farthest-back token (position $((LINE - 1))), 1 client"
# shellcheck disable=SC2086
warm "$single" 1 poll ${args[single:poll_back]}
# shellcheck disable=SC2086
pgbench_run standby poll_back single "$single" poll 1 ${args[single:poll_back]}
# shellcheck disable=SC2086
warm "$proxy" 1 poll ${args[proxy:poll_back]}
# shellcheck disable=SC2086
proxy_run standby poll_back poll 1 queue_status ${args[proxy:poll_back]}

# The hook must be able to count: a call made on each concert primary shows there.
for s in a b; do
  id=${sale_id[$s]} node=$(concert_node "${sale_id[$s]}")
  before=$(calls_on "$node" get_concert)
  [ "$(q "${node_url[$node]}" "SELECT (api.get_concert($id)).status")" = 200 ] || fail "get_concert($id) on $node did not answer 200"
  poll_count() { [ "$(calls_on "$node" get_concert)" -eq $((before + 1)) ]; }
  for _ in $(seq 50); do poll_count && break; sleep 0.1; done
  poll_count ||
    fail "pg_stat_user_functions on $node did not count a call: the standbys' share would read all calls whatever they serve"
done

# ---------------------------------------------------------------- sale
progress "4/4 sale: two sales at once through the proxy over HTTP, $SALE_USERS users and $((SALE_DATES * 50)) seats each"
q "$proxy" "\\copy (SELECT key FROM bench.users WHERE n > $LINE AND n <= $LINE + $SALE_USERS ORDER BY n) TO '$out/sale-a-users.txt'"
q "$proxy" "\\copy (SELECT key FROM bench.users WHERE n > $LINE + $SALE_USERS ORDER BY n) TO '$out/sale-b-users.txt'"
# The web side against the proxy, as scripts/topology.sh serve starts it.
service start fastcgi "$PORT"
sale_started=$(date +%s.%N)
pids=()
for s in a b; do
  "$TICKET_BUILD/bench/surge" --url "http://127.0.0.1:$PORT" --concert "${sale_id[$s]}" --users "$out/sale-$s-users.txt" \
    --count "$SALE_USERS" --arrive "$SALE_ARRIVE" --seats $((SALE_DATES * 50)) --connections 64 \
    >"$out/sale-$s.json" 2>"$out/sale-$s.log" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a sale's driver failed (see $out/sale-*.log)"; done
sale_s=$(awk -v a="$sale_started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')
service stop "$PORT"
q "$proxy" "SELECT coalesce(json_agg(i), '[]') FROM admin.check_invariants() i" >"$out/sale-invariants.json"
for s in a b; do
  id=${sale_id[$s]}
  q "${node_url[$(concert_node "$id")]}" "SELECT json_build_object('concert_id', $id, 'node', '$(concert_node "$id")',
    'seats_sold', count(*) FILTER (WHERE s.sold), 'seats', count(*))
    FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id WHERE d.concert_id = $id" >"$out/sale-$s-db.json"
done

# ---------------------------------------------------------------- report
# The capacity model's load (docs/scale.md): a million in line polling at the pace
# ticket.retry_after sets (the concerts' default idle_seconds, 120), split into the
# positions at its 30 s cap (far back: standby reads) and the ones in front of them.
q "$single" "SELECT json_build_object('in_line', 1000000, 'polls_per_s', round(sum(1.0 / r)),
    'front_polls_per_s', round(sum(1.0 / r) FILTER (WHERE r < 30)), 'front_positions', count(*) FILTER (WHERE r < 30),
    'far_polls_per_s', round(sum(1.0 / r) FILTER (WHERE r >= 30)))
  FROM (SELECT ticket.retry_after(p, 120) AS r FROM generate_series(1, 1000000) p) x" >"$out/line.json"
elapsed=$(($(date +%s) - started))
load=$(cut -d' ' -f1-3 /proc/loadavg)
machine="$(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), $(q "$single" 'SELECT version()' | cut -d, -f1)"
jq -n --rawfile tsv "$results" --arg machine "$machine" --arg load "$load" --arg date "$(date -u +%FT%TZ)" \
  --argjson seconds "$T" --argjson clients "$CLIENTS" --argjson elapsed "$elapsed" --argjson target "$HOP_TARGET_MS" \
  --argjson line "$LINE" --rawfile standby "$out/standby.tsv" \
  --slurpfile sale_a "$out/sale-a.json" --slurpfile sale_b "$out/sale-b.json" \
  --slurpfile db_a "$out/sale-a-db.json" --slurpfile db_b "$out/sale-b-db.json" \
  --slurpfile inv "$out/sale-invariants.json" --argjson sale_s "$sale_s" \
  --slurpfile million "$out/line.json" --argjson cores "$(nproc)" '
  def rows: $tsv | split("\n") | map(select(length > 0) | split("\t")
    | {section: .[0], name: .[1], target: .[2], calls_per_s: (.[3] | tonumber), p50_ms: (.[4] | tonumber), p99_ms: (.[5] | tonumber)});
  def run($s; $n; $t): rows | map(select(.section == $s and .name == $n and .target == $t)) | first;
  def r3: . * 1000 | round / 1000;
  def r2: . * 100 | round / 100;
  def pair($s; $n): run($s; $n; "single") as $a | run($s; $n; "proxy") as $b |
    {call: $n, single: $a, proxy: $b, hop_p50_ms: ($b.p50_ms - $a.p50_ms | r3),
     p50_ratio: ($b.p50_ms / $a.p50_ms | r2),
     rate_ratio: (if $a.calls_per_s > 0 then $b.calls_per_s / $a.calls_per_s | r2 else null end)};
  def sale($s; $d): $s + {database: $d} | {concert_id: .database.concert_id, node: .database.node, users, joined,
    seats: .database.seats, seats_sold: .database.seats_sold, stopped_by, sold_out_after_s,
    joins_per_s: (if .arrive_s > 0 then (.joined / .arrive_s | round) else null end),
    poll_p99_ms: .calls.poll.p99_ms, join_p99_ms: .calls.join.p99_ms, pay_p99_ms: .calls.pay.p99_ms,
    unexpected_errors, requests};
  {machine: $machine, load_average_at_end: $load, date: $date, seconds_per_run: $seconds, clients: $clients,
   elapsed_s: $elapsed, hop_target_ms: $target,
   hop: [("poll", "get_concert", "get_wallet", "seat_map", "join", "hold_pay") as $n | pair("hop"; $n)
         | . + {hops: ({join: 2, hold_pay: 6}[.call] // 1)}],
   statement_avg_ms: [("issue_token", "hold_seat", "pay_reservation") as $n | pair("avg"; $n)
         | {call: .call, single: .single.p50_ms, proxy: .proxy.p50_ms, hop_ms: .hop_p50_ms,
            hops: ({issue_token: 2, hold_seat: 1, pay_reservation: 5}[.call])}],
   poll_parts: ([rows[] | select(.section == "parts")] + [run("hop"; "poll"; "proxy"), run("hop"; "poll"; "single")]),
   load: [("poll_line", "seat_map_admitted") as $n | pair("load"; $n)],
   standby: (pair("standby"; "poll_back") + {position: ($line - 1)}),
   standby_share: ($standby | split("\n") | map(select(length > 0) | split("\t")
     | {run: .[0], function: .[1], proxy_calls: (.[2] | tonumber), served_by_standbys: (.[3] | tonumber)}
     | . + {share: (if .proxy_calls > 0 then .served_by_standbys / .proxy_calls | r2 else null end)})),
   sale: {seconds: ($sale_s | r2), concerts: [sale($sale_a[0]; $db_a[0]), sale($sale_b[0]; $db_b[0])],
          invariant_violations: ($inv[0] | length), invariants_broken: $inv[0]}}
  # CPU per call: at saturation the machine spends all its cores on the calls (pgbench
  # included: an upper bound); the proxy'"'"'s share is what routing adds to the same call.
  # Writes were timed one at a time: their p50 bounds their CPU from above.
  | . as $r | def us($rate): $cores * 1000000 / $rate;
  ($r.load[0] | {partition: us(.single.calls_per_s), proxy: (us(.proxy.calls_per_s) - us(.single.calls_per_s))}) as $poll |
  ($r.load[1] | {partition: us(.single.calls_per_s), proxy: (us(.proxy.calls_per_s) - us(.single.calls_per_s))}) as $seat |
  ($r.statement_avg_ms | map({(.call): {single_us: (.single * 1000), proxy_extra_us: (.hop_ms * 1000)}}) | add) as $w |
  $r + {capacity: {cores: $cores, line: $million[0],
    cpu_us: {poll: ($poll | map_values(round)), seat_map: ($seat | map_values(round)),
             join: ($w.issue_token | map_values(round)), pay: ($w.pay_reservation | map_values(round)),
             hold: ($w.hold_seat | map_values(round))},
    polls_per_core_s: {concert_node: (1000000 / $poll.partition | round),
                       proxy: (if $poll.proxy > 0 then (1000000 / $poll.proxy | round) else null end)},
    million_in_line_cores: {concert_primary: ($million[0].front_polls_per_s * $poll.partition / 1000000 | r2),
                            concert_standbys: ($million[0].far_polls_per_s * $poll.partition / 1000000 | r2),
                            proxies: ($million[0].polls_per_s * $poll.proxy / 1000000 | r2)},
    per_1000_joins_s_cores: {concert_primary_and_user_partition: ($w.issue_token.single_us / 1000 | r2),
                             proxy: ($w.issue_token.proxy_extra_us / 1000 | r2)}}}' >"$out/results.json"

jq -r '
  def pad($n): tostring | if length < $n then (" " * ($n - length)) + . else . end;
  def row: map(pad(12)) | join(" ");
  "\nmake bench TOPOLOGY=sharded on \(.machine), load average \(.load_average_at_end) at the end, \(.seconds_per_run) s per run, \(.elapsed_s) s in all",
  "\nhop: one call at a time (pgbench, 1 client), p50 / p99 ms; hop = proxy p50 - one database p50 (target < \(.hop_target_ms) ms a hop)",
  (["call", "hops", "single p50", "p99", "proxy p50", "p99", "hop ms", "ratio"] | row),
  (.hop[] | [.call, .hops, .single.p50_ms, .single.p99_ms, .proxy.p50_ms, .proxy.p99_ms, .hop_p50_ms, .p50_ratio] | row),
  "(hold_pay: a hold and its payment, 1 + 5 hops on the proxy; each statement'"'"'s average, ms:)",
  (.statement_avg_ms[] | "  \(.call + " " * (16 - (.call | length))) single \(.single), proxy \(.proxy), \(.hops) hops: \(.hop_ms) ms"),
  "\nthe poll taken apart, p50 ms (1 client):",
  (.poll_parts[] | "  \(.target + " " * (20 - (.target | length))) \(.name + " " * (12 - (.name | length))) \(.p50_ms)"),
  "\nload: \(.clients) clients, calls/s (p99 ms)",
  (["call", "single", "p99", "proxy", "p99", "ratio"] | row),
  (.load[] | [.call, .single.calls_per_s, .single.p99_ms, .proxy.calls_per_s, .proxy.p99_ms, .rate_ratio] | row),
  (.standby | "\nstandby: poll of position \(.position), p50 ms single \(.single.p50_ms), proxy \(.proxy.p50_ms) (hop \(.hop_p50_ms))"),
  "  answered by the concert standbys: " + ([.standby_share[] | "\(.run) \(.served_by_standbys) of \(.proxy_calls) \(.function) (\(.share))"] | join(", ")),
  (.sale | "\nsale: two concerts at once through the proxy over HTTP, \(.seconds) s in all; invariants broken: \(.invariant_violations)",
    (.concerts[] | "  concert \(.concert_id) on \(.node): \(.users) users, \(.seats_sold)/\(.seats) seats sold, sold out after \(.sold_out_after_s) s (\(.stopped_by)), joins \(.joins_per_s)/s, poll p99 \(.poll_p99_ms) ms, pay p99 \(.pay_p99_ms) ms, unexpected errors \(.unexpected_errors)")),
  (.capacity | "\ncapacity (docs/scale.md), CPU µs a call on \(.cores) shared cores: poll \(.cpu_us.poll.partition) on a concert node + \(.cpu_us.poll.proxy) on the proxy; seat map \(.cpu_us.seat_map.partition) + \(.cpu_us.seat_map.proxy); one at a time, join \(.cpu_us.join.single_us) + \(.cpu_us.join.proxy_extra_us), pay \(.cpu_us.pay.single_us) + \(.cpu_us.pay.proxy_extra_us)",
    "  polls a core answers each second: \(.polls_per_core_s.concert_node) on a concert node, \(.polls_per_core_s.proxy) on a proxy",
    "  a million in line: \(.line.polls_per_s) polls/s (\(.line.front_polls_per_s) from the first \(.line.front_positions) positions, \(.line.far_polls_per_s) from the rest at 30 s)",
    "  cores: concert primary \(.million_in_line_cores.concert_primary), its standbys \(.million_in_line_cores.concert_standbys), proxies \(.million_in_line_cores.proxies); per 1,000 joins/s \(.per_1000_joins_s_cores.concert_primary_and_user_partition) + \(.per_1000_joins_s_cores.proxy) on proxies"),
  "\nresults: '"$out"'/results.json"' "$out/results.json"

# A sale that broke its rules fails the bench (after the report).
jq -e '[.sale.invariant_violations == 0, (.sale.concerts[] | .unexpected_errors == 0 and .seats_sold == .seats
        and (.stopped_by == "sold_out" or .stopped_by == "done"))] | all' "$out/results.json" >/dev/null ||
  fail "a sale broke its rules or did not sell out (see above and $out)"
