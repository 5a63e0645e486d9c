#!/bin/sh
# Check suite of cgi-bin/request.c (tests/unit/check_request.c); TAP on stdout.
t="${TICKET_BUILD:-$(dirname "$0")/../../build}/tests/check_request"
[ -x "$t" ] || { echo "Bail out! $t is not built: make -C cgi-bin unit"; exit 1; }
exec "$t"
