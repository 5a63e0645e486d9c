/*
 * fuzz_json: JSON bodies, per route, and every field's check on every value.
 *
 * Input: one byte choosing the route (POST /api/users, /api/wallet/charge,
 * /api/concerts/7/queue, /api/reservations, /api/reservations/9/payment)
 * and whether an Idempotency-Key comes along, then the body.  The request
 * runs with good credentials (fuzz_serve checks the answer and what
 * reached the database).  Then, when the body is JSON, every member is
 * given to tk_valid_json as every field, and the outcome is compared with
 * what docs/api.md says that field takes (a reference written here).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"

long	 fuzz_ref_utf8(const unsigned char *, size_t, int *);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const uris[] = {
	"/api/users", "/api/wallet/charge", "/api/concerts/7/queue",
	"/api/reservations", "/api/reservations/9/payment",
};

/* The text a field must pass on for value v, or NULL when v must be refused. */
static const char *
expect(enum tk_field f, const json_t *v, char *buf, size_t size, enum tk_code *code)
{
	const struct tk_fielddef *d = &tk_fields[f];
	json_int_t	 n;
	size_t		 i, j, len;
	int		 ctl;
	long		 chars;

	*code = TK_INVALID_ARGUMENT;
	switch (d->kind) {
	case TK_KIND_ID:
		if (json_is_integer(v) && json_integer_value(v) >= 1) {
			snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			return buf;
		}
		if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) &&
		    fuzz_is_id(json_string_value(v)))
			return json_string_value(v);
		return NULL;
	case TK_KIND_INT:
	case TK_KIND_SEAT:
		if (!json_is_integer(v))
			return NULL;
		n = json_integer_value(v);
		if (n < d->min || n > d->max) {
			*code = d->refused;
			return NULL;
		}
		snprintf(buf, size, d->kind == TK_KIND_SEAT ? "{%" JSON_INTEGER_FORMAT "}" :
		    "%" JSON_INTEGER_FORMAT, n);
		return buf;
	case TK_KIND_DATE:
		if (json_is_string(v) && fuzz_is_date(json_string_value(v), json_string_length(v)))
			return json_string_value(v);
		return NULL;
	case TK_KIND_TEXT:
		if (!json_is_string(v))
			return NULL;
		len = json_string_length(v);
		chars = fuzz_ref_utf8((const unsigned char *)json_string_value(v), len, &ctl);
		if (chars < d->min || chars > d->max || ctl || memchr(json_string_value(v), 0, len))
			return NULL;
		return json_string_value(v);
	case TK_KIND_SEATS:
		if (!json_is_array(v) || json_array_size(v) < (size_t)d->min ||
		    json_array_size(v) > (size_t)d->max)
			return NULL;
		len = 0;
		for (i = 0; i < json_array_size(v); i++) {
			json_t *e = json_array_get(v, i);

			if (!json_is_integer(e) || json_integer_value(e) < 1 ||
			    json_integer_value(e) > INT32_MAX)
				return NULL;
			for (j = 0; j < i; j++)
				if (json_integer_value(json_array_get(v, j)) == json_integer_value(e))
					return NULL;
			len += (size_t)snprintf(buf + len, size - len, "%s%" JSON_INTEGER_FORMAT,
			    i == 0 ? "{" : ",", json_integer_value(e));
		}
		snprintf(buf + len, size - len, "}");
		return buf;
	case TK_KIND_KEY:
	case TK_KIND_TOKEN:
	case TK_KIND_IDEM:
	case TK_KIND_CODE:
		break;	/* never a body member */
	}
	return NULL;
}

static void
check_fields(const json_t *doc)
{
	static struct tk_req	 r;
	const char		*key;
	json_t			*v;
	char			 buf[2048];
	const char		*want;
	enum tk_code		 code;
	int			 f, rc;

	json_object_foreach((json_t *)doc, key, v) {
		for (f = 0; f < TK_FIELD__MAX; f++) {
			tk_req_init(&r, NULL);
			want = expect((enum tk_field)f, v, buf, sizeof(buf), &code);
			rc = tk_valid_json(&r, (enum tk_field)f, v);
			if (want != NULL) {
				FUZZ_CHECK(rc == TK_OK && r.args[f] != NULL && strcmp(r.args[f], want) == 0,
				    "%s: member %s should pass as %s, got %s (status %d)",
				    tk_fields[f].name, key, want, rc == TK_OK ? r.args[f] : "refused",
				    r.reply.status);
			} else {
				FUZZ_CHECK(rc == TK_REPLIED && r.reply.status == 400 && r.reply.code == code,
				    "%s: member %s should be refused %s, got rc %d status %d %s",
				    tk_fields[f].name, key, tk_codes[code].name, rc, r.reply.status,
				    rc == TK_OK ? r.args[f] : "");
			}
			tk_req_free(&r);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 len[32];
	json_t		*doc;
	unsigned	 route;

	if (size < 1)
		return 0;
	route = data[0] % 5;
	fuzz_env_clear();
	fuzz_db_mode = FUZZ_DB_OK;
	fuzz_env_set(FV_METHOD, "POST", 4);
	fuzz_env_set(FV_URI, uris[route], strlen(uris[route]));
	fuzz_env_set(FV_CONTENT_TYPE, "application/json; charset=utf-8", 31);
	snprintf(len, sizeof(len), "%zu", size - 1);
	fuzz_env_set(FV_CONTENT_LENGTH, len, strlen(len));
	fuzz_env_set(FV_AUTHORIZATION, "Bearer tk_0123456789abcdef", 26);
	fuzz_env_set(FV_QUEUE_TOKEN, "qt_0123456789", 13);
	if (data[0] & 0x80)
		fuzz_env_set(FV_IDEMPOTENCY_KEY, "retry-1", 7);
	fuzz_serve(data + 1, size - 1);

	doc = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(doc))
		check_fields(doc);
	json_decref(doc);
	return 0;
}
