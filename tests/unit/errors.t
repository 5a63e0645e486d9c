#!/bin/sh
# Check suite of cgi-bin/errors.c (tests/unit/check_errors.c); TAP on stdout.
t="${TICKET_BUILD:-$(dirname "$0")/../../build}/tests/check_errors"
[ -x "$t" ] || { echo "Bail out! $t is not built: make -C cgi-bin unit"; exit 1; }
exec "$t"
