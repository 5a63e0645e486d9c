#!/usr/bin/env bash
# scripts/deps.sh and `make deps` on a machine that lacks packages, whatever
# this machine has: dpkg-query, apt-get, id and node are stubs on PATH.
set -uo pipefail
root=${TICKET_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
deps=$root/scripts/deps.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
has() { grep -qF -- "$2" "$1"; }
echo 1..16

# A bin folder with the real tools the script uses, and stubs for the rest.
# MISSING names the packages dpkg-query calls not installed; UID_ stands for id -u.
bin=$tmp/bin; mkdir "$bin"
for t in bash sh dirname cat grep env; do ln -s "$(command -v $t)" "$bin/$t"; done
cat >"$bin/dpkg-query" <<'STUB'
#!/bin/sh
pkg=$(for a; do :; done; echo "$a")
for m in $MISSING; do [ "$m" = "$pkg" ] && { echo "dpkg-query: no packages found matching $pkg" >&2; exit 1; }; done
printf 'ii '
STUB
cat >"$bin/apt-get" <<'STUB'
#!/bin/sh
echo "apt-get $*" >>"$APT_LOG"
[ "$1" = install ] && [ -n "${APT_FAIL:-}" ] && { echo "E: Unable to locate package" >&2; exit 100; }
exit 0
STUB
printf '#!/bin/sh\n[ "$1" = -u ] && echo "$UID_" || echo nobody\n' >"$bin/id"
printf '#!/bin/sh\nexit 0\n' >"$bin/node"; cp "$bin/node" "$bin/npm"
chmod +x "$bin"/*
run() { # run ID MISSING [args...]: status in $st, output in $tmp/out
  local uid=$1 missing=$2; shift 2
  : >"$tmp/apt"
  env -i PATH="$bin" UID_="$uid" MISSING="$missing" APT_LOG="$tmp/apt" APT_FAIL="${APT_FAIL:-}" \
    bash "$deps" "$@" >"$tmp/out" 2>&1; st=$?
}

run 1000 ''
ok $(( st != 0 )) "everything installed: exit 0"
ok $(( $(wc -c <"$tmp/out") != 0 )) "everything installed: says nothing"

run 1000 'postgresql-15-cron'
ok $(( st == 0 )) "a missing package as a user: exit 1"
has "$tmp/out" 'missing Debian packages: postgresql-15-cron'; ok $? "the message names the missing package"
has "$tmp/out" 'apt-get update && apt-get install -y postgresql-15-cron'; ok $? "and tells the user the command to run"
ok $(( $(wc -c <"$tmp/apt") != 0 )) "a user's run calls no apt-get"

run 0 'postgresql-15-cron lighttpd'
ok $st "missing packages as root: installed, exit 0"
has "$tmp/apt" 'apt-get update'; ok $? "root: apt-get update runs first"
has "$tmp/apt" 'apt-get install -y postgresql-15-cron lighttpd'; ok $? "root: apt-get install names every missing package"

APT_FAIL=1 run 0 'wrk'
ok $(( st == 0 )) "apt-get install failing: exit 1"
has "$tmp/out" "'apt-get install wrk' failed"; ok $? "and says which command failed"

# No node on PATH: nodejs and npm come from Debian.
rm "$bin/node" "$bin/npm"
run 1000 ''
has "$tmp/out" 'missing Debian packages: nodejs npm'; ok $? "no node on PATH: nodejs and npm are asked for"
printf '#!/bin/sh\nexit 0\n' >"$bin/node"; cp "$bin/node" "$bin/npm"; chmod +x "$bin/node" "$bin/npm"

# A list with a package no machine has, against this machine's real dpkg-query.
printf 'bash\nticket-no-such-package\n' >"$tmp/list"
out=$(env UID_=1000 PATH="$bin:$PATH" bash -c 'rm -f "$0/dpkg-query"; "$1" "$2"' "$bin" "$deps" "$tmp/list" 2>&1); st=$?
ok $(( st == 0 )) "real dpkg-query, an unknown package: exit 1"
printf '%s\n' "$out" | grep -qF 'missing Debian packages: ticket-no-such-package'; ok $? "real dpkg-query: the unknown package is named, and only it"

# `make deps` goes through the script: a missing package is named, not "Error 1".
out=$(env UID_=1000 PATH="$bin:$PATH" make -s -C "$root" deps DEPS_LIST="$tmp/list" 2>&1); st=$?
ok $(( st == 0 )) "make deps with a missing package: fails"
printf '%s\n' "$out" | grep -qF 'missing Debian packages: ticket-no-such-package'; ok $? "make deps: names the missing package"
