/*
 * reservations: POST /api/reservations, GET and DELETE
 * /api/reservations/{reservation_id} (queue-gated; the token may be
 * absent once the reservation is no longer HELD: the database decides).
 */
#include "ticket.h"

/* {"concert_id", "date", "seat_nos": [7, 8]} or "seat_no": 7. */
static void
hold_seat(struct tk_req *r)
{
	const char	*seats;

	if (tk_body_or_reply(r, TK_FIELD_CONCERT_ID, TK_REQUIRED) != TK_OK ||
	    tk_body_or_reply(r, TK_FIELD_DATE, TK_REQUIRED) != TK_OK ||
	    tk_body_or_reply(r, TK_FIELD_SEAT_NOS, TK_OPTIONAL) != TK_OK ||
	    tk_body_or_reply(r, TK_FIELD_SEAT_NO, TK_OPTIONAL) != TK_OK)
		return;
	if (r->args[TK_FIELD_SEAT_NOS] != NULL &&
	    r->args[TK_FIELD_SEAT_NO] != NULL) {
		tk_reply_field(r, TK_INVALID_ARGUMENT, "seat_nos",
		    "and seat_no cannot both be given");
		return;
	}
	seats = r->args[TK_FIELD_SEAT_NOS] != NULL ?
	    r->args[TK_FIELD_SEAT_NOS] : r->args[TK_FIELD_SEAT_NO];
	if (seats == NULL) {
		tk_reply_field(r, TK_INVALID_ARGUMENT, "seat_nos",
		    "is required");
		return;
	}
	tk_call(r, TK_PARAMS(r->key, r->token, r->args[TK_FIELD_CONCERT_ID],
	    r->args[TK_FIELD_DATE], seats));
}

static void
get_reservation(struct tk_req *r)
{
	tk_call(r, TK_PARAMS(r->key, r->token,
	    r->args[TK_FIELD_RESERVATION_ID]));
}

static void
cancel_reservation(struct tk_req *r)
{
	tk_call(r, TK_PARAMS(r->key, r->token,
	    r->args[TK_FIELD_RESERVATION_ID]));
}

static const tk_handler handlers[TK_ROUTE__MAX] = {
	[TK_ROUTE_HOLD_SEAT] = hold_seat,
	[TK_ROUTE_GET_RESERVATION] = get_reservation,
	[TK_ROUTE_CANCEL_RESERVATION] = cancel_reservation,
};

TK_PROGRAM(reservations, handlers)
