#!/usr/bin/env bash
# The libFuzzer harnesses of tests/fuzz, built and run for FUZZ_T_SECONDS
# (30) each, all at once (tests/fuzz/run.sh).  One test point per harness:
# ok when it ran without a crash (a failed check, a sanitizer report, a
# leak, a timeout).  The seed corpus (tests/fuzz/corpus/) runs first, so a
# crash input added there stays a regression test.  No database needed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
seconds=${FUZZ_T_SECONDS:-30}
harnesses=(fuzz_request fuzz_json fuzz_route)
echo "1..$((${#harnesses[@]} + 1))"

out=$("$here/run.sh" "$seconds" 2>&1)
status=$?
if grep -q '^RESULT ' <<<"$out"; then
  echo "ok 1 - the harnesses build with clang -fsanitize=fuzzer,address,undefined"
else
  echo "not ok 1 - the harnesses build with clang -fsanitize=fuzzer,address,undefined"
  awk '{print "# " $0}' <<<"$out"
fi
n=1
for h in "${harnesses[@]}"; do
  n=$((n + 1))
  line=$(grep "^RESULT $h " <<<"$out" || true)
  if [[ "$line" == "RESULT $h ok "* ]]; then
    echo "ok $n - $h: no crash in ${seconds} s (${line#RESULT "$h" ok })"
  else
    echo "not ok $n - $h: ${line:-did not run}"
    awk -v h="$h" '$0 ~ "^RESULT " h " " {p = 1; next} /^RESULT / {p = 0} p' <<<"$out" | sed 's/^/# /'
  fi
  runs=$(sed -n 's/.* executions=\([0-9]*\).*/\1/p' <<<"$line")
  echo "# figure: fuzz_executions_$h ${runs:-0}"
done
exit "$status"
