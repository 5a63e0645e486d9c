/*
 * serve.c: the gate every request passes, then its one database call.
 * The gate routes (404, 405 with Allow), checks the path values, the
 * credentials the route's statement takes, the body, and the query
 * parameters and body members of tk_inputs, in that order; the first
 * failure answers.  What passes is in r->args, and the call passes the
 * statement's parameters from there.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"

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
		tk_error_reply(r, TK_METHOD_NOT_ALLOWED, NULL,
		    json_pack("{s:s?}", "method", r->method_name), NULL);
		tk_route_allow(rt->path, r->reply.allow,
		    sizeof(r->reply.allow));
		return TK_REPLIED;
	case TK_MATCH_BAD_ESCAPE:
		tk_error_field(r, TK_INVALID_ARGUMENT, "path",
		    "has a bad percent-encoding");
		return TK_REPLIED;
	case TK_MATCH_NOT_FOUND:
		break;
	}
	tk_error_reply(r, TK_NOT_FOUND, "no such resource", NULL, NULL);
	return TK_REPLIED;
}

/*
 * The credentials the statement takes, checked for shape only, in the
 * order the database checks them: the API key, then the queue token.  An
 * absent one is passed on as NULL and the database answers.  With no
 * key, a malformed token is not looked at, so the answer stays
 * UNAUTHENTICATED.
 */
static int
gate_credentials(struct tk_req *r, enum tk_stmt s)
{
	int	 key = tk_route_takes(s, TK_FIELD_KEY);

	if (key && r->authorization != NULL &&
	    tk_valid_header(r, TK_FIELD_KEY, r->authorization) != TK_OK)
		return TK_REPLIED;
	if (tk_route_takes(s, TK_FIELD_TOKEN) && r->queue_token != NULL &&
	    (!key || r->args[TK_FIELD_KEY] != NULL) &&
	    tk_valid_header(r, TK_FIELD_TOKEN, r->queue_token) != TK_OK)
		return TK_REPLIED;
	if (tk_route_takes(s, TK_FIELD_IDEM) && r->idempotency_key != NULL &&
	    tk_valid_header(r, TK_FIELD_IDEM, r->idempotency_key) != TK_OK)
		return TK_REPLIED;
	return TK_OK;
}

/* A query parameter: given once, well-formed, valid; else dflt. */
static int
gate_query(struct tk_req *r, enum tk_field f, const char *dflt)
{
	char	 value[TK_SEGLEN_MAX + 1];
	int	 count;

	if (tk_req_query_get(r->query, tk_fields[f].name, value,
	    sizeof(value), &count) != 0) {
		tk_error_field(r, TK_INVALID_ARGUMENT, tk_fields[f].name,
		    "is not a well-formed query parameter");
		return TK_REPLIED;
	}
	if (count > 1) {
		tk_error_field(r, TK_INVALID_ARGUMENT, tk_fields[f].name,
		    "is given more than once");
		return TK_REPLIED;
	}
	if (count == 0) {
		r->args[f] = dflt;
		return TK_OK;
	}
	return tk_valid_text(r, f, value);
}

/* A body member: absent or null is dflt; a value must be valid. */
static int
gate_member(struct tk_req *r, enum tk_field f, const char *dflt)
{
	json_t	*v = json_object_get(r->json, tk_fields[f].name);

	if (v == NULL || json_is_null(v)) {
		r->args[f] = dflt;
		return TK_OK;
	}
	return tk_valid_json(r, f, v);
}

/* The rules of tk_presence, once the value (if any) is checked. */
static int
gate_presence(struct tk_req *r, const struct tk_inputdef *in)
{
	char		 reason[64];
	enum tk_field	 f = in->field, either;

	switch (in->presence) {
	case TK_OPTIONAL:
	case TK_EITHER:
		break;
	case TK_REQUIRED:
		if (r->args[f] == NULL) {
			tk_error_field(r, TK_INVALID_ARGUMENT,
			    tk_fields[f].name, "is required");
			return TK_REPLIED;
		}
		break;
	case TK_OR:
		either = in[-1].field;
		if (r->args[either] != NULL && r->args[f] != NULL) {
			snprintf(reason, sizeof(reason), "and %s cannot both "
			    "be given", tk_fields[f].name);
			tk_error_field(r, TK_INVALID_ARGUMENT,
			    tk_fields[either].name, reason);
			return TK_REPLIED;
		}
		if (r->args[either] == NULL)
			r->args[either] = r->args[f];
		if (r->args[either] == NULL) {
			tk_error_field(r, TK_INVALID_ARGUMENT,
			    tk_fields[either].name, "is required");
			return TK_REPLIED;
		}
		break;
	}
	return TK_OK;
}

/* Everything checked after routing, before the call. */
static int
gate_input(struct tk_req *r, const struct tk_routing *rt)
{
	const struct tk_routedef	*rd = &tk_routes[r->route];
	const struct tk_inputdef	*in;
	int				 i, rc;

	for (i = 0; i < rt->nvars; i++)
		if (tk_valid_text(r, rt->fields[i], rt->values[i]) != TK_OK)
			return TK_REPLIED;
	if (gate_credentials(r, rd->stmt) != TK_OK)
		return TK_REPLIED;
	if ((rd->flags & (TK_BODY | TK_BODY_OPT)) &&
	    tk_body_parse(r, rd->flags & TK_BODY) != TK_OK)
		return TK_REPLIED;
	for (in = tk_inputs; in->route != TK_ROUTE__MAX; in++) {
		if (in->route != r->route)
			continue;
		rc = in->from == TK_FROM_QUERY ?
		    gate_query(r, in->field, in->dflt) :
		    gate_member(r, in->field, in->dflt);
		if (rc != TK_OK || gate_presence(r, in) != TK_OK)
			return TK_REPLIED;
	}
	return TK_OK;
}

/* The one database call of a request; sets the answer either way. */
static void
call(struct tk_req *r)
{
	const struct tk_stmtdef	*sd = &tk_stmts[tk_routes[r->route].stmt];
	const char		*params[TK_PARAMS_MAX];
	int			 i;

	for (i = 0; i < sd->nparams; i++)
		params[i] = r->args[sd->params[i]];
	tk_db_call(r->db, tk_routes[r->route].stmt, params, &r->dbres);
	if (r->dbres.sqlstate[0] != '\0')
		tk_error_db(r, &r->dbres);
	else
		tk_reply_db(r, &r->dbres);
}

void
tk_serve(struct tk_req *r, enum tk_program prog)
{
	struct tk_routing	 rt;
	enum tk_code		 code;
	char			 msg[160];

	if (r->redirect_status >= 400) {
		/* An error of the web server's, in our body. */
		code = tk_error_for_status(r->redirect_status);
		snprintf(msg, sizeof(msg), "%s (the web server answered %d)",
		    tk_codes[code].message, r->redirect_status);
		tk_error_reply(r, code, msg, NULL, NULL);
		return;
	}

	if (gate_route(r, &rt) != TK_OK)
		return;
	/*
	 * lighttpd routed on its own normalised path ("..%2f" may climb out
	 * of a resource), this program on the raw one: what the server did
	 * not route here does not exist here.
	 */
	if (tk_routes[r->route].program != prog) {
		tk_error_reply(r, TK_NOT_FOUND, NULL, NULL, NULL);
		return;
	}
	if (gate_input(r, &rt) != TK_OK)
		return;
	call(r);
}
