/* users: POST /api/users. */
#include "ticket.h"

static void
create_user(struct tk_req *r)
{
	if (tk_body_or_reply(r, TK_FIELD_NAME, TK_REQUIRED) != TK_OK)
		return;
	tk_call(r, TK_PARAMS(r->args[TK_FIELD_NAME]));
}

static const tk_handler handlers[TK_ROUTE__MAX] = {
	[TK_ROUTE_CREATE_USER] = create_user,
};

TK_PROGRAM(users, handlers)
