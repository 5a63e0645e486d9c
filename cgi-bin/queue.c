/*
 * queue: the waiting room.  POST /api/concerts/{concert_id}/queue,
 * GET and DELETE /api/queue.
 */
#include "ticket.h"

static void
issue_token(struct tk_req *r)
{
	tk_call(r, TK_PARAMS(r->key, r->args[TK_FIELD_CONCERT_ID]));
}

static void
queue_status(struct tk_req *r)
{
	tk_call(r, TK_PARAMS(r->token));
}

static void
leave_queue(struct tk_req *r)
{
	tk_call(r, TK_PARAMS(r->token));
}

static const tk_handler handlers[TK_ROUTE__MAX] = {
	[TK_ROUTE_ISSUE_TOKEN] = issue_token,
	[TK_ROUTE_QUEUE_STATUS] = queue_status,
	[TK_ROUTE_LEAVE_QUEUE] = leave_queue,
};

TK_PROGRAM(queue, handlers)
