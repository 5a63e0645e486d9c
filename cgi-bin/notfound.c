/*
 * notfound: every /api/ path that no other program serves.  It serves no
 * route, so the gate answers: a JSON 404 (or 405 with Allow, or 400 for a
 * bad escape).  It is also lighttpd's server.error-handler under /api/,
 * so that errors lighttpd meets there (413 over its own limit, 503 when a
 * backend is down) answer JSON too (REDIRECT_STATUS, see tk_serve).
 */
#include "ticket.h"

TK_PROGRAM(TK_PROG_NOTFOUND)
