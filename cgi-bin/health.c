/*
 * health: GET /api/health.  200 from api.health(); 503 with the error
 * body when the database cannot be reached.
 */
#include "ticket.h"

static void
health(struct tk_req *r)
{
	tk_call(r, NULL, 0);
}

static const tk_handler handlers[TK_ROUTE__MAX] = {
	[TK_ROUTE_HEALTH] = health,
};

TK_PROGRAM(health, handlers)
