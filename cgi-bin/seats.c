/*
 * seats: GET /api/concerts/{concert_id}/dates and
 * GET /api/concerts/{concert_id}/dates/{date}/seats (queue-gated).
 */
#include "ticket.h"

static void
available_dates(struct tk_req *r)
{
	tk_call(r, TK_PARAMS(r->key, r->token,
	    r->args[TK_FIELD_CONCERT_ID]));
}

static void
seat_map(struct tk_req *r)
{
	tk_call(r, TK_PARAMS(r->key, r->token,
	    r->args[TK_FIELD_CONCERT_ID], r->args[TK_FIELD_DATE]));
}

static const tk_handler handlers[TK_ROUTE__MAX] = {
	[TK_ROUTE_AVAILABLE_DATES] = available_dates,
	[TK_ROUTE_SEAT_MAP] = seat_map,
};

TK_PROGRAM(seats, handlers)
