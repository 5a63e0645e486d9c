/*
 * payment: POST /api/reservations/{reservation_id}/payment and .../refund,
 * each with an optional Idempotency-Key and an empty body or {}: the
 * programs that move a booking's money.
 */
#include "ticket.h"

TK_PROGRAM(TK_PROG_PAYMENT)
