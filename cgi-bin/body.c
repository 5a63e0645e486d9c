/*
 * body.c: the JSON body of a request, before any member is looked at: its
 * size, its media type, its syntax (duplicate names refused), and that it
 * is an object.  jansson refuses integers past int64; the answer then
 * names the member that holds one, as the field check would.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"

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
	enum tk_field	 f = tk_valid_field(k, strlen(k));

	if (f != TK_FIELD__MAX && (tk_fields[f].kind == TK_KIND_INT ||
	    tk_fields[f].kind == TK_KIND_SEAT))
		tk_valid_range(r, f);
	else
		tk_error_field(r, TK_INVALID_ARGUMENT, k,
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
			tk_error_field(r, TK_INVALID_ARGUMENT, k,
			    "holds a number out of range");
		json_decref(doc);
		return;
	}
	json_decref(doc);
	tk_error_reply(r, TK_INVALID_ARGUMENT, "a number is out of range",
	    NULL, NULL);
}

/*
 * The body: at most TK_BODY_MAX bytes (413), JSON (415), valid (400), an
 * object; parsed into r->json.  An empty body is refused only when
 * required.
 */
int
tk_body_parse(struct tk_req *r, int required)
{
	json_error_t	 err;
	char		 msg[200];

	if (r->content_length < 0) {
		tk_error_field(r, TK_INVALID_ARGUMENT, "Content-Length",
		    "must be a number");
		return TK_REPLIED;
	}
	if (r->body_too_large || r->bodylen > TK_BODY_MAX) {
		tk_error_reply(r, TK_PAYLOAD_TOO_LARGE, NULL,
		    json_pack("{s:i}", "limit", TK_BODY_MAX), NULL);
		return TK_REPLIED;
	}
	if (r->bodylen == 0) {
		if (!required)
			return TK_OK;
		tk_error_reply(r, TK_INVALID_JSON,
		    "the request body must be a JSON object", NULL, NULL);
		return TK_REPLIED;
	}
	if (!tk_req_is_json_type(r->content_type)) {
		tk_error_reply(r, TK_UNSUPPORTED_MEDIA_TYPE, NULL,
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
		tk_error_reply(r, TK_INVALID_JSON, msg,
		    json_pack("{s:i, s:i, s:i}", "line", err.line,
		    "column", err.column, "position", err.position), NULL);
		return TK_REPLIED;
	}
	if (!json_is_object(r->json)) {
		tk_error_field(r, TK_INVALID_ARGUMENT, "body",
		    "must be a JSON object");
		return TK_REPLIED;
	}
	return TK_OK;
}
