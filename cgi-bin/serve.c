/*
 * serve.c: the gate every request passes before its handler (route,
 * method, path values, credentials, body), and the "validate or reply"
 * helpers handlers are made of.  A helper that fails has already set the
 * error answer and returns TK_REPLIED, so a handler bails out in one line.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ticket.h"

/* 404, 405 with Allow, or 400 for a path that cannot be decoded. */
static int
gate_route(struct tk_req *r, struct tk_routing *rt)
{
	tk_route_find(r->method, r->path, rt);
	switch (rt->match) {
	case TK_MATCH_OK:
		r->route = rt->route;
		return TK_OK;
	case TK_MATCH_BAD_METHOD:
		tk_reply_error(r, TK_METHOD_NOT_ALLOWED, NULL,
		    json_pack("{s:s?}", "method", r->method_name), NULL);
		tk_route_allow(rt->path, r->reply.allow,
		    sizeof(r->reply.allow));
		return TK_REPLIED;
	case TK_MATCH_BAD_ESCAPE:
		tk_reply_field(r, TK_INVALID_ARGUMENT, "path",
		    "has a bad percent-encoding");
		return TK_REPLIED;
	case TK_MATCH_NOT_FOUND:
		break;
	}
	tk_reply_error(r, TK_NOT_FOUND, "no such resource", NULL, NULL);
	return TK_REPLIED;
}

/*
 * Credentials are checked for shape only, in the order the database
 * checks them: the API key, then the queue token.  An absent one is
 * passed on as NULL and the database answers.  With no key, a malformed
 * token is not looked at, so the answer stays UNAUTHENTICATED.
 */
static int
gate_credentials(struct tk_req *r, unsigned int flags)
{
	if ((flags & TK_KEY) && r->authorization != NULL &&
	    (r->key = tk_bearer(r->authorization)) == NULL) {
		tk_reply_error(r, TK_UNAUTHENTICATED, "the Authorization "
		    "header must be: Bearer <api key>", NULL, NULL);
		return TK_REPLIED;
	}
	if ((flags & TK_TOKEN) && r->queue_token != NULL &&
	    (!(flags & TK_KEY) || r->key != NULL)) {
		if (!tk_token_syntax(r->queue_token, strlen(r->queue_token))) {
			tk_reply_error(r, TK_QUEUE_TOKEN_INVALID,
			    "the X-Queue-Token header is not a queue token",
			    NULL, NULL);
			return TK_REPLIED;
		}
		r->token = r->queue_token;
	}
	if ((flags & TK_IDEM) && r->idempotency_key != NULL) {
		if (!tk_idem_syntax(r->idempotency_key)) {
			tk_reply_field(r, TK_INVALID_ARGUMENT,
			    "Idempotency-Key", "must be 1 to 255 printable "
			    "ASCII characters");
			return TK_REPLIED;
		}
		r->idem = r->idempotency_key;
	}
	return TK_OK;
}

/* Does v, read with integers as reals, hold a number past int64? */
static int
has_huge_number(const json_t *v)
{
	const char	*k;
	json_t		*m;
	size_t		 i;
	double		 d;

	if (json_is_real(v)) {
		d = json_real_value(v);
		return !isfinite(d) || fabs(d) >= 9223372036854775808.0;
	}
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			if (has_huge_number(json_array_get(v, i)))
				return 1;
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, m)
			if (has_huge_number(m))
				return 1;
	}
	return 0;
}

/*
 * The name of the object member whose value ends just before pos (where
 * the parser stopped): back over the value, the ':' and the quoted name.
 * Returns 0 when the text there is not `"name": value`.
 */
static int
member_before(const char *body, size_t pos, char *out, size_t outsize)
{
	size_t	 end, start;

	while (pos > 0 && body[pos - 1] != ':' && body[pos - 1] != ',' &&
	    body[pos - 1] != '{' && body[pos - 1] != '[')
		pos--;
	if (pos == 0 || body[pos - 1] != ':')
		return 0;
	pos--;
	while (pos > 0 && strchr(" \t\r\n", body[pos - 1]) != NULL)
		pos--;
	if (pos == 0 || body[pos - 1] != '"')
		return 0;
	end = --pos;
	while (pos > 0 && body[pos - 1] != '"')
		pos--;
	if (pos == 0 || end - pos >= outsize)
		return 0;
	start = pos;
	memcpy(out, body + start, end - start);
	out[end - start] = '\0';
	return 1;
}

/* A number out of range in member k: its field's range error, else 400. */
static void
reply_huge_member(struct tk_req *r, const char *k)
{
	enum tk_field	 f = tk_field_by_name(k, strlen(k));

	if (f != TK_FIELD__MAX && (tk_fields[f].kind == TK_KIND_INT ||
	    tk_fields[f].kind == TK_KIND_SEAT))
		tk_reply_range(r, f);
	else
		tk_reply_field(r, TK_INVALID_ARGUMENT, k,
		    "holds a number out of range");
}

/*
 * jansson refuses integers past int64.  Name the member that holds one:
 * out of range for its field (INVALID_AMOUNT for an amount), else 400.
 * A number past even a double's range stops the second parse too: then
 * the member is the one the first parse stopped in (pos).
 */
static void
reply_overflow(struct tk_req *r, size_t pos)
{
	char		 name[64];
	const char	*k;
	json_t		*doc, *m;

	doc = json_loadb(r->body, r->bodylen,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, NULL);
	if (doc == NULL && pos <= r->bodylen &&
	    member_before(r->body, pos, name, sizeof(name))) {
		reply_huge_member(r, name);
		return;
	}
	json_object_foreach(doc, k, m) {
		if (!has_huge_number(m))
			continue;
		if (json_is_real(m))
			reply_huge_member(r, k);
		else
			tk_reply_field(r, TK_INVALID_ARGUMENT, k,
			    "holds a number out of range");
		json_decref(doc);
		return;
	}
	json_decref(doc);
	tk_reply_error(r, TK_INVALID_ARGUMENT, "a number is out of range",
	    NULL, NULL);
}

/* The body: at most 16 KiB (413), JSON (415), valid (400), an object. */
static int
gate_body(struct tk_req *r, unsigned int flags)
{
	json_error_t	 err;
	char		 msg[200];

	if (r->content_length < 0) {
		tk_reply_field(r, TK_INVALID_ARGUMENT, "Content-Length",
		    "must be a number");
		return TK_REPLIED;
	}
	if (r->body_too_large || r->bodylen > TK_BODY_MAX) {
		tk_reply_error(r, TK_PAYLOAD_TOO_LARGE, NULL,
		    json_pack("{s:i}", "limit", TK_BODY_MAX), NULL);
		return TK_REPLIED;
	}
	if (r->bodylen == 0) {
		if (!(flags & TK_BODY))
			return TK_OK;
		tk_reply_error(r, TK_INVALID_JSON,
		    "the request body must be a JSON object", NULL, NULL);
		return TK_REPLIED;
	}
	if (!tk_is_json_type(r->content_type)) {
		tk_reply_error(r, TK_UNSUPPORTED_MEDIA_TYPE, NULL,
		    json_pack("{s:s?}", "content_type", r->content_type),
		    NULL);
		return TK_REPLIED;
	}
	r->json = json_loadb(r->body, r->bodylen, JSON_REJECT_DUPLICATES, &err);
	if (r->json == NULL) {
		if (json_error_code(&err) == json_error_numeric_overflow) {
			reply_overflow(r, (size_t)err.position);
			return TK_REPLIED;
		}
		snprintf(msg, sizeof(msg), "invalid JSON: %s", err.text);
		tk_reply_error(r, TK_INVALID_JSON, msg,
		    json_pack("{s:i, s:i, s:i}", "line", err.line,
		    "column", err.column, "position", err.position), NULL);
		return TK_REPLIED;
	}
	if (!json_is_object(r->json)) {
		tk_reply_field(r, TK_INVALID_ARGUMENT, "body",
		    "must be a JSON object");
		return TK_REPLIED;
	}
	return TK_OK;
}

/* Everything checked after routing, before the handler runs. */
static int
gate_input(struct tk_req *r, const struct tk_routing *rt)
{
	const struct tk_routedef	*rd = &tk_routes[r->route];
	int				 i;

	for (i = 0; i < rt->nvars; i++)
		if (tk_valid_text(r, rt->fields[i], rt->values[i]) != TK_OK)
			return TK_REPLIED;
	if (gate_credentials(r, rd->flags) != TK_OK)
		return TK_REPLIED;
	if ((rd->flags & (TK_BODY | TK_BODY_OPT)) &&
	    gate_body(r, rd->flags) != TK_OK)
		return TK_REPLIED;
	return TK_OK;
}

void
tk_serve(struct tk_req *r, const tk_handler *handlers)
{
	struct tk_routing	 rt;
	enum tk_code		 code;
	char			 msg[80];

	if (r->redirect_status >= 400) {
		/* An error of the web server's: the same body as ours. */
		code = tk_code_for_status(r->redirect_status);
		snprintf(msg, sizeof(msg), "%s (the web server answered %d)",
		    tk_codes[code].message, r->redirect_status);
		tk_reply_error(r, code, msg, NULL, NULL);
		return;
	}

	if (gate_route(r, &rt) != TK_OK)
		return;
	/*
	 * lighttpd routed on its own normalised path ("..%2f" may climb out
	 * of a resource), this program on the raw one: what the server did
	 * not route here does not exist here.
	 */
	if (handlers[r->route] == NULL) {
		tk_reply_error(r, TK_NOT_FOUND, NULL, NULL, NULL);
		return;
	}
	if (gate_input(r, &rt) != TK_OK)
		return;
	handlers[r->route](r);
	if (r->reply.status == 0) {
		tk_log("%s %s: handler set no answer", r->method_name, r->path);
		tk_reply_error(r, TK_INTERNAL, NULL, NULL, NULL);
	}
}

/* A body member; absent or null is an error only when required. */
int
tk_body_or_reply(struct tk_req *r, enum tk_field f, int required)
{
	json_t	*v = json_object_get(r->json, tk_fields[f].name);

	if (v == NULL || json_is_null(v)) {
		if (!required)
			return TK_OK;
		tk_reply_field(r, TK_INVALID_ARGUMENT, tk_fields[f].name,
		    "is required");
		return TK_REPLIED;
	}
	return tk_valid_json(r, f, v);
}

/* A query parameter, or dflt (which may be NULL) when absent. */
int
tk_query_or_reply(struct tk_req *r, enum tk_field f, const char *dflt)
{
	char	 value[TK_SEGLEN_MAX + 1];
	int	 count;

	if (tk_query_get(r->query, tk_fields[f].name, value, sizeof(value),
	    &count) != 0) {
		tk_reply_field(r, TK_INVALID_ARGUMENT, tk_fields[f].name,
		    "is not a well-formed query parameter");
		return TK_REPLIED;
	}
	if (count > 1) {
		tk_reply_field(r, TK_INVALID_ARGUMENT, tk_fields[f].name,
		    "is given more than once");
		return TK_REPLIED;
	}
	if (count == 0) {
		r->args[f] = dflt;
		return TK_OK;
	}
	return tk_valid_text(r, f, value);
}

/* The one database call of a request; sets the answer either way. */
void
tk_call(struct tk_req *r, const char *const *params, int nparams)
{
	enum tk_stmt	 s = tk_routes[r->route].stmt;

	if (nparams != tk_stmts[s].nparams) {
		tk_log("api.%s: %d parameters given, %d declared",
		    tk_stmts[s].function, nparams, tk_stmts[s].nparams);
		tk_reply_error(r, TK_INTERNAL, NULL, NULL, NULL);
		return;
	}
	tk_db_call(r->db, s, params, &r->dbres);
	if (r->dbres.sqlstate[0] != '\0')
		tk_reply_db_error(r, &r->dbres);
	else
		tk_reply_db(r, &r->dbres);
}
