/*
 * metrics: GET /api/metrics, Prometheus text from api.metrics() (whose
 * body is a JSON string; see TK_TEXT in route.c).
 */
#include "ticket.h"

TK_PROGRAM(TK_PROG_METRICS)
