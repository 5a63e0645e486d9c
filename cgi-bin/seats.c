/*
 * seats: GET /api/concerts/{concert_id}/dates and
 * GET /api/concerts/{concert_id}/dates/{date}/seats (queue-gated).
 */
#include "ticket.h"

TK_PROGRAM(TK_PROG_SEATS)
