#!/bin/sh
# Check suite of cgi-bin/errors.c (tests/unit/check_errors.c), with the
# ticket-errorfiles program; TAP on stdout.
b="${TICKET_BUILD:-$(dirname "$0")/../../build}"
t="$b/tests/check_errors"
[ -x "$t" ] || { echo "Bail out! $t is not built: make -C cgi-bin unit"; exit 1; }
TICKET_ERRORFILES="$b/bin/ticket-errorfiles"
[ -x "$TICKET_ERRORFILES" ] || { echo "Bail out! $TICKET_ERRORFILES is not built: make -C cgi-bin"; exit 1; }
export TICKET_ERRORFILES
exec "$t"
