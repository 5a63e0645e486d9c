/*
 * queue: the waiting room.  POST /api/concerts/{concert_id}/queue,
 * GET and DELETE /api/queue.
 */
#include "ticket.h"

TK_PROGRAM(TK_PROG_QUEUE)
