/*
 * concerts: GET /api/concerts, GET /api/concerts/{concert_id}, and the
 * proof of a sale's pre-queue order: GET /api/concerts/{concert_id}/shuffle
 * and .../shuffle/entries.
 */
#include "ticket.h"

TK_PROGRAM(TK_PROG_CONCERTS)
