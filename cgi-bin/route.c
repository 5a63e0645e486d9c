/*
 * route.c: which URL and method call which api.* function, with which
 * arguments, in which program.  Reading the tables below tells the whole
 * HTTP interface; docs/api.md is the same in prose.
 */
#include <string.h>

#include "extern.h"

/* "{field}" segments are bound to the field of that name (valid.c). */
const char *const tk_paths[TK_PATH__MAX] = {
	[TK_PATH_USERS]               = "/api/users",
	[TK_PATH_WALLET]              = "/api/wallet",
	[TK_PATH_WALLET_CHARGE]       = "/api/wallet/charge",
	[TK_PATH_WALLET_TRANSACTIONS] = "/api/wallet/transactions",
	[TK_PATH_CONCERTS]            = "/api/concerts",
	[TK_PATH_CONCERT]             = "/api/concerts/{concert_id}",
	[TK_PATH_SHUFFLE]             = "/api/concerts/{concert_id}/shuffle",
	[TK_PATH_SHUFFLE_ENTRIES]     = "/api/concerts/{concert_id}/shuffle/entries",
	[TK_PATH_CONCERT_QUEUE]       = "/api/concerts/{concert_id}/queue",
	[TK_PATH_QUEUE]               = "/api/queue",
	[TK_PATH_CONCERT_DATES]       = "/api/concerts/{concert_id}/dates",
	[TK_PATH_CONCERT_SEATS]       = "/api/concerts/{concert_id}/dates/{date}/seats",
	[TK_PATH_RESERVATIONS]        = "/api/reservations",
	[TK_PATH_RESERVATION]         = "/api/reservations/{reservation_id}",
	[TK_PATH_RESERVATION_PAYMENT] = "/api/reservations/{reservation_id}/payment",
	[TK_PATH_RESERVATION_REFUND]  = "/api/reservations/{reservation_id}/refund",
	[TK_PATH_HEALTH]              = "/api/health",
	[TK_PATH_METRICS]             = "/api/metrics",
};

/*
 * Functions of schema api (docs/sql-api.md) with their parameters in
 * order: the one place the C side states them.  Every value is passed
 * as text; an absent optional one as NULL.
 */
const struct tk_stmtdef tk_stmts[TK_STMT__MAX] = {
	[TK_STMT_CREATE_USER]        = { "create_user",        TK_ARGS(TK_FIELD_NAME) },
	[TK_STMT_GET_WALLET]         = { "get_wallet",         TK_ARGS(TK_FIELD_KEY) },
	[TK_STMT_CHARGE_WALLET]      = { "charge_wallet",      TK_ARGS(TK_FIELD_KEY, TK_FIELD_AMOUNT, TK_FIELD_IDEM) },
	[TK_STMT_LIST_TRANSACTIONS]  = { "list_transactions",  TK_ARGS(TK_FIELD_KEY, TK_FIELD_LIMIT, TK_FIELD_BEFORE) },
	[TK_STMT_LIST_CONCERTS]      = { "list_concerts",      TK_ARGS(TK_FIELD_STATUSES) },
	[TK_STMT_GET_CONCERT]        = { "get_concert",        TK_ARGS(TK_FIELD_CONCERT_ID) },
	[TK_STMT_SHUFFLE_PROOF]      = { "shuffle_proof",      TK_ARGS(TK_FIELD_CONCERT_ID) },
	[TK_STMT_SHUFFLE_ENTRIES]    = { "shuffle_entries",    TK_ARGS(TK_FIELD_CONCERT_ID, TK_FIELD_AFTER, TK_FIELD_ENTRIES_LIMIT) },
	[TK_STMT_ISSUE_TOKEN]        = { "issue_token",        TK_ARGS(TK_FIELD_KEY, TK_FIELD_CONCERT_ID) },
	[TK_STMT_QUEUE_STATUS]       = { "queue_status",       TK_ARGS(TK_FIELD_TOKEN) },
	[TK_STMT_LEAVE_QUEUE]        = { "leave_queue",        TK_ARGS(TK_FIELD_TOKEN) },
	[TK_STMT_AVAILABLE_DATES]    = { "available_dates",    TK_ARGS(TK_FIELD_KEY, TK_FIELD_TOKEN, TK_FIELD_CONCERT_ID) },
	[TK_STMT_SEAT_MAP]           = { "seat_map",           TK_ARGS(TK_FIELD_KEY, TK_FIELD_TOKEN, TK_FIELD_CONCERT_ID, TK_FIELD_DATE) },
	[TK_STMT_HOLD_SEAT]          = { "hold_seat",          TK_ARGS(TK_FIELD_KEY, TK_FIELD_TOKEN, TK_FIELD_CONCERT_ID, TK_FIELD_DATE, TK_FIELD_SEAT_NOS) },
	[TK_STMT_GET_RESERVATION]    = { "get_reservation",    TK_ARGS(TK_FIELD_KEY, TK_FIELD_TOKEN, TK_FIELD_RESERVATION_ID) },
	[TK_STMT_CANCEL_RESERVATION] = { "cancel_reservation", TK_ARGS(TK_FIELD_KEY, TK_FIELD_TOKEN, TK_FIELD_RESERVATION_ID) },
	[TK_STMT_PAY_RESERVATION]    = { "pay_reservation",    TK_ARGS(TK_FIELD_KEY, TK_FIELD_TOKEN, TK_FIELD_RESERVATION_ID, TK_FIELD_IDEM) },
	[TK_STMT_REFUND_RESERVATION] = { "refund_reservation", TK_ARGS(TK_FIELD_KEY, TK_FIELD_RESERVATION_ID, TK_FIELD_IDEM) },
	[TK_STMT_HEALTH]             = { "health",             TK_NOARGS },
	[TK_STMT_METRICS]            = { "metrics",            TK_NOARGS },
	[TK_STMT_NOTE_ERROR]         = { "note_error",         TK_ARGS(TK_FIELD_CODE) },	/* main.c, after an error answer */
};

/*
 * A route reads the credentials its statement takes from their headers,
 * and a body only when its flags say so (TK_BODY, TK_BODY_OPT).
 */
const struct tk_routedef tk_routes[TK_ROUTE__MAX] = {
	/*                                method     path                          statement                   program               reads */
	[TK_ROUTE_CREATE_USER]        = { TK_POST,   TK_PATH_USERS,                TK_STMT_CREATE_USER,        TK_PROG_USERS,        TK_BODY },
	[TK_ROUTE_GET_WALLET]         = { TK_GET,    TK_PATH_WALLET,               TK_STMT_GET_WALLET,         TK_PROG_WALLET,       0 },
	[TK_ROUTE_CHARGE_WALLET]      = { TK_POST,   TK_PATH_WALLET_CHARGE,        TK_STMT_CHARGE_WALLET,      TK_PROG_WALLET,       TK_BODY },
	[TK_ROUTE_LIST_TRANSACTIONS]  = { TK_GET,    TK_PATH_WALLET_TRANSACTIONS,  TK_STMT_LIST_TRANSACTIONS,  TK_PROG_WALLET,       0 },
	[TK_ROUTE_LIST_CONCERTS]      = { TK_GET,    TK_PATH_CONCERTS,             TK_STMT_LIST_CONCERTS,      TK_PROG_CONCERTS,     0 },
	[TK_ROUTE_GET_CONCERT]        = { TK_GET,    TK_PATH_CONCERT,              TK_STMT_GET_CONCERT,        TK_PROG_CONCERTS,     0 },
	[TK_ROUTE_SHUFFLE_PROOF]      = { TK_GET,    TK_PATH_SHUFFLE,              TK_STMT_SHUFFLE_PROOF,      TK_PROG_CONCERTS,     0 },
	[TK_ROUTE_SHUFFLE_ENTRIES]    = { TK_GET,    TK_PATH_SHUFFLE_ENTRIES,      TK_STMT_SHUFFLE_ENTRIES,    TK_PROG_CONCERTS,     0 },
	[TK_ROUTE_ISSUE_TOKEN]        = { TK_POST,   TK_PATH_CONCERT_QUEUE,        TK_STMT_ISSUE_TOKEN,        TK_PROG_QUEUE,        TK_BODY_OPT },
	[TK_ROUTE_QUEUE_STATUS]       = { TK_GET,    TK_PATH_QUEUE,                TK_STMT_QUEUE_STATUS,       TK_PROG_QUEUE,        0 },
	[TK_ROUTE_LEAVE_QUEUE]        = { TK_DELETE, TK_PATH_QUEUE,                TK_STMT_LEAVE_QUEUE,        TK_PROG_QUEUE,        0 },
	[TK_ROUTE_AVAILABLE_DATES]    = { TK_GET,    TK_PATH_CONCERT_DATES,        TK_STMT_AVAILABLE_DATES,    TK_PROG_SEATS,        0 },
	[TK_ROUTE_SEAT_MAP]           = { TK_GET,    TK_PATH_CONCERT_SEATS,        TK_STMT_SEAT_MAP,           TK_PROG_SEATS,        0 },
	[TK_ROUTE_HOLD_SEAT]          = { TK_POST,   TK_PATH_RESERVATIONS,         TK_STMT_HOLD_SEAT,          TK_PROG_RESERVATIONS, TK_BODY },
	[TK_ROUTE_GET_RESERVATION]    = { TK_GET,    TK_PATH_RESERVATION,          TK_STMT_GET_RESERVATION,    TK_PROG_RESERVATIONS, 0 },
	[TK_ROUTE_CANCEL_RESERVATION] = { TK_DELETE, TK_PATH_RESERVATION,          TK_STMT_CANCEL_RESERVATION, TK_PROG_RESERVATIONS, 0 },
	[TK_ROUTE_PAY_RESERVATION]    = { TK_POST,   TK_PATH_RESERVATION_PAYMENT,  TK_STMT_PAY_RESERVATION,    TK_PROG_PAYMENT,      TK_BODY_OPT },
	[TK_ROUTE_REFUND_RESERVATION] = { TK_POST,   TK_PATH_RESERVATION_REFUND,   TK_STMT_REFUND_RESERVATION, TK_PROG_PAYMENT,      TK_BODY_OPT },
	[TK_ROUTE_HEALTH]             = { TK_GET,    TK_PATH_HEALTH,               TK_STMT_HEALTH,             TK_PROG_HEALTH,       0 },
	[TK_ROUTE_METRICS]            = { TK_GET,    TK_PATH_METRICS,              TK_STMT_METRICS,            TK_PROG_METRICS,      TK_TEXT },
};

/* Query parameters and body members, in the order they are checked. */
const struct tk_inputdef tk_inputs[] = {
	/* route                        field                 from           presence     when absent */
	{ TK_ROUTE_CREATE_USER,       TK_FIELD_NAME,        TK_FROM_BODY,  TK_REQUIRED, NULL },
	{ TK_ROUTE_CHARGE_WALLET,     TK_FIELD_AMOUNT,      TK_FROM_BODY,  TK_REQUIRED, NULL },
	{ TK_ROUTE_LIST_TRANSACTIONS, TK_FIELD_LIMIT,       TK_FROM_QUERY, TK_OPTIONAL, "50" },
	{ TK_ROUTE_LIST_TRANSACTIONS, TK_FIELD_BEFORE,      TK_FROM_QUERY, TK_OPTIONAL, NULL },
	{ TK_ROUTE_LIST_CONCERTS,     TK_FIELD_STATUSES,    TK_FROM_QUERY, TK_OPTIONAL, NULL },
	{ TK_ROUTE_SHUFFLE_ENTRIES,   TK_FIELD_AFTER,       TK_FROM_QUERY, TK_OPTIONAL, "0" },
	{ TK_ROUTE_SHUFFLE_ENTRIES,   TK_FIELD_ENTRIES_LIMIT, TK_FROM_QUERY, TK_OPTIONAL, "1000" },
	{ TK_ROUTE_HOLD_SEAT,         TK_FIELD_CONCERT_ID,  TK_FROM_BODY,  TK_REQUIRED, NULL },
	{ TK_ROUTE_HOLD_SEAT,         TK_FIELD_DATE,        TK_FROM_BODY,  TK_REQUIRED, NULL },
	{ TK_ROUTE_HOLD_SEAT,         TK_FIELD_SEAT_NOS,    TK_FROM_BODY,  TK_EITHER,   NULL },
	{ TK_ROUTE_HOLD_SEAT,         TK_FIELD_SEAT_NO,     TK_FROM_BODY,  TK_OR,       NULL },	/* one seat, as [n] */
	{ .route = TK_ROUTE__MAX },
};

/*
 * Matches decoded segments against one pattern; binds "{field}" segments.
 */
static int
match_path(const char *pattern, char segs[TK_SEG_MAX][TK_SEGLEN_MAX + 1],
    int nsegs, struct tk_routing *out)
{
	const char	*p = pattern, *end;
	size_t		 n;
	int		 i = 0;

	out->nvars = 0;
	while (*p == '/') {
		p++;
		end = strchr(p, '/');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (i >= nsegs)
			return 0;
		if (n > 2 && p[0] == '{' && p[n - 1] == '}') {
			out->fields[out->nvars] = tk_valid_field(p + 1, n - 2);
			memcpy(out->values[out->nvars], segs[i],
			    sizeof(out->values[0]));
			out->nvars++;
		} else if (strlen(segs[i]) != n || memcmp(segs[i], p, n) != 0)
			return 0;
		i++;
		p += n;
	}
	return i == nsegs;
}

void
tk_route_find(enum tk_method method, const char *path, struct tk_routing *out)
{
	char		 segs[TK_SEG_MAX][TK_SEGLEN_MAX + 1];
	char		 seg[3 * TK_SEGLEN_MAX + 1];
	const char	*p, *end;
	int		 nsegs = 0, i, p_id;
	size_t		 n;
	long		 dlen;

	memset(out, 0, sizeof(*out));
	out->match = TK_MATCH_NOT_FOUND;
	out->path = TK_PATH__MAX;
	out->route = TK_ROUTE__MAX;

	/* "/a/b/c": no empty segment, none too long, not too many. */
	if (path == NULL || path[0] != '/')
		return;
	for (p = path; *p == '/'; p = end) {
		p++;
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 0 || nsegs == TK_SEG_MAX || n > 3 * TK_SEGLEN_MAX)
			return;
		if ((dlen = tk_req_pct_decode(p, n, seg, sizeof(seg), 0)) < 0) {
			out->match = TK_MATCH_BAD_ESCAPE;
			return;
		}
		if (dlen > TK_SEGLEN_MAX)
			return;
		memcpy(segs[nsegs], seg, (size_t)dlen + 1);
		nsegs++;
	}

	for (p_id = 0; p_id < TK_PATH__MAX; p_id++)
		if (match_path(tk_paths[p_id], segs, nsegs, out))
			break;
	if (p_id == TK_PATH__MAX)
		return;
	out->path = (enum tk_path)p_id;
	out->match = TK_MATCH_BAD_METHOD;
	for (i = 0; i < TK_ROUTE__MAX; i++)
		if (tk_routes[i].path == out->path &&
		    tk_routes[i].method == method) {
			out->route = (enum tk_route)i;
			out->match = TK_MATCH_OK;
			return;
		}
}

/* Whether a statement takes a field as one of its arguments. */
int
tk_route_takes(enum tk_stmt s, enum tk_field f)
{
	int	 i;

	for (i = 0; i < tk_stmts[s].nparams; i++)
		if (tk_stmts[s].params[i] == f)
			return 1;
	return 0;
}

/* The Allow header of a path: its methods in table order. */
size_t
tk_route_allow(enum tk_path path, char *buf, size_t size)
{
	size_t	 len = 0, n, sep;
	int	 i;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	for (i = 0; i < TK_ROUTE__MAX; i++) {
		if (tk_routes[i].path != path)
			continue;
		n = strlen(tk_methods[tk_routes[i].method]);
		sep = len > 0 ? 2 : 0;
		if (len + sep + n + 1 > size)
			break;
		memcpy(buf + len, ", ", sep);
		len += sep;
		memcpy(buf + len, tk_methods[tk_routes[i].method], n + 1);
		len += n;
	}
	return len;
}
