/*
 * wallet: GET /api/wallet, POST /api/wallet/charge,
 * GET /api/wallet/transactions.
 */
#include "ticket.h"

static void
get_wallet(struct tk_req *r)
{
	tk_call(r, TK_PARAMS(r->key));
}

static void
charge_wallet(struct tk_req *r)
{
	if (tk_body_or_reply(r, TK_FIELD_AMOUNT, TK_REQUIRED) != TK_OK)
		return;
	tk_call(r, TK_PARAMS(r->key, r->args[TK_FIELD_AMOUNT], r->idem));
}

static void
list_transactions(struct tk_req *r)
{
	if (tk_query_or_reply(r, TK_FIELD_LIMIT, "50") != TK_OK ||
	    tk_query_or_reply(r, TK_FIELD_BEFORE, NULL) != TK_OK)
		return;
	tk_call(r, TK_PARAMS(r->key, r->args[TK_FIELD_LIMIT],
	    r->args[TK_FIELD_BEFORE]));
}

static const tk_handler handlers[TK_ROUTE__MAX] = {
	[TK_ROUTE_GET_WALLET] = get_wallet,
	[TK_ROUTE_CHARGE_WALLET] = charge_wallet,
	[TK_ROUTE_LIST_TRANSACTIONS] = list_transactions,
};

TK_PROGRAM(wallet, handlers)
