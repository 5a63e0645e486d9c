/*
 * payment: POST /api/reservations/{reservation_id}/payment, with an
 * optional Idempotency-Key and an empty body or {}.
 */
#include "ticket.h"

static void
pay_reservation(struct tk_req *r)
{
	tk_call(r, TK_PARAMS(r->key, r->token,
	    r->args[TK_FIELD_RESERVATION_ID], r->idem));
}

static const tk_handler handlers[TK_ROUTE__MAX] = {
	[TK_ROUTE_PAY_RESERVATION] = pay_reservation,
};

TK_PROGRAM(payment, handlers)
