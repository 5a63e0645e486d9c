#!/bin/sh
# Check suite of cgi-bin/valid.c (tests/unit/check_valid.c); TAP on stdout.
t="${TICKET_BUILD:-$(dirname "$0")/../../build}/tests/check_valid"
[ -x "$t" ] || { echo "Bail out! $t is not built: make -C cgi-bin unit"; exit 1; }
exec "$t"
