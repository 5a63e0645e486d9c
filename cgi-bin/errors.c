/*
 * errors.c: every error answer.  The codes of docs/api.md with their
 * status, the one SQLSTATE table of docs/sql-api.md, the errors lighttpd
 * answers itself, and the writer of the body
 * {"error": {"code", "message", "details", "hint"}}.
 */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "extern.h"

const struct tk_codedef tk_codes[TK_CODE__MAX] = {
	/*                                status  code                       message */
	[TK_INVALID_JSON]            = { 400, "INVALID_JSON",            "the request body is not valid JSON" },
	[TK_INVALID_ARGUMENT]        = { 400, "INVALID_ARGUMENT",        "a request value is not valid" },
	[TK_INVALID_AMOUNT]          = { 400, "INVALID_AMOUNT",          "the amount is out of range" },
	[TK_UNAUTHENTICATED]         = { 401, "UNAUTHENTICATED",         "a valid API key is required" },
	[TK_QUEUE_TOKEN_INVALID]     = { 401, "QUEUE_TOKEN_INVALID",     "the queue token is not valid" },
	[TK_QUEUE_TOKEN_EXPIRED]     = { 401, "QUEUE_TOKEN_EXPIRED",     "the queue token has expired" },
	[TK_INSUFFICIENT_BALANCE]    = { 402, "INSUFFICIENT_BALANCE",    "the balance is too low" },
	[TK_QUEUE_TOKEN_MISMATCH]    = { 403, "QUEUE_TOKEN_MISMATCH",    "the queue token is for another user or concert" },
	[TK_NOT_FOUND]               = { 404, "NOT_FOUND",               "not found" },
	[TK_METHOD_NOT_ALLOWED]      = { 405, "METHOD_NOT_ALLOWED",      "method not allowed" },
	[TK_SEAT_UNAVAILABLE]        = { 409, "SEAT_UNAVAILABLE",        "the seat is held or sold by someone else" },
	[TK_HOLD_LIMIT_REACHED]      = { 409, "HOLD_LIMIT_REACHED",      "you already hold the most seats allowed" },
	[TK_RESERVATION_NOT_HELD]    = { 409, "RESERVATION_NOT_HELD",    "the reservation is not held" },
	[TK_IDEMPOTENCY_IN_PROGRESS] = { 409, "IDEMPOTENCY_IN_PROGRESS", "a request with this idempotency key is in progress" },
	[TK_QUEUE_NOT_OPEN]          = { 409, "QUEUE_NOT_OPEN",          "the queue of this concert is not open yet" },
	[TK_SALE_NOT_OPEN]           = { 409, "SALE_NOT_OPEN",           "booking for this date is not open yet" },
	[TK_REFUND_NOT_ALLOWED]      = { 409, "REFUND_NOT_ALLOWED",      "the reservation cannot be refunded" },
	[TK_HOLD_EXPIRED]            = { 410, "HOLD_EXPIRED",            "the hold has expired" },
	[TK_PAYLOAD_TOO_LARGE]       = { 413, "PAYLOAD_TOO_LARGE",       "the request body is larger than " TK_STR(TK_BODY_MAX) " bytes" },
	[TK_UNSUPPORTED_MEDIA_TYPE]  = { 415, "UNSUPPORTED_MEDIA_TYPE",  "the request body must be application/json" },
	[TK_IDEMPOTENCY_KEY_REUSED]  = { 422, "IDEMPOTENCY_KEY_REUSED",  "the idempotency key was used for another request" },
	[TK_QUEUE_NOT_ADMITTED]      = { 429, "QUEUE_NOT_ADMITTED",      "still waiting in the queue" },
	[TK_INTERNAL]                = { 500, "INTERNAL",                "internal error" },
	[TK_DATABASE_UNAVAILABLE]    = { 503, "DATABASE_UNAVAILABLE",    "the database is unavailable, try again" },
};

/*
 * SQLSTATE to code.  An entry is five characters, or two for a whole
 * class; exact entries come first.  An entry with a constraint matches
 * only an error of that constraint (PG_DIAG_CONSTRAINT_NAME).  With
 * from_db the database's message, DETAIL (as details) and HINT reach the
 * client; the others answer the code's own message, so that no internal
 * text leaks.  Not listed: 500.  Functions catch the unique violations
 * they expect, so any other 23505 or 23P01 is a bug: 500.
 */
static const struct tk_sqlstate {
	const char	*state;
	enum tk_code	 code;
	int		 from_db;
	const char	*constraint;
} tk_sqlstates[] = {
	{ "T400A", TK_INVALID_ARGUMENT,        1, NULL },
	{ "T400B", TK_INVALID_AMOUNT,          1, NULL },
	{ "T401A", TK_UNAUTHENTICATED,         1, NULL },
	{ "T401B", TK_QUEUE_TOKEN_INVALID,     1, NULL },
	{ "T401C", TK_QUEUE_TOKEN_EXPIRED,     1, NULL },
	{ "T402A", TK_INSUFFICIENT_BALANCE,    1, NULL },
	{ "T403A", TK_QUEUE_TOKEN_MISMATCH,    1, NULL },
	{ "T404A", TK_NOT_FOUND,               1, NULL },
	{ "T409A", TK_SEAT_UNAVAILABLE,        1, NULL },
	{ "T409B", TK_HOLD_LIMIT_REACHED,      1, NULL },
	{ "T409C", TK_RESERVATION_NOT_HELD,    1, NULL },
	{ "T409D", TK_IDEMPOTENCY_IN_PROGRESS, 1, NULL },
	{ "T409E", TK_REFUND_NOT_ALLOWED,      1, NULL },
	{ "T409F", TK_QUEUE_NOT_OPEN,          1, NULL },
	{ "T409G", TK_SALE_NOT_OPEN,           1, NULL },
	{ "T410A", TK_HOLD_EXPIRED,            1, NULL },
	{ "T422A", TK_IDEMPOTENCY_KEY_REUSED,  1, NULL },
	{ "T429A", TK_QUEUE_NOT_ADMITTED,      1, NULL },
	/* a second claim on a seat, caught by the exclusion constraint */
	{ "23P01", TK_SEAT_UNAVAILABLE,        0, "one_claim_per_seat" },
	{ "22",    TK_INVALID_ARGUMENT,        1, NULL },	/* data exception */
	{ "08",    TK_DATABASE_UNAVAILABLE,    0, NULL },	/* connection */
	{ "53",    TK_DATABASE_UNAVAILABLE,    0, NULL },	/* insufficient resources */
	{ "57",    TK_DATABASE_UNAVAILABLE,    0, NULL },	/* operator intervention, statement timeout */
	{ "40",    TK_DATABASE_UNAVAILABLE,    0, NULL },	/* serialization failure, deadlock */
	{ "55",    TK_DATABASE_UNAVAILABLE,    0, NULL },	/* lock timeout (55P03) */
};

/*
 * The errors lighttpd answers itself, before any program runs, from the
 * files ticket-errorfiles writes (a malformed request, a POST without
 * Content-Length, a URI too long, a path that is no file nor API, no
 * backend), and the code the error handler answers for them.  With no
 * message, the code's own.
 */
static const struct tk_weberror {
	int		 status;
	enum tk_code	 code;
	const char	*message;
} tk_weberrors[] = {
	{ 400, TK_INVALID_ARGUMENT,     "the HTTP request is malformed" },
	{ 404, TK_NOT_FOUND,            "no such resource" },
	{ 411, TK_INVALID_ARGUMENT,     "a POST needs a Content-Length header "
	    "(Content-Length: 0 for no body)" },
	{ 413, TK_PAYLOAD_TOO_LARGE,    NULL },
	{ 414, TK_INVALID_ARGUMENT,     "the URI is too long" },
	{ 431, TK_INVALID_ARGUMENT,     "the request headers are too large" },
	{ 500, TK_INTERNAL,             NULL },
	{ 501, TK_METHOD_NOT_ALLOWED,   "method not implemented" },
	{ 502, TK_DATABASE_UNAVAILABLE, NULL },
	{ 503, TK_DATABASE_UNAVAILABLE, NULL },
	{ 504, TK_DATABASE_UNAVAILABLE, NULL },
	{ 505, TK_INVALID_ARGUMENT,     "HTTP version not supported" },
};

static const struct tk_sqlstate *
sqlstate_find(const char *state, const char *constraint)
{
	const struct tk_sqlstate	*e;
	size_t				 i, n;

	if (state == NULL || strlen(state) != 5)
		return NULL;
	for (i = 0; i < sizeof(tk_sqlstates) / sizeof(tk_sqlstates[0]); i++) {
		e = &tk_sqlstates[i];
		n = strlen(e->state);
		if (strncmp(state, e->state, n) == 0 && (e->constraint == NULL ||
		    (constraint != NULL && strcmp(constraint, e->constraint) == 0)))
			return e;
	}
	return NULL;
}

/* The code of a database error, with its constraint (or NULL). */
enum tk_code
tk_error_for_sqlstate(const char *state, const char *constraint)
{
	const struct tk_sqlstate	*e = sqlstate_find(state, constraint);

	return e != NULL ? e->code : TK_INTERNAL;
}

/*
 * An error the web server met itself (lighttpd's error handler): the code
 * for its HTTP status.  The answer keeps only the statuses of docs/api.md.
 */
enum tk_code
tk_error_for_status(int status)
{
	size_t	 i;

	for (i = 0; i < sizeof(tk_weberrors) / sizeof(tk_weberrors[0]); i++)
		if (tk_weberrors[i].status == status)
			return tk_weberrors[i].code;
	switch (status) {
	case 405:
		return TK_METHOD_NOT_ALLOWED;
	case 415:
		return TK_UNSUPPORTED_MEDIA_TYPE;
	default:
		return status >= 500 ? TK_INTERNAL : TK_INVALID_ARGUMENT;
	}
}

/* A JSON string, or NULL when s is NULL or not valid UTF-8. */
static json_t *
text_or_null(const char *s)
{
	return s != NULL ? json_string(s) : NULL;
}

static json_t *
or_null(json_t *v)
{
	return v != NULL ? v : json_null();
}

/* The error body, or NULL when out of memory; details is stolen. */
static char *
error_body(enum tk_code code, const char *message, json_t *details,
    const char *hint)
{
	json_t	*err, *msg;
	char	*body = NULL;

	if ((msg = text_or_null(message)) == NULL)
		msg = json_string(tk_codes[code].message);
	err = json_pack("{s:{s:s, s:o, s:o, s:o}}", "error",
	    "code", tk_codes[code].name,
	    "message", or_null(msg),
	    "details", or_null(details),
	    "hint", or_null(text_or_null(hint)));
	if (err != NULL)
		body = json_dumps(err, 0);
	json_decref(err);
	return body;
}

/*
 * Sets the error answer, replacing any answer set before.  message NULL
 * (or not UTF-8) is the code's own; details is stolen, NULL for null.
 * A details object with an integer "retry_after" sets Retry-After.
 */
void
tk_error_reply(struct tk_req *r, enum tk_code code, const char *message,
    json_t *details, const char *hint)
{
	static const char	 fallback[] = "{\"error\": {\"code\": "
	    "\"INTERNAL\", \"message\": \"internal error\", \"details\": null, "
	    "\"hint\": null}}";
	struct tk_reply		*p = &r->reply;
	json_t			*ra;

	tk_reply_free(p);
	p->status = tk_codes[code].status;
	p->code = code;
	p->content_type = TK_JSON_TYPE;
	if (code == TK_DATABASE_UNAVAILABLE)
		p->retry_after = 1;
	if (json_is_object(details) &&
	    json_is_integer(ra = json_object_get(details, "retry_after")) &&
	    json_integer_value(ra) >= 0 && json_integer_value(ra) <= 86400)
		p->retry_after = (int)json_integer_value(ra);

	if ((p->owned = error_body(code, message, details, hint)) != NULL) {
		p->body = p->owned;
		p->bodylen = strlen(p->owned);
	} else {
		p->status = tk_codes[TK_INTERNAL].status;
		p->code = TK_INTERNAL;
		p->body = fallback;
		p->bodylen = sizeof(fallback) - 1;
	}
}

/*
 * The i-th error file lighttpd serves: its status, and its body to be
 * freed; NULL past the last (or out of memory, *status then 0).
 */
char *
tk_error_file(size_t i, int *status)
{
	*status = 0;
	if (i >= sizeof(tk_weberrors) / sizeof(tk_weberrors[0]))
		return NULL;
	*status = tk_weberrors[i].status;
	return error_body(tk_weberrors[i].code, tk_weberrors[i].message,
	    NULL, NULL);
}

/* 400 naming a field: details {"field": ..., "reason": ...}. */
void
tk_error_field(struct tk_req *r, enum tk_code code, const char *field,
    const char *reason)
{
	char	 msg[160];

	snprintf(msg, sizeof(msg), "%s %s", field, reason);
	tk_error_reply(r, code, msg, json_pack("{s:s, s:s}", "field", field,
	    "reason", reason), NULL);
}

/* DETAIL is a JSON object; anything else is passed on as a string. */
static json_t *
detail_json(const char *detail)
{
	json_t	*v;

	if (detail == NULL)
		return NULL;
	v = json_loads(detail, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(v))
		return v;
	json_decref(v);
	return json_string(detail);
}

void
tk_error_db(struct tk_req *r, const struct tk_dbres *res)
{
	const struct tk_sqlstate	*e = sqlstate_find(res->sqlstate,
					    res->constraint);
	enum tk_code			 code = e != NULL ? e->code : TK_INTERNAL;

	if (e == NULL || code == TK_DATABASE_UNAVAILABLE)
		tk_log("%s %s: database %s%s%s: %s%s%s", r->method_name,
		    r->path, res->sqlstate,
		    res->constraint != NULL ? " on " : "",
		    res->constraint != NULL ? res->constraint : "",
		    res->message != NULL ? res->message : "",
		    res->detail != NULL ? ": " : "",
		    res->detail != NULL ? res->detail : "");
	if (e != NULL && e->from_db)
		tk_error_reply(r, code, res->message, detail_json(res->detail),
		    res->hint);
	else
		tk_error_reply(r, code, NULL, NULL, NULL);
}
