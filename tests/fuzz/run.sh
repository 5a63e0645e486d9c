#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS: build the libFuzzer harnesses (tests/fuzz/Makefile)
# and run each for SECONDS, all at once, from its seed corpus
# (tests/fuzz/corpus/<harness>/, never written to: new inputs go to a work
# corpus in the build folder) with its dictionary.  Prints per harness the
# executions, the inputs it added and any crash (its input is kept under
# $FUZZ_BUILD/artifacts/<harness>/: add it to the corpus as a regression
# test once fixed).  One line per harness starts with "RESULT".  Exits 1
# if any harness crashed.
#
#   FUZZ_BUILD    build folder [${TICKET_BUILD:-<tree>/build}/fuzz]
#   FUZZ_ONLY     run only these harnesses (space-separated names)
set -euo pipefail

seconds=${1:-60}
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD:-${TICKET_BUILD:-$root/build}/fuzz}
read -r -a harnesses <<<"${FUZZ_ONLY:-fuzz_request fuzz_json fuzz_route}"

mkdir -p "$build"
make -s -C "$here" FUZZ_BUILD="$build" >"$build.make.log" 2>&1 || {
  echo "run.sh: the harnesses did not build:" >&2
  tail -n 30 "$build.make.log" >&2
  exit 1
}

pids=()
for h in "${harnesses[@]}"; do
  mkdir -p "$build/work/$h" "$build/artifacts/$h"
  # Only this run's crashes count.
  rm -f "$build/artifacts/$h"/crash-* "$build/artifacts/$h"/leak-* "$build/artifacts/$h"/timeout-* "$build/artifacts/$h"/oom-*
  "$build/$h" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
    -dict="$here/dict/$h.dict" -artifact_prefix="$build/artifacts/$h/" \
    "$build/work/$h" "$here/corpus/$h" >"$build/$h.log" 2>&1 &
  pids+=($!)
done

failed=0
for i in "${!harnesses[@]}"; do
  h=${harnesses[$i]}
  status=0
  wait "${pids[$i]}" || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$h.log" | tail -n 1)
  added=$(sed -n 's/^stat::new_units_added: *//p' "$build/$h.log" | tail -n 1)
  corpus=$(find "$build/work/$h" "$here/corpus/$h" -type f | wc -l)
  crashes=$(find "$build/artifacts/$h" -type f | wc -l)
  if [ "$status" -eq 0 ] && [ "$crashes" -eq 0 ]; then
    echo "RESULT $h ok executions=${runs:-0} added=${added:-0} corpus=$corpus seconds=$seconds"
  else
    failed=1
    echo "RESULT $h CRASH status=$status executions=${runs:-0} artifacts=$crashes log=$build/$h.log"
    grep -a -E 'FUZZ CHECK FAILED|ERROR: (Address|Leak|libFuzzer|Undefined)|runtime error|SUMMARY' -A1 \
      "$build/$h.log" | head -n 12 | sed 's/^/    /'
    find "$build/artifacts/$h" -type f | sed 's/^/    input: /'
  fi
done
exit "$failed"
