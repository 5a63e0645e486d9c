/*
 * health: GET /api/health.  200 from api.health(); 503 with the error
 * body when the database cannot be reached.
 */
#include "ticket.h"

TK_PROGRAM(TK_PROG_HEALTH)
