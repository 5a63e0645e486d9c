/* users: POST /api/users. */
#include "ticket.h"

TK_PROGRAM(TK_PROG_USERS)
