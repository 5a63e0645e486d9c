#!/bin/sh
# Check suite of cgi-bin/reply.c (tests/unit/check_reply.c); TAP on stdout.
t="${TICKET_BUILD:-$(dirname "$0")/../../build}/tests/check_reply"
[ -x "$t" ] || { echo "Bail out! $t is not built: make -C cgi-bin unit"; exit 1; }
exec "$t"
