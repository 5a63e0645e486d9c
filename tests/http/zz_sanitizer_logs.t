#!/usr/bin/env bash
# Last of the HTTP tests: the programs' stderr, which lighttpd keeps in
# $TICKET_VAR/log/programs.log for every service the tests started (browser
# and HTTP, FastCGI and CGI), holds no AddressSanitizer, LeakSanitizer or
# UndefinedBehaviorSanitizer ("runtime error") report.  Only meaningful with
# `make test SANITIZE=1`, which builds and serves the programs with them; in
# a plain build the check is reported skipped.  Each HTTP file checks its
# own part as well.
set -euo pipefail
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/lib.sh"

LOG_START=0   # the whole log, not only what this file added
check "programs.log exists (the services ran)" test -f "$PROGRAMS_LOG"
diag "programs in $TICKET_BUILD: $(sanitized_build && echo "with" || echo "without") sanitizers"
finish
