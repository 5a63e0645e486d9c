/*
 * payment: POST /api/reservations/{reservation_id}/payment, with an
 * optional Idempotency-Key and an empty body or {}.
 */
#include "ticket.h"

TK_PROGRAM(TK_PROG_PAYMENT)
