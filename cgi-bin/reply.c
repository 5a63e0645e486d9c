/*
 * reply.c: success answers from an api.reply row, and the CGI header
 * text of any answer.  Error answers are built in errors.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

void
tk_reply_init(struct tk_reply *p)
{
	memset(p, 0, sizeof(*p));
	p->code = TK_CODE__MAX;
	p->retry_after = -1;
}

void
tk_reply_free(struct tk_reply *p)
{
	free(p->owned);
	tk_reply_init(p);
}

/*
 * The row (status, body, retry_after) of a call that succeeded.  Only
 * 2xx is expected here: refusals come as SQLSTATEs.  The body is the
 * database's JSON text, sent as it is; for TK_TEXT routes it is a JSON
 * string whose value is sent as text/plain.
 */
void
tk_reply_db(struct tk_req *r, const struct tk_dbres *res)
{
	struct tk_reply	*p = &r->reply;
	json_t		*v;

	if (res->status < 200 || res->status > 299 ||
	    (res->body == NULL && res->status != 204)) {
		tk_log("%s %s: reply status %d with %s body", r->method_name,
		    r->path, res->status, res->body == NULL ? "no" : "a");
		tk_error_reply(r, TK_INTERNAL, NULL, NULL, NULL);
		return;
	}
	tk_reply_free(p);
	p->status = res->status;
	if (res->retry_after >= 0)
		p->retry_after = res->retry_after;
	if (res->status == 204)
		return;
	if (r->route < TK_ROUTE__MAX && (tk_routes[r->route].flags & TK_TEXT)) {
		v = json_loads(res->body, JSON_DECODE_ANY, NULL);
		if (json_is_string(v) && (p->owned =
		    malloc(json_string_length(v) + 1)) != NULL) {
			p->bodylen = json_string_length(v);
			memcpy(p->owned, json_string_value(v), p->bodylen + 1);
			p->body = p->owned;
			p->content_type = TK_TEXT_TYPE;
		}
		json_decref(v);
		if (p->body == NULL) {
			tk_log("%s %s: reply body is not a JSON string",
			    r->method_name, r->path);
			tk_error_reply(r, TK_INTERNAL, NULL, NULL, NULL);
		}
		return;
	}
	p->body = res->body;
	p->bodylen = strlen(res->body);
	p->content_type = TK_JSON_TYPE;
}

const char *
tk_reply_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default:  return "Status";
	}
}

/*
 * The CGI header block, ending with the empty line.  Returns its length,
 * or 0 when it does not fit.
 */
size_t
tk_reply_head(const struct tk_reply *p, char *buf, size_t size)
{
	size_t	 len = 0;
	int	 n;

#define ADD(...) do {							\
	n = snprintf(buf + len, size - len, __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= size - len)				\
		return 0;						\
	len += (size_t)n;						\
} while (0)

	if (size == 0)
		return 0;
	ADD("Status: %d %s\r\n", p->status, tk_reply_status_text(p->status));
	ADD("Cache-Control: no-store\r\n");
	if (p->content_type != NULL) {
		ADD("Content-Type: %s\r\n", p->content_type);
		ADD("X-Content-Type-Options: nosniff\r\n");
		ADD("Content-Length: %zu\r\n", p->bodylen);
	}
	if (p->allow[0] != '\0')
		ADD("Allow: %s\r\n", p->allow);
	if (p->retry_after >= 0)
		ADD("Retry-After: %d\r\n", p->retry_after);
	ADD("\r\n");
#undef ADD
	return len;
}
