/* concerts: GET /api/concerts. */
#include "ticket.h"

static void
list_concerts(struct tk_req *r)
{
	tk_call(r, NULL, 0);
}

static const tk_handler handlers[TK_ROUTE__MAX] = {
	[TK_ROUTE_LIST_CONCERTS] = list_concerts,
};

TK_PROGRAM(concerts, handlers)
