/*
 * valid.c: what every argument must look like.  A checked value is kept
 * as the text passed to the database (r->args[field]); a value that fails
 * sets the error answer (400 naming the field, 401 for a credential) and
 * TK_REPLIED is returned.  Business rules (is the seat free, is the user
 * known) are the database's; these are only types, syntax and the ranges
 * of docs/api.md.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"

#define SEAT_MAX	INT32_MAX	/* seat numbers are SQL int */

const struct tk_fielddef tk_fields[TK_FIELD__MAX] = {
	/*                           name               kind            min  max          refused with */
	[TK_FIELD_KEY]            = { "Authorization",   TK_KIND_KEY,    1,   TK_CRED_MAX, TK_UNAUTHENTICATED },
	[TK_FIELD_TOKEN]          = { "X-Queue-Token",   TK_KIND_TOKEN,  1,   TK_CRED_MAX, TK_QUEUE_TOKEN_INVALID },
	[TK_FIELD_IDEM]           = { "Idempotency-Key", TK_KIND_IDEM,   1,   TK_IDEM_MAX, TK_INVALID_ARGUMENT },
	[TK_FIELD_NAME]           = { "name",            TK_KIND_TEXT,   1,   64,          TK_INVALID_ARGUMENT },
	[TK_FIELD_AMOUNT]         = { "amount",          TK_KIND_INT,    1,   10000000,    TK_INVALID_AMOUNT },
	[TK_FIELD_LIMIT]          = { "limit",           TK_KIND_INT,    1,   200,         TK_INVALID_ARGUMENT },
	[TK_FIELD_BEFORE]         = { "before",          TK_KIND_ID,     1,   INT64_MAX,   TK_INVALID_ARGUMENT },
	[TK_FIELD_AFTER]          = { "after",           TK_KIND_INT,    0,   INT64_MAX,   TK_INVALID_ARGUMENT },
	[TK_FIELD_ENTRIES_LIMIT]  = { "limit",           TK_KIND_INT,    1,   1000,        TK_INVALID_ARGUMENT },
	[TK_FIELD_STATUSES]       = { "status",          TK_KIND_STATUSES, 1, 5,           TK_INVALID_ARGUMENT },
	[TK_FIELD_CONCERT_ID]     = { "concert_id",      TK_KIND_ID,     1,   INT64_MAX,   TK_INVALID_ARGUMENT },
	[TK_FIELD_RESERVATION_ID] = { "reservation_id",  TK_KIND_ID,     1,   INT64_MAX,   TK_INVALID_ARGUMENT },
	[TK_FIELD_DATE]           = { "date",            TK_KIND_DATE,   0,   0,           TK_INVALID_ARGUMENT },
	[TK_FIELD_SEAT_NOS]       = { "seat_nos",        TK_KIND_SEATS,  1,   100,         TK_INVALID_ARGUMENT },
	[TK_FIELD_SEAT_NO]        = { "seat_no",         TK_KIND_SEAT,   1,   SEAT_MAX,    TK_INVALID_ARGUMENT },
	[TK_FIELD_CODE]           = { "code",            TK_KIND_CODE,   0,   0,           TK_INTERNAL },
};

/* The (first) field of this name; TK_FIELD__MAX when none. */
enum tk_field
tk_valid_field(const char *name, size_t n)
{
	int	 i;

	for (i = 0; i < TK_FIELD__MAX; i++)
		if (strlen(tk_fields[i].name) == n &&
		    memcmp(tk_fields[i].name, name, n) == 0)
			return (enum tk_field)i;
	return TK_FIELD__MAX;
}

/*
 * Canonical decimal int64: an optional '-', digits, no leading zero, no
 * '+', no spaces.  Returns 0, -1 on bad syntax, -2 when out of int64.
 */
int
tk_valid_int64(const char *s, size_t n, int64_t *out)
{
	uint64_t	 v = 0, lim;
	size_t		 i = 0;
	int		 neg = 0;

	if (n > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || (s[i] == '0' && (n - i > 1 || neg)))
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -2;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

/* YYYY-MM-DD, year 0001 to 9999, a day that exists in that month. */
int
tk_valid_date(const char *s, size_t n)
{
	static const int mdays[12] =
	    { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int	 y, m, d, leap;
	size_t	 i;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

/*
 * Characters (code points) in UTF-8 text; -1 when it is not valid UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included) or holds
 * a control character (U+0000 to U+001F, U+007F).
 */
long
tk_valid_utf8(const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, len, k;
	uint32_t		 cp;
	long			 chars = 0;

	while (i < n) {
		if (u[i] < 0x80) {
			if (u[i] < 0x20 || u[i] == 0x7f)
				return -1;
			i++;
			chars++;
			continue;
		}
		if (u[i] >= 0xc2 && u[i] <= 0xdf) {
			len = 2;
			cp = u[i] & 0x1f;
		} else if (u[i] >= 0xe0 && u[i] <= 0xef) {
			len = 3;
			cp = u[i] & 0x0f;
		} else if (u[i] >= 0xf0 && u[i] <= 0xf4) {
			len = 4;
			cp = u[i] & 0x07;
		} else
			return -1;
		if (n - i < len)
			return -1;
		for (k = 1; k < len; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))	/* C1 controls */
			return -1;
		i += len;
		chars++;
	}
	return chars;
}

/* Text kept for the request's database call; NULL when out of room. */
const char *
tk_valid_printf(struct tk_req *r, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 room = sizeof(r->argbuf) - r->arglen;
	char	*p = r->argbuf + r->arglen;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return NULL;
	r->arglen += (size_t)n + 1;
	return p;
}

static int
keep(struct tk_req *r, enum tk_field f, const char *text)
{
	if (text == NULL) {
		tk_error_reply(r, TK_INTERNAL, NULL, NULL, NULL);
		return TK_REPLIED;
	}
	r->args[f] = text;
	return TK_OK;
}

static int
bad(struct tk_req *r, enum tk_field f, const char *reason)
{
	tk_error_field(r, TK_INVALID_ARGUMENT, tk_fields[f].name, reason);
	return TK_REPLIED;
}

/* A concert's statuses (ticket.concert_statuses() in the database). */
static const char *const concert_statuses[] = {
	"UPCOMING", "PRE_QUEUE", "ON_SALE", "SOLD_OUT", "ENDED",
};

/*
 * ?status=ON_SALE,SOLD_OUT: known statuses, each once, passed on as SQL
 * array text, {ON_SALE,SOLD_OUT}.
 */
static int
check_statuses(struct tk_req *r, enum tk_field f, const char *s, size_t n)
{
	const size_t	 known = sizeof(concert_statuses) /
			    sizeof(concert_statuses[0]);
	const char	*p = s, *end = s + n, *comma;
	unsigned	 seen = 0;
	size_t		 i, len;

	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		len = (size_t)((comma != NULL ? comma : end) - p);
		for (i = 0; i < known; i++)
			if (strlen(concert_statuses[i]) == len &&
			    memcmp(concert_statuses[i], p, len) == 0)
				break;
		if (i == known)
			return bad(r, f, "must list UPCOMING, PRE_QUEUE, "
			    "ON_SALE, SOLD_OUT or ENDED, comma-separated");
		if (seen & (1u << i))
			return bad(r, f, "must not repeat a status");
		seen |= 1u << i;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return keep(r, f, tk_valid_printf(r, "{%.*s}", (int)n, s));
}

/* 400 (or the field's own code, INVALID_AMOUNT) with the range. */
int
tk_valid_range(struct tk_req *r, enum tk_field f)
{
	const struct tk_fielddef	*d = &tk_fields[f];
	char				 msg[128];

	snprintf(msg, sizeof(msg), "%s must be between %" PRId64 " and %"
	    PRId64, d->name, d->min, d->max);
	tk_error_reply(r, d->refused, msg,
	    json_pack("{s:s, s:s, s:I, s:I}", "field", d->name,
	    "reason", "out of range", "min", (json_int_t)d->min,
	    "max", (json_int_t)d->max), NULL);
	return TK_REPLIED;
}

static int
check_int(struct tk_req *r, enum tk_field f, int64_t v)
{
	const struct tk_fielddef	*d = &tk_fields[f];

	if (d->kind == TK_KIND_ID && v < 1)
		return bad(r, f, "must be a positive integer");
	if (v < d->min || v > d->max)
		return tk_valid_range(r, f);
	if (d->kind == TK_KIND_SEAT)
		return keep(r, f, tk_valid_printf(r, "{%" PRId64 "}", v));
	return keep(r, f, tk_valid_printf(r, "%" PRId64, v));
}

static int
check_string(struct tk_req *r, enum tk_field f, const char *s, size_t n)
{
	const struct tk_fielddef	*d = &tk_fields[f];
	int64_t				 v;
	long				 chars;

	switch (d->kind) {
	case TK_KIND_ID:
		if (tk_valid_int64(s, n, &v) != 0 || v < 1)
			return bad(r, f, "must be a positive integer");
		return check_int(r, f, v);
	case TK_KIND_INT:
	case TK_KIND_SEAT:
		switch (tk_valid_int64(s, n, &v)) {
		case 0:
			return check_int(r, f, v);
		case -2:
			return tk_valid_range(r, f);
		default:
			return bad(r, f, "must be an integer");
		}
	case TK_KIND_DATE:
		if (!tk_valid_date(s, n))
			return bad(r, f, "must be a date as YYYY-MM-DD");
		return keep(r, f, tk_valid_printf(r, "%.10s", s));
	case TK_KIND_TEXT:
		if ((chars = tk_valid_utf8(s, n)) < 0 || memchr(s, '\0', n))
			return bad(r, f, "must be text without control characters");
		if (chars < d->min || chars > d->max) {
			char	 reason[64];

			snprintf(reason, sizeof(reason), "must be %" PRId64
			    " to %" PRId64 " characters", d->min, d->max);
			return bad(r, f, reason);
		}
		return keep(r, f, tk_valid_printf(r, "%.*s", (int)n, s));
	case TK_KIND_SEATS:
		return bad(r, f, "must be a JSON array");
	case TK_KIND_STATUSES:
		return check_statuses(r, f, s, n);
	case TK_KIND_KEY:
	case TK_KIND_TOKEN:
	case TK_KIND_IDEM:
	case TK_KIND_CODE:
		break;
	}
	return bad(r, f, "is not accepted");
}

/* A path segment or query parameter, already percent-decoded. */
int
tk_valid_text(struct tk_req *r, enum tk_field f, const char *s)
{
	return check_string(r, f, s, strlen(s));
}

static int
check_seats(struct tk_req *r, enum tk_field f, const json_t *v)
{
	const struct tk_fielddef	*d = &tk_fields[f];
	char				 reason[64];
	json_int_t			 seat[128], s;
	size_t				 i, j, n = json_array_size(v);
	size_t				 room;
	char				*p, *start;
	int				 w;

	if ((json_int_t)n < d->min || (json_int_t)n > d->max ||
	    n > sizeof(seat) / sizeof(seat[0])) {
		snprintf(reason, sizeof(reason), "must list %" PRId64
		    " to %" PRId64 " seat numbers", d->min, d->max);
		return bad(r, f, reason);
	}
	for (i = 0; i < n; i++) {
		if (!json_is_integer(json_array_get(v, i)))
			return bad(r, f, "must hold integer seat numbers");
		s = json_integer_value(json_array_get(v, i));
		if (s < 1 || s > SEAT_MAX)
			return bad(r, f, "must hold seat numbers of 1 or more");
		for (j = 0; j < i; j++)
			if (seat[j] == s)
				return bad(r, f, "must not repeat a seat");
		seat[i] = s;
	}
	/* SQL array text: {7,8,9} */
	start = p = r->argbuf + r->arglen;
	room = sizeof(r->argbuf) - r->arglen;
	for (i = 0; i < n; i++) {
		w = snprintf(p, room, "%s%" JSON_INTEGER_FORMAT,
		    i == 0 ? "{" : ",", seat[i]);
		if (w < 0 || (size_t)w >= room)
			return keep(r, f, NULL);
		p += w;
		room -= (size_t)w;
	}
	if (room < 2)
		return keep(r, f, NULL);
	memcpy(p, "}", 2);
	r->arglen += (size_t)(p - start) + 2;
	return keep(r, f, start);
}

/* A member of the JSON body. */
int
tk_valid_json(struct tk_req *r, enum tk_field f, const json_t *v)
{
	const struct tk_fielddef	*d = &tk_fields[f];

	switch (d->kind) {
	case TK_KIND_ID:
		/* IDs are opaque: a client may send back a string. */
		if (json_is_string(v))
			return check_string(r, f, json_string_value(v),
			    json_string_length(v));
		if (json_is_integer(v))
			return check_int(r, f, json_integer_value(v));
		return bad(r, f, "must be a positive integer");
	case TK_KIND_INT:
	case TK_KIND_SEAT:
		if (json_is_integer(v))
			return check_int(r, f, json_integer_value(v));
		return bad(r, f, "must be an integer");
	case TK_KIND_DATE:
	case TK_KIND_TEXT:
		if (json_is_string(v))
			return check_string(r, f, json_string_value(v),
			    json_string_length(v));
		return bad(r, f, "must be a string");
	case TK_KIND_SEATS:
		if (json_is_array(v))
			return check_seats(r, f, v);
		return bad(r, f, "must be an array of seat numbers");
	case TK_KIND_STATUSES:
	case TK_KIND_KEY:
	case TK_KIND_TOKEN:
	case TK_KIND_IDEM:
	case TK_KIND_CODE:
		break;
	}
	return bad(r, f, "is not accepted");
}

/*
 * A credential header, checked for shape only (the database knows whose
 * it is): 401 for the API key and the queue token, 400 for the
 * Idempotency-Key.  The value is passed on as it is.
 */
int
tk_valid_header(struct tk_req *r, enum tk_field f, const char *h)
{
	const struct tk_fielddef	*d = &tk_fields[f];
	const char			*v = NULL;

	switch (d->kind) {
	case TK_KIND_KEY:
		if ((v = tk_req_bearer(h)) == NULL) {
			tk_error_reply(r, d->refused, "the Authorization "
			    "header must be: Bearer <api key>", NULL, NULL);
			return TK_REPLIED;
		}
		break;
	case TK_KIND_TOKEN:
		if (!tk_req_token_syntax(h, strlen(h))) {
			tk_error_reply(r, d->refused, "the X-Queue-Token "
			    "header is not a queue token", NULL, NULL);
			return TK_REPLIED;
		}
		v = h;
		break;
	case TK_KIND_IDEM:
		if (!tk_req_idem_syntax(h))
			return bad(r, f, "must be 1 to " TK_STR(TK_IDEM_MAX)
			    " printable ASCII characters");
		v = h;
		break;
	default:
		return bad(r, f, "is not a header");
	}
	r->args[f] = v;
	return TK_OK;
}
