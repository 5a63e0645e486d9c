#!/bin/sh
# Check suite of cgi-bin/serve.c (tests/unit/check_serve.c); TAP on stdout.
t="${TICKET_BUILD:-$(dirname "$0")/../../build}/tests/check_serve"
[ -x "$t" ] || { echo "Bail out! $t is not built: make -C cgi-bin unit"; exit 1; }
exec "$t"
