/*
 * metrics: GET /api/metrics, Prometheus text from api.metrics() (whose
 * body is a JSON string; see TK_TEXT in route.c).
 */
#include "ticket.h"

static void
metrics(struct tk_req *r)
{
	tk_call(r, NULL, 0);
}

static const tk_handler handlers[TK_ROUTE__MAX] = {
	[TK_ROUTE_METRICS] = metrics,
};

TK_PROGRAM(metrics, handlers)
