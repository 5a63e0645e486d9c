/*
 * reservations: POST /api/reservations, GET and DELETE
 * /api/reservations/{reservation_id} (queue-gated; the token may be
 * absent once the reservation is no longer HELD: the database decides).
 */
#include "ticket.h"

TK_PROGRAM(TK_PROG_RESERVATIONS)
