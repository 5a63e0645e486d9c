#!/usr/bin/env bash
# The rules of tests/harness, each proved on tiny fixture files: every case
# is a folder of its own (TESTS_DIR) whose .t files print canned TAP, run
# through the harness; the test checks the harness's last line
# (`N passed, N failed, N skipped`) and its exit status.  No database.
set -uo pipefail

harness="$(cd "$(dirname "$0")/.." && pwd)/harness"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/harness-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
n=0 failed=0
echo "1..21"

# fixture CASE NAME MODE: a file of case CASE from stdin, chmod MODE.
fixture() {
  mkdir -p "$tmp/$1/t"
  cat >"$tmp/$1/t/$2"
  chmod "$3" "$tmp/$1/t/$2"
}

# harness_on CASE [VAR=value...]: runs the harness on the case's folder;
# sets out (all it printed), last (its last line), status, took (seconds).
harness_on() {
  local case=$1 start
  shift
  start=$(date +%s)
  out=$(env -u TEST_TIMEOUT "$@" TESTS_DIR="$tmp/$case" "$harness" 2>&1)
  status=$?
  took=$(($(date +%s) - start))
  last=$(tail -n 1 <<<"$out")
}

check() { # check DESC COMMAND...
  n=$((n + 1))
  if "${@:2}"; then echo "ok $n - $1"; return; fi
  failed=$((failed + 1))
  echo "not ok $n - $1"
  sed 's/^/#   /' <<<"$out"
}
line_is() { [ "$last" = "$1" ]; }
fails() { [ "$status" -ne 0 ]; }
succeeds() { [ "$status" -eq 0 ]; }
says() { grep -q -F -- "$1" <<<"$out"; }

ok_file() { printf '#!/bin/sh\necho 1..%s\n' "$1"; for i in $(seq "$1"); do echo "echo ok $i"; done; }

# ---------------------------------------------------------------- the cases
ok_file 2 | fixture pass a.t +x
harness_on pass
check "two passing points: the line counts them" line_is "2 passed, 0 failed, 0 skipped"
check "... and the run succeeds" succeeds

ok_file 1 | fixture notexec a.t +x
ok_file 1 | fixture notexec b.t -x
harness_on notexec
check "a .t that is not executable is a failure" line_is "1 passed, 1 failed, 0 skipped"
check "... that fails the run" fails
check "... and is named as not executable" says "b.t: not executable"

printf '#!/bin/sh\necho 1..2\necho ok 1\necho "ok 2 # SKIP no database"\n' | fixture skip a.t +x
harness_on skip
check "a SKIP point counts as skipped, not passed" line_is "1 passed, 0 failed, 1 skipped"
check "... and does not fail the run" succeeds

printf '#!/bin/sh\necho "1..0 # SKIP nothing to do here"\n' | fixture skipall a.t +x
harness_on skipall
check "a file that skips all is one skipped" line_is "0 passed, 0 failed, 1 skipped"
check "... and a run where nothing passed fails" fails

printf '#!/bin/sh\necho 1..3\necho ok 1\necho "not ok 2 # TODO not yet"\necho "ok 3 # TODO done early"\n' |
  fixture todo a.t +x
harness_on todo
check "a failing TODO point is a failure, a passing one a pass" line_is "2 passed, 1 failed, 0 skipped"
check "... that fails the run" fails

printf '#!/bin/sh\necho 1..2\necho ok 1\necho "Bail out! the database is gone"\nexit 1\n' | fixture bail a.t +x
ok_file 1 | fixture bail b.t +x
harness_on bail
check "Bail out! stops the run and still prints the summary" line_is "1 passed, 2 failed, 0 skipped"
check "... that fails the run" fails
check "... saying why and what did not run" says "the database is gone (after 1 files; 1 not run)"

printf '#!/bin/sh\necho 1..1\nexec sleep 60\n' | fixture slow a.t +x
ok_file 1 | fixture slow b.t +x
harness_on slow TEST_TIMEOUT=1
check "a file over TEST_TIMEOUT is killed and fails; the others run" line_is "1 passed, 1 failed, 0 skipped"
check "... that fails the run" fails
check "... saying so" says "still running after TEST_TIMEOUT=1s: killed"
check "... and the run did not wait for it ($took s)" test "$took" -lt 30

printf '#!/bin/sh\necho 1..3\necho ok 1\nexit 3\n' | fixture short a.t +x
harness_on short
check "a file that stops short of its plan fails the points it did not run" line_is "1 passed, 2 failed, 0 skipped"

mkdir -p "$tmp/none"
harness_on none
check "no tests at all is a failed run" fails
check "... with the summary line" line_is "0 passed, 0 failed, 0 skipped"

[ "$failed" -eq 0 ]
