#!/usr/bin/env bash
# Last of the HTTP tests: the programs' stderr, which lighttpd keeps in
# $TICKET_VAR/log/programs.log for every service the tests started (browser
# and HTTP, FastCGI and CGI), holds no AddressSanitizer, LeakSanitizer or
# UndefinedBehaviorSanitizer ("runtime error") report.  Meaningful with
# `make test SANITIZE=1`, which builds and serves the programs with them; a
# plain build must be clean too.  Each HTTP file checks its own part as well.
set -euo pipefail
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/lib.sh"

LOG_START=0   # the whole log, not only what this file added
check "programs.log exists (the services ran)" test -f "$PROGRAMS_LOG"
asan=$(nm -D "$TICKET_BUILD/cgi-bin/health" 2>/dev/null | grep -c __asan_ || :)
diag "programs in $TICKET_BUILD: $([ "${asan:-0}" -gt 0 ] && echo "with" || echo "without") AddressSanitizer"
finish
