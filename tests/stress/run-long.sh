#!/usr/bin/env bash
# The long versions of the stress tests (make stress): the same files that
# make test runs bounded, with more users, rounds, crashes, inputs and
# minutes, then each fuzzer for STRESS_FUZZ_SECONDS.  Needs the environment
# make with-fresh-db gives (PGHOST, PGPORT, TICKET_VAR, TICKET_ROOT, ...).
# Prints each file's failures and, at the end, the figures the files
# report ("# figure: name value") and one line: N passed, N failed, N skipped
# (counted as tests/harness does: a SKIP is skipped, a failing TODO failed).
#
# Every knob can be overridden from the environment; the defaults below
# take about half an hour on two cores.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
: "${TICKET_VAR:?run me through make stress}"
log=${STRESS_LOG:-$TICKET_VAR/stress-long}
mkdir -p "$log"

export STRESS_USERS=${STRESS_USERS:-2000}
export STRESS_CLIENTS=${STRESS_CLIENTS:-400}
export STRESS_ROUNDS=${STRESS_ROUNDS:-30}
export MONEY_WALLETS=${MONEY_WALLETS:-20}
export MONEY_CHARGERS=${MONEY_CHARGERS:-5}
export MONEY_OPS=${MONEY_OPS:-200}
export MONEY_STORM=${MONEY_STORM:-100}
export CRASH_CYCLES=${CRASH_CYCLES:-5}
export CRASH_CLIENTS=${CRASH_CLIENTS:-32}
export LINE_CLIENTS=${LINE_CLIENTS:-32}
export LINE_JOINS=${LINE_JOINS:-5000}
export HOSTILE_REPEAT=${HOSTILE_REPEAT:-5}
export HOSTILE_MUTANTS=${HOSTILE_MUTANTS:-20000}
export HOSTILE_SEED=${HOSTILE_SEED:-$RANDOM}
export VALGRIND_LOOPS=${VALGRIND_LOOPS:-1000}
export FAULTS_ROUNDS=${FAULTS_ROUNDS:-12}
export FAULTS_CLIENTS=${FAULTS_CLIENTS:-12}
export FAULTS_ACKS=${FAULTS_ACKS:-40}
fuzz_seconds=${STRESS_FUZZ_SECONDS:-600}

passed=0 failed=0 skipped=0
run() { # run NAME COMMAND...: TAP on stdout, kept in $log/NAME.log
  local name=$1 start status planned ran bad skip
  shift
  start=$(date +%s)
  "$@" >"$log/$name.log" 2>"$log/$name.err"
  status=$?
  planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log/$name.log" | tail -n 1)
  ran=$(grep -c -E '^(not )?ok ' "$log/$name.log")
  bad=$(grep -c '^not ok ' "$log/$name.log")
  skip=$(grep -c -i -E '^ok [0-9]+[^#]*#[[:space:]]*skip' "$log/$name.log")
  if [ -z "$planned" ] || [ "$planned" -ne "$ran" ]; then
    bad=$((bad + 1))
    echo "$name: ran $ran of ${planned:-no plan} (exit $status); stderr:"
    tail -n 15 "$log/$name.err" | sed 's/^/    /'
  fi
  passed=$((passed + ran - $(grep -c '^not ok ' "$log/$name.log") - skip))
  failed=$((failed + bad))
  skipped=$((skipped + skip))
  printf '%-12s %3s tests, %s failed, %s skipped, %ss\n' "$name" "$ran" "$bad" "$skip" "$(($(date +%s) - start))"
  grep -A 12 '^not ok ' "$log/$name.log" | grep -v '^ok ' | head -n 40 | sed 's/^/    /'
}

echo "make stress: logs in $log (HOSTILE_SEED=$HOSTILE_SEED)"
for t in contention money crash hostile authz valgrind; do
  run "$t" "$here/$t.t"
done
# The sharded topology's nodes killed during payments (each fault FAULTS_ROUNDS / 3 times).
run faults "$here/../shard/faults.t"
run fuzz env FUZZ_T_SECONDS="$fuzz_seconds" "$here/../fuzz/fuzz.t"

echo
echo "figures:"
cat "$log"/*.log | sed -n 's/^# figure: //p' | awk '{printf "  %-40s %s\n", $1, $2}'
sum() { cat "$log"/*.log | sed -n "s/^# figure: $1 //p" | awk '{s += $1} END {print s + 0}'; }
echo
echo "summary:"
printf '  %-40s %s\n' \
  "requests over HTTP" "$(sum '[a-z]*_requests')" \
  "seat conflicts (409 SEAT_UNAVAILABLE)" "$(sum contention_conflicts)" \
  "deadlocks (40P01 in the database log)" "$(sum contention_deadlocks)" \
  "database crashes survived" "$(sum crash_database_crashes_survived)" \
  "FastCGI programs killed and restarted" "$(sum crash_programs_killed)" \
  "sharded: payments attempted under node kills" "$(sum faults_attempted)" \
  "sharded: payments acknowledged, then checked" "$(sum faults_acked)" \
  "sharded: payments recovered (confirmed)" "$(sum faults_confirmed)" \
  "sharded: payments recovered (released)" "$(sum faults_released)" \
  "hostile inputs tried" "$(sum hostile_inputs_tried)" \
  "fuzz executions" "$(sum 'fuzz_executions_[a-z_]*')" \
  "valgrind: bytes definitely lost" "$(sum valgrind_definitely_lost_bytes)" \
  "valgrind: errors" "$(sum valgrind_errors)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
