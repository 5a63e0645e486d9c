/* concerts: GET /api/concerts. */
#include "ticket.h"

TK_PROGRAM(TK_PROG_CONCERTS)
