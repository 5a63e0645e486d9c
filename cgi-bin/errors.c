/*
 * errors.c: every error answer.  The codes of API.md with their status,
 * the one SQLSTATE table of docs/sql-api.md, and the writer of the body
 * {"error": {"code", "message", "details", "hint"}}.
 */
#include <stdio.h>
#include <string.h>

#include "ticket.h"

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
	[TK_HOLD_EXPIRED]            = { 410, "HOLD_EXPIRED",            "the hold has expired" },
	[TK_PAYLOAD_TOO_LARGE]       = { 413, "PAYLOAD_TOO_LARGE",       "the request body is larger than 16384 bytes" },
	[TK_UNSUPPORTED_MEDIA_TYPE]  = { 415, "UNSUPPORTED_MEDIA_TYPE",  "the request body must be application/json" },
	[TK_IDEMPOTENCY_KEY_REUSED]  = { 422, "IDEMPOTENCY_KEY_REUSED",  "the idempotency key was used for another request" },
	[TK_QUEUE_NOT_ADMITTED]      = { 429, "QUEUE_NOT_ADMITTED",      "still waiting in the queue" },
	[TK_INTERNAL]                = { 500, "INTERNAL",                "internal error" },
	[TK_DATABASE_UNAVAILABLE]    = { 503, "DATABASE_UNAVAILABLE",    "the database is unavailable, try again" },
};

/*
 * SQLSTATE to code.  An entry is five characters, or two for a whole
 * class; exact entries come first.  With from_db the database's message,
 * DETAIL (as details) and HINT reach the client; the others answer the
 * code's own message, so that no internal text leaks.  Not listed: 500.
 */
static const struct tk_sqlstate {
	const char	*state;
	enum tk_code	 code;
	int		 from_db;
} tk_sqlstates[] = {
	{ "T400A", TK_INVALID_ARGUMENT,        1 },
	{ "T400B", TK_INVALID_AMOUNT,          1 },
	{ "T401A", TK_UNAUTHENTICATED,         1 },
	{ "T401B", TK_QUEUE_TOKEN_INVALID,     1 },
	{ "T401C", TK_QUEUE_TOKEN_EXPIRED,     1 },
	{ "T402A", TK_INSUFFICIENT_BALANCE,    1 },
	{ "T403A", TK_QUEUE_TOKEN_MISMATCH,    1 },
	{ "T404A", TK_NOT_FOUND,               1 },
	{ "T409A", TK_SEAT_UNAVAILABLE,        1 },
	{ "T409B", TK_HOLD_LIMIT_REACHED,      1 },
	{ "T409C", TK_RESERVATION_NOT_HELD,    1 },
	{ "T409D", TK_IDEMPOTENCY_IN_PROGRESS, 1 },
	{ "T410A", TK_HOLD_EXPIRED,            1 },
	{ "T422A", TK_IDEMPOTENCY_KEY_REUSED,  1 },
	{ "T429A", TK_QUEUE_NOT_ADMITTED,      1 },
	{ "23P01", TK_SEAT_UNAVAILABLE,        0 },	/* exclusion constraint */
	{ "23505", TK_SEAT_UNAVAILABLE,        0 },	/* unique constraint */
	{ "22",    TK_INVALID_ARGUMENT,        1 },	/* data exception */
	{ "08",    TK_DATABASE_UNAVAILABLE,    0 },	/* connection */
	{ "53",    TK_DATABASE_UNAVAILABLE,    0 },	/* insufficient resources */
	{ "57",    TK_DATABASE_UNAVAILABLE,    0 },	/* operator intervention, statement timeout */
	{ "40",    TK_DATABASE_UNAVAILABLE,    0 },	/* serialization failure, deadlock */
	{ "55",    TK_DATABASE_UNAVAILABLE,    0 },	/* lock timeout (55P03) */
};

static const struct tk_sqlstate *
sqlstate_find(const char *state)
{
	size_t	 i, n;

	if (state == NULL || strlen(state) != 5)
		return NULL;
	for (i = 0; i < sizeof(tk_sqlstates) / sizeof(tk_sqlstates[0]); i++) {
		n = strlen(tk_sqlstates[i].state);
		if (strncmp(state, tk_sqlstates[i].state, n) == 0)
			return &tk_sqlstates[i];
	}
	return NULL;
}

enum tk_code
tk_code_for_sqlstate(const char *state)
{
	const struct tk_sqlstate	*e = sqlstate_find(state);

	return e != NULL ? e->code : TK_INTERNAL;
}

/*
 * An error the web server met itself (lighttpd's error handler): the code
 * for its HTTP status.  The answer keeps only the statuses of API.md.
 */
enum tk_code
tk_code_for_status(int status)
{
	switch (status) {
	case 404:
		return TK_NOT_FOUND;
	case 405:
		return TK_METHOD_NOT_ALLOWED;
	case 413:
		return TK_PAYLOAD_TOO_LARGE;
	case 415:
		return TK_UNSUPPORTED_MEDIA_TYPE;
	case 502:
	case 503:
	case 504:
		return TK_DATABASE_UNAVAILABLE;
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

/*
 * Sets the error answer, replacing any answer set before.  message NULL
 * (or not UTF-8) is the code's own; details is stolen, NULL for null.
 * A details object with an integer "retry_after" sets Retry-After.
 */
void
tk_reply_error(struct tk_req *r, enum tk_code code, const char *message,
    json_t *details, const char *hint)
{
	static const char	 fallback[] = "{\"error\": {\"code\": "
	    "\"INTERNAL\", \"message\": \"internal error\", \"details\": null, "
	    "\"hint\": null}}";
	struct tk_reply		*p = &r->reply;
	json_t			*err, *msg, *ra;

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

	if ((msg = text_or_null(message)) == NULL)
		msg = json_string(tk_codes[code].message);
	err = json_pack("{s:{s:s, s:o, s:o, s:o}}", "error",
	    "code", tk_codes[code].name,
	    "message", or_null(msg),
	    "details", or_null(details),
	    "hint", or_null(text_or_null(hint)));
	if (err != NULL)
		p->owned = json_dumps(err, 0);
	json_decref(err);
	if (p->owned != NULL) {
		p->body = p->owned;
		p->bodylen = strlen(p->owned);
	} else {
		p->status = tk_codes[TK_INTERNAL].status;
		p->code = TK_INTERNAL;
		p->body = fallback;
		p->bodylen = sizeof(fallback) - 1;
	}
}

/* 400 naming a field: details {"field": ..., "reason": ...}. */
void
tk_reply_field(struct tk_req *r, enum tk_code code, const char *field,
    const char *reason)
{
	char	 msg[160];

	snprintf(msg, sizeof(msg), "%s %s", field, reason);
	tk_reply_error(r, code, msg, json_pack("{s:s, s:s}", "field", field,
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
tk_reply_db_error(struct tk_req *r, const struct tk_dbres *res)
{
	const struct tk_sqlstate	*e = sqlstate_find(res->sqlstate);
	enum tk_code			 code = e != NULL ? e->code : TK_INTERNAL;

	if (e == NULL || code == TK_DATABASE_UNAVAILABLE)
		tk_log("%s %s: database %s: %s%s%s", r->method_name, r->path,
		    res->sqlstate, res->message != NULL ? res->message : "",
		    res->detail != NULL ? ": " : "",
		    res->detail != NULL ? res->detail : "");
	if (e != NULL && e->from_db)
		tk_reply_error(r, code, res->message, detail_json(res->detail),
		    res->hint);
	else
		tk_reply_error(r, code, NULL, NULL, NULL);
}
