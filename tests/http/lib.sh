# shellcheck shell=bash
# tests/http/lib.sh: what the HTTP end-to-end tests share.  Sourced by each
# tests/http/*.t, which tests/harness runs with the test database in the env
# (PGHOST, PGPORT, PGDATABASE, PGUSER, TICKET_ROOT, TICKET_VAR, ...).
#
#   TAP      ok/is/check/refute/expect/expect_error print one test point each (and
#            "# " diagnostics with the last answer when they fail); finish
#            prints the plan at the end, so a file that dies early fails.
#   HTTP     req METHOD PATH [curl args...] against $BASE; the answer is in
#            STATUS, BODY, header NAME; post PATH JSON [curl args...] sends
#            JSON.  Helpers bearer KEY, qtoken TOKEN make the headers.  Each
#            exchange is appended to $EXCHANGE_LOG, which zz_openapi.t
#            checks against docs/openapi.yaml (TICKET_EXCHANGE_LOG= to skip).
#   service  start_service fastcgi|cgi PORT (tests/lib/service.sh), stopped
#            by finish or on any exit.
#   psql     sql 'SELECT ...' as the database owner, one value per line;
#            sql_concert ID '...', sql_user ID '...' where that concert's (or
#            reservation's) or user's rows are.  On one database all three run
#            on it; on the sharded topology (scripts/with-topology.sh: make
#            test TOPOLOGY=sharded) sql runs on the proxy (no tables there;
#            admin.create_concert, admin.check_invariants and api.* route),
#            the others on the partition the id names.
#
# Every file ends with finish, which stops its services and then checks
# that the programs wrote no sanitizer report to $TICKET_VAR/log/programs.log
# while it ran (SANITIZE=1 builds; skipped in a plain build).
set -eEuo pipefail
: "${TICKET_ROOT:?run through tests/harness (make test)}" "${TICKET_VAR:?}" "${PGPORT:?}"

command -v jq >/dev/null || { echo "Bail out! jq is needed (apt-get install jq)"; exit 1; }
command -v curl >/dev/null || { echo "Bail out! curl is needed"; exit 1; }

JSON_TYPE='application/json; charset=utf-8'
SERVICE="$TICKET_ROOT/tests/lib/service.sh"
PROGRAMS_LOG="$TICKET_VAR/log/programs.log"
EXCHANGE_LOG=${TICKET_EXCHANGE_LOG-$TICKET_VAR/http-exchanges.jsonl}
export PGOPTIONS='-c client_min_messages=warning'

WORK=$(mktemp -d "${TMPDIR:-/tmp}/http-test.XXXXXX")
TAP_N=0
TAP_FAILED=0
TAP_FINISHED=
SERVICE_PORTS=()
BASE=
STATUS=
BODY=
# Where this file's part of the programs' log begins.
LOG_START=$(stat -c %s "$PROGRAMS_LOG" 2>/dev/null || echo 0)

# ---------------------------------------------------------------- TAP

diag() {
  local line
  while IFS= read -r line; do printf '# %s\n' "$line"; done <<<"$*"
}

# The last answer, for a failed point.
diag_answer() {
  diag "last request: ${LAST_REQUEST:-none}"
  diag "status: ${STATUS:-none}"
  diag "body: $(head -c 2000 <<<"${BODY:-}")"
}

pass() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1"; }
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }   # skip DESCRIPTION REASON
fail() {
  TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1))
  echo "not ok $TAP_N - $1"
}

# ok CONDITION-EXIT-STATUS DESCRIPTION [DIAGNOSTIC]
ok() {
  if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2"; [ -z "${3:-}" ] || diag "$3"; fi
}

# is GOT WANT DESCRIPTION
is() {
  if [ "$1" == "$2" ]; then pass "$3"
  else fail "$3"; diag "got:  '$1'"; diag "want: '$2'"; fi
}

# check DESCRIPTION COMMAND...: the command succeeds.
check() {
  local desc=$1; shift
  if "$@"; then pass "$desc"; else fail "$desc"; diag "failed: $*"; diag_answer; fi
}

# refute DESCRIPTION COMMAND...: the command fails.
refute() {
  local desc=$1; shift
  if "$@"; then fail "$desc"; diag "succeeded: $*"; diag_answer; else pass "$desc"; fi
}

# jq -e FILTER on the last body (or on $JSON when set), quietly.
jqt() { jq -e "$@" >/dev/null 2>&1 <<<"${JSON:-$BODY}"; }
# The value of a jq filter on the last body (raw).
jv() { jq -r "$@" <<<"$BODY"; }

# expect STATUS DESCRIPTION [JQ-FILTER...]: the last answer has this status
# and every filter holds on its body.
expect() {
  local want=$1 desc=$2 f bad=''; shift 2
  [ "$STATUS" == "$want" ] || bad="status $STATUS, want $want"
  if [ -z "$bad" ]; then
    for f in "$@"; do
      jqt "$f" || { bad="does not hold: $f"; break; }
    done
  fi
  if [ -z "$bad" ]; then pass "$desc"; else fail "$desc"; diag "$bad"; diag_answer; fi
}

# expect_error STATUS CODE DESCRIPTION [JQ-FILTER...]: an error answer of
# docs/api.md: this status, Content-Type JSON, and the body exactly
# {"error": {"code", "message" (a string), "details", "hint" (null or a string)}}.
expect_error() {
  local want=$1 code=$2 desc=$3 f bad='' ctype; shift 3
  ctype=$(header Content-Type)
  if [ "$STATUS" != "$want" ]; then bad="status $STATUS, want $want"
  elif [ "$ctype" != "$JSON_TYPE" ]; then bad="Content-Type '$ctype'"
  elif ! jqt --arg c "$code" "$ERROR_SHAPE"; then bad="not the error body of $code"
  else
    for f in "$@"; do
      jqt "$f" || { bad="does not hold: $f"; break; }
    done
  fi
  if [ -z "$bad" ]; then pass "$desc"; else fail "$desc"; diag "$bad"; diag_answer; fi
}
# shellcheck disable=SC2016 # a jq program
ERROR_SHAPE='(keys == ["error"]) and (.error | type == "object")
  and (.error | keys == ["code", "details", "hint", "message"])
  and .error.code == $c and (.error.message | type == "string" and length > 0)
  and (.error.hint == null or (.error.hint | type == "string"))
  and (.error.details == null or (.error.details | type == "object" or type == "string"))'

# ---------------------------------------------------------------- HTTP

bearer() { printf 'Authorization: Bearer %s' "$1"; }
qtoken() { printf 'X-Queue-Token: %s' "$1"; }

# req METHOD PATH [curl args...]: STATUS ("000" when no answer), BODY, headers.
req() {
  local method=$1 path=$2; shift 2
  LAST_REQUEST="$method $path"
  : >"$WORK/head"; : >"$WORK/body"
  STATUS=$(curl -sS --max-time 30 -X "$method" -o "$WORK/body" -D "$WORK/head" \
    -w '%{http_code}' "$@" "$BASE$path" 2>"$WORK/curl.err") || STATUS=000
  BODY=$(cat "$WORK/body")
  [ -z "$EXCHANGE_LOG" ] || log_exchange "$method" "$path"
}

# log_exchange METHOD PATH: the last answer as one JSON line of $EXCHANGE_LOG.
log_exchange() {
  jq -nc --arg method "$1" --arg path "$2" --arg status "$STATUS" \
    --rawfile head "$WORK/head" --rawfile body "$WORK/body" \
    '{$method, $path, status: ($status | tonumber), $head, $body}' >>"$EXCHANGE_LOG"
}

# post PATH JSON [curl args...]: a POST with a JSON body.
post() {
  local path=$1 json=$2; shift 2
  req POST "$path" -H "Content-Type: $JSON_TYPE" --data-binary "$json" "$@"
}

# header NAME: the value of a header of the last answer ("" when absent).
header() {
  awk -v n="$1" 'BEGIN { n = tolower(n) ": " }
    tolower(substr($0, 1, length(n))) == n { v = substr($0, length(n) + 1) }
    END { sub(/\r$/, "", v); print v }' "$WORK/head"
}
# has_header NAME: the last answer has it.
has_header() { grep -qi "^$1:" "$WORK/head"; }

# new_user NAME: a new user over HTTP; its key in NEW_KEY, its id in NEW_ID.
new_user() {
  post /api/users "{\"name\": \"$1\"}"
  [ "$STATUS" = 201 ] || { diag "new_user $1: $STATUS $BODY"; return 1; }
  # shellcheck disable=SC2034 # for the files that source this one
  NEW_KEY=$(jv .api_key) NEW_ID=$(jv .user_id)
}

# ---------------------------------------------------------------- service

# start_service MODE PORT: lighttpd (and pgbouncer for cgi) on PORT; BASE set.
start_service() {
  SERVICE_PORTS+=("$2")
  "$SERVICE" start "$1" "$2" >&2
  BASE="http://127.0.0.1:$2"
}

stop_service() {
  local p keep=()
  "$SERVICE" stop "$1" || :
  for p in "${SERVICE_PORTS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  SERVICE_PORTS=("${keep[@]+"${keep[@]}"}")
}

stop_all_services() {
  local p
  for p in "${SERVICE_PORTS[@]+"${SERVICE_PORTS[@]}"}"; do "$SERVICE" stop "$p" || :; done
  SERVICE_PORTS=()
}

# ---------------------------------------------------------------- psql

# sql QUERY [psql args...]: run as the database owner, values unaligned.
sql() {
  local q=$1; shift
  psql -X -q -At -v ON_ERROR_STOP=1 "$@" -c "$q"
}

# shellcheck source=tests/lib/partitions.sh
. "$TICKET_ROOT/tests/lib/partitions.sh"

# sql_on SIDE ID QUERY [psql args...]: sql where ID is.
sql_on() {
  local side=$1 id=$2 q=$3; shift 3
  if ! sharded; then sql "$q" "$@"; return; fi
  psql -X -q -At -v ON_ERROR_STOP=1 "$@" -d "$(partition_url "$side" "$id")" -c "$q"
}
# sql_concert ID QUERY: where concert (or reservation) ID is; sql_user ID QUERY: user ID.
sql_concert() { sql_on concerts "$@"; }
sql_user() { sql_on users "$@"; }

# A concert, like admin.create_concert's arguments after the title; prints its id.
# new_concert SEATS HOLD_MINUTES MAX_SEATS_PER_USER MAX_ACTIVE
new_concert() {
  sql "SELECT admin.create_concert('E2E $$ $RANDOM', 'Hall', ARRAY[now() + interval '7 days'],
        $1, ARRAY[150000,110000,80000]::bigint[], $2, $3, $4)"
}

# poll_until SECONDS COMMAND...: run until it succeeds, at most that long.
poll_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# ---------------------------------------------------------------- the end

# Whether the programs were built with ASan or UBSan (make test SANITIZE=1):
# only then can their log hold a report.
sanitized_build() {
  local syms
  syms=$({ nm "$TICKET_BUILD/cgi-bin/health"; nm -D "$TICKET_BUILD/cgi-bin/health"; } 2>/dev/null || :)
  grep -q -E '__(asan_init|ubsan_handle_)' <<<"$syms"
}

# No sanitizer report (ASan, LSan, UBSan) in the programs' stderr since start;
# skipped in a build without sanitizers, where a clean log proves nothing.
check_programs_log() {
  local found=
  if ! sanitized_build; then
    skip "no sanitizer report in programs.log" "the programs in $TICKET_BUILD have no sanitizer (make test SANITIZE=1)"
    return
  fi
  if [ -f "$PROGRAMS_LOG" ]; then
    found=$(tail -c "+$((LOG_START + 1))" "$PROGRAMS_LOG" |
      grep -E -m 20 'AddressSanitizer|LeakSanitizer|runtime error' || :)
  fi
  if [ -z "$found" ]; then pass "no sanitizer report in programs.log"
  else fail "no sanitizer report in programs.log"; diag "$found"; fi
}

# finish: stop the services, check the programs' log, print the plan.
finish() {
  stop_all_services
  check_programs_log
  echo "1..$TAP_N"
  TAP_FINISHED=1
  if [ "$TAP_FAILED" -eq 0 ]; then exit 0; fi
  exit 1
}

on_exit() {
  local status=$?
  stop_all_services
  [ -n "${EXIT_HOOK:-}" ] && "$EXIT_HOOK"
  rm -rf -- "$WORK"
  if [ -z "$TAP_FINISHED" ]; then
    echo "# $(basename "$0") stopped early (exit status $status) after $TAP_N test points"
    exit 1
  fi
}
trap on_exit EXIT
trap 'echo "# error: line $LINENO: $BASH_COMMAND (status $?)"' ERR
