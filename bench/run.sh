#!/usr/bin/env bash
# The database's ceiling against HTTP in both modes, for the hot calls: a waiting
# browser's poll (api.queue_status) and a hold (api.hold_seat). pgbench calls the
# functions over persistent prepared connections; wrk sends real requests with real
# tokens through lighttpd. Same concurrency for both. Run by `make bench`, which
# provides a fresh migrated database (PG* env, TICKET_VAR, TICKET_ROOT).
set -euo pipefail
cd "$(dirname "$0")"
CLIENTS=${BENCH_CLIENTS:-16}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
DATES=${BENCH_DATES:-800}
ACTIVE=${BENCH_ACTIVE:-10000}
WAITING=${BENCH_WAITING:-10000}
PORT=${BENCH_PORT:-18200}
out="$TICKET_VAR/bench"
mkdir -p "$out"
psql=(psql -X -q -At -v ON_ERROR_STOP=1)
results="$out/results.tsv"
: >"$results"

progress() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

progress "loading $DATES dates of 50 seats, $ACTIVE admitted and $WAITING waiting users"
"${psql[@]}" -v dates="$DATES" -v active="$ACTIVE" -v waiting="$WAITING" -f sql/setup.sql >/dev/null
"${psql[@]}" -c "\\copy (SELECT token FROM bench.users WHERE n > $ACTIVE + 100) TO '$out/tokens.txt'"
"${psql[@]}" -c "\\copy (SELECT key || ' ' || token || ' ' || on_date || ' ' || seat_no FROM bench.holds ORDER BY n) TO '$out/holds.txt'"
concert=$("${psql[@]}" -c "SELECT id FROM bench.concert")
seats=$(wc -l <"$out/holds.txt")

holds_made() { "${psql[@]}" -c "SELECT count(*) FROM ticket.reservations WHERE concert_id = $concert"; }
record() { # operation client rate p50 p99
  printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"
  progress "$(printf '%-22s %-16s %8s calls/s  p50 %s  p99 %s' "$@")"
}

# pgbench: calls/s from its own count; for holds from the rows made (a run that ran
# out of seats would count calls that held nothing: that fails the bench instead).
pgbench_run() { # name script
  local log="$out/pgbench-$1.log"
  pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -r -D active="$ACTIVE" -D waiting="$WAITING" \
    -f "sql/$2.sql" --log --log-prefix="$out/pgbench-$1" >"$log" 2>&1
  local tps p50 p99
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log")
  read -r p50 p99 < <(cat "$out/pgbench-$1".* | awk '{print $3}' | sort -n |
    awk '{a[NR]=$1} END {printf "%.2fms %.2fms\n", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000}')
  rm -f "$out/pgbench-$1".[0-9]*
  if [ "$2" = hold ]; then
    local made; made=$(holds_made)
    [ "$made" -lt "$seats" ] || { echo "bench: ran out of seats; raise BENCH_DATES" >&2; exit 1; }
    tps=$(awk -v m="$made" -v s="$SECONDS_PER_RUN" 'BEGIN {printf "%.0f", m / s}')
    "${psql[@]}" -c "SELECT bench.reset_holds()" >/dev/null
  fi
  record "$1" "pgbench(ceiling)" "$(printf '%.0f' "$tps")" "$p50" "$p99"
}

wrk_run() { # name mode lua
  local log="$out/wrk-$1-$2.log"
  TOKENS="$out/tokens.txt" HOLDS="$out/holds.txt" CONCERT="$concert" WRK_THREADS=2 \
    wrk -t2 -c"$CLIENTS" -d"${SECONDS_PER_RUN}s" --latency -s "wrk/$3.lua" "http://127.0.0.1:$PORT" >"$log" 2>&1
  local rps p50 p99 non2xx
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$log")
  p50=$(awk '$1 == "50%" {print $2}' "$log")
  p99=$(awk '$1 == "99%" {print $2}' "$log")
  non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)/\1/p' "$log")
  if [ "$3" = hold ]; then
    local made; made=$(holds_made)
    [ "$made" -lt "$seats" ] || { echo "bench: ran out of seats; raise BENCH_DATES" >&2; exit 1; }
    "${psql[@]}" -c "SELECT bench.reset_holds()" >/dev/null
  fi
  [ -z "$non2xx" ] || { echo "bench: $non2xx answers were not 2xx in $log" >&2; exit 1; }
  record "$1" "http($2)" "$(printf '%.0f' "$rps")" "$p50" "$p99"
}

trap '../tests/lib/service.sh stop $PORT' EXIT
pgbench_run poll poll
pgbench_run hold hold
for mode in fastcgi cgi; do
  progress "starting lighttpd in $mode mode"
  ../tests/lib/service.sh start "$mode" "$PORT"
  wrk_run poll "$mode" poll
  wrk_run hold "$mode" hold
  ../tests/lib/service.sh stop "$PORT"
done

printf '\n%-6s %-16s %10s %10s %10s %8s   (%s clients, %s s each, %s waiting tokens)\n' \
  operation path calls/s p50 p99 ratio "$CLIENTS" "$SECONDS_PER_RUN" "$WAITING"
awk -F'\t' '$2 == "pgbench(ceiling)" {ceil[$1] = $3}
  {printf "%-6s %-16s %10s %10s %10s %8.2f\n", $1, $2, $3, $4, $5, $3 / ceil[$1]}' "$results"
