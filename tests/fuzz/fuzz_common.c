/*
 * fuzz_common.c: the stand-in database and the
 * checks every harness makes on a request's answer and on what reached
 * the database (see fuzz_common.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_common.h"

enum fuzz_db_mode fuzz_db_mode;
const char *fuzz_db_state, *fuzz_db_message, *fuzz_db_detail, *fuzz_db_hint;
int fuzz_db_calls;

void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "\nFUZZ CHECK FAILED at %s:%d: %s\n  ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

void
fuzz_init(void)
{
	tk_log_quiet = 1;
}

/* ------------------------------------------------------------ value checks */

int
fuzz_is_id(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > 19 || s[0] < '1' || s[0] > '9')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n < 19 || strcmp(s, "9223372036854775807") <= 0;
}

int
fuzz_is_token68(const char *s, size_t n)
{
	size_t	 i = 0;

	if (n == 0 || n > TK_CRED_MAX)
		return 0;
	while (i < n && strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._~+/", s[i]) != NULL && s[i] != '\0')
		i++;
	if (i == 0)
		return 0;
	while (i < n && s[i] == '=')
		i++;
	return i == n;
}

/* YYYY-MM-DD checked against the C library's calendar (timegm round trip). */
int
fuzz_is_date(const char *s, size_t n)
{
	struct tm	 tm, back;
	time_t		 t;
	size_t		 i;
	int		 y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	t = timegm(&tm);
	if (gmtime_r(&t, &back) == NULL)
		return 0;
	return back.tm_year == y - 1900 && back.tm_mon == m - 1 && back.tm_mday == d;
}

/* {a,b,...}: count in [lo, hi], distinct canonical seat numbers 1..INT32_MAX. */
int
fuzz_is_seat_array(const char *s, int64_t lo, int64_t hi)
{
	char		 num[16];
	long long	 seen[128], v;
	size_t		 k, count = 0, j;
	const char	*p = s;

	if (*p++ != '{')
		return 0;
	for (;;) {
		for (k = 0; p[k] >= '0' && p[k] <= '9'; k++)
			if (k >= 10)
				return 0;
		if (k == 0 || p[0] == '0')
			return 0;
		memcpy(num, p, k);
		num[k] = '\0';
		v = atoll(num);
		if (v < 1 || v > INT32_MAX || count >= 128)
			return 0;
		for (j = 0; j < count; j++)
			if (seen[j] == v)
				return 0;
		seen[count++] = v;
		p += k;
		if (*p == '}')
			break;
		if (*p++ != ',')
			return 0;
	}
	return p[1] == '\0' && (int64_t)count >= lo && (int64_t)count <= hi;
}

/* Code points of strict UTF-8 (RFC 3629 table), -1 when invalid. */
static long
ref_utf8_count(const unsigned char *s, size_t n, int *controls)
{
	size_t	 i = 0, len, k;
	long	 count = 0;
	unsigned char lo, hi;

	*controls = 0;
	while (i < n) {
		unsigned char c = s[i];

		lo = 0x80;
		hi = 0xbf;
		if (c <= 0x7f)
			len = 1;
		else if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c == 0xe0) {
			len = 3;
			lo = 0xa0;
		} else if (c == 0xed) {
			len = 3;
			hi = 0x9f;
		} else if (c >= 0xe1 && c <= 0xef)
			len = 3;
		else if (c == 0xf0) {
			len = 4;
			lo = 0x90;
		} else if (c >= 0xf1 && c <= 0xf3)
			len = 4;
		else if (c == 0xf4) {
			len = 4;
			hi = 0x8f;
		} else
			return -1;
		if (i + len > n)
			return -1;
		for (k = 1; k < len; k++) {
			unsigned char b = s[i + k];

			if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
				return -1;
		}
		/* C0 controls and DEL, and C1 controls (U+0080..U+009F: C2 80..9F) */
		if ((len == 1 && (c < 0x20 || c == 0x7f)) ||
		    (len == 2 && c == 0xc2 && s[i + 1] <= 0x9f))
			*controls = 1;
		i += len;
		count++;
	}
	return count;
}

long	 fuzz_ref_utf8(const unsigned char *, size_t, int *);
long
fuzz_ref_utf8(const unsigned char *s, size_t n, int *controls)
{
	return ref_utf8_count(s, n, controls);
}

static int
is_printable_ascii(const char *s, size_t lo, size_t hi)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return i >= lo && i <= hi;
}

static int
is_int_in(const char *s, long long lo, long long hi)
{
	char		*end;
	long long	 v;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0') || s[0] == '+' ||
	    (s[0] == '-' && (s[1] == '0' || s[1] == '\0')))
		return 0;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v >= lo && v <= hi;
}

/* {ON_SALE,ENDED}: concert statuses, one or more, each once. */
static int
is_status_array(const char *s)
{
	static const char *const known[] = { "UPCOMING", "PRE_QUEUE", "ON_SALE", "SOLD_OUT", "ENDED" };
	char	 copy[128], *word, *rest;
	size_t	 n = strlen(s), i;
	int	 seen[5] = { 0 };

	if (n < 3 || n >= sizeof(copy) || s[0] != '{' || s[n - 1] != '}' || s[n - 2] == ',' || s[1] == ',' ||
	    strstr(s, ",,") != NULL)
		return 0;
	memcpy(copy, s + 1, n - 2);
	copy[n - 2] = '\0';
	for (word = strtok_r(copy, ",", &rest); word != NULL; word = strtok_r(NULL, ",", &rest)) {
		for (i = 0; i < 5 && strcmp(word, known[i]) != 0; i++)
			;
		if (i == 5 || seen[i]++)
			return 0;
	}
	return 1;
}

/* ---------------------------------------------------- the stand-in database */

enum pk { P_KEY, P_TOKEN, P_IDEM, P_ID, P_ID_OPT, P_LIMIT, P_AFTER,
	P_ENTRIES_LIMIT, P_AMOUNT, P_NAME, P_DATE, P_SEATS, P_STATUSES, P_CODE, P_NONE };

static const enum pk stmt_params[TK_STMT__MAX][TK_PARAMS_MAX] = {
	[TK_STMT_CREATE_USER]        = { P_NAME, P_NONE },
	[TK_STMT_GET_WALLET]         = { P_KEY, P_NONE },
	[TK_STMT_CHARGE_WALLET]      = { P_KEY, P_AMOUNT, P_IDEM, P_NONE },
	[TK_STMT_LIST_TRANSACTIONS]  = { P_KEY, P_LIMIT, P_ID_OPT, P_NONE },
	[TK_STMT_LIST_CONCERTS]      = { P_STATUSES, P_NONE },
	[TK_STMT_GET_CONCERT]        = { P_ID, P_NONE },
	[TK_STMT_SHUFFLE_PROOF]      = { P_ID, P_NONE },
	[TK_STMT_SHUFFLE_ENTRIES]    = { P_ID, P_AFTER, P_ENTRIES_LIMIT, P_NONE },
	[TK_STMT_ISSUE_TOKEN]        = { P_KEY, P_ID, P_NONE },
	[TK_STMT_QUEUE_STATUS]       = { P_TOKEN, P_NONE },
	[TK_STMT_LEAVE_QUEUE]        = { P_TOKEN, P_NONE },
	[TK_STMT_AVAILABLE_DATES]    = { P_KEY, P_TOKEN, P_ID, P_NONE },
	[TK_STMT_SEAT_MAP]           = { P_KEY, P_TOKEN, P_ID, P_DATE, P_NONE },
	[TK_STMT_HOLD_SEAT]          = { P_KEY, P_TOKEN, P_ID, P_DATE, P_SEATS },
	[TK_STMT_GET_RESERVATION]    = { P_KEY, P_TOKEN, P_ID, P_NONE },
	[TK_STMT_CANCEL_RESERVATION] = { P_KEY, P_TOKEN, P_ID, P_NONE },
	[TK_STMT_PAY_RESERVATION]    = { P_KEY, P_TOKEN, P_ID, P_IDEM, P_NONE },
	[TK_STMT_REFUND_RESERVATION] = { P_KEY, P_ID, P_IDEM, P_NONE },
	[TK_STMT_HEALTH]             = { P_NONE },
	[TK_STMT_METRICS]            = { P_NONE },
	[TK_STMT_NOTE_ERROR]         = { P_CODE, P_NONE },
};

/* Nothing malformed may reach the database. */
static void
check_param(enum tk_stmt s, int i, enum pk k, const char *v)
{
	const char	*fn = tk_stmts[s].function;
	int		 ctl;
	long		 n;

	if (v == NULL) {
		FUZZ_CHECK(k == P_KEY || k == P_TOKEN || k == P_IDEM || k == P_ID_OPT || k == P_STATUSES,
		    "api.%s: parameter %d is NULL", fn, i + 1);
		return;
	}
	switch (k) {
	case P_KEY:
	case P_TOKEN:
		FUZZ_CHECK(fuzz_is_token68(v, strlen(v)), "api.%s: $%d credential %s", fn, i + 1, v);
		break;
	case P_IDEM:
		FUZZ_CHECK(is_printable_ascii(v, 1, TK_IDEM_MAX), "api.%s: $%d idempotency key", fn, i + 1);
		break;
	case P_ID:
	case P_ID_OPT:
		FUZZ_CHECK(fuzz_is_id(v), "api.%s: $%d id %s", fn, i + 1, v);
		break;
	case P_LIMIT:
		FUZZ_CHECK(is_int_in(v, 1, 200), "api.%s: $%d limit %s", fn, i + 1, v);
		break;
	case P_AFTER:
		FUZZ_CHECK(is_int_in(v, 0, INT64_MAX), "api.%s: $%d after %s", fn, i + 1, v);
		break;
	case P_ENTRIES_LIMIT:
		FUZZ_CHECK(is_int_in(v, 1, 1000), "api.%s: $%d limit %s", fn, i + 1, v);
		break;
	case P_AMOUNT:
		FUZZ_CHECK(is_int_in(v, 1, 10000000), "api.%s: $%d amount %s", fn, i + 1, v);
		break;
	case P_NAME:
		n = ref_utf8_count((const unsigned char *)v, strlen(v), &ctl);
		FUZZ_CHECK(n >= 1 && n <= 64 && !ctl, "api.%s: $%d name of %ld characters, controls %d",
		    fn, i + 1, n, ctl);
		break;
	case P_DATE:
		FUZZ_CHECK(fuzz_is_date(v, strlen(v)), "api.%s: $%d date %s", fn, i + 1, v);
		break;
	case P_SEATS:
		FUZZ_CHECK(fuzz_is_seat_array(v, 1, 100), "api.%s: $%d seats %s", fn, i + 1, v);
		break;
	case P_STATUSES:
		FUZZ_CHECK(is_status_array(v), "api.%s: $%d statuses %s", fn, i + 1, v);
		break;
	case P_CODE:
		break;
	case P_NONE:
		FUZZ_CHECK(0, "api.%s: too many parameters", fn);
	}
}

struct tk_db {
	int	 unused;
};

struct tk_db *
tk_db_new(const char *conninfo, int prepare, int timeout_ms)
{
	static struct tk_db	 db;

	(void)conninfo;
	(void)prepare;
	(void)timeout_ms;
	return &db;
}

void
tk_db_free(struct tk_db *db)
{
	(void)db;
}

void
tk_dbres_clear(struct tk_dbres *res)
{
	memset(res, 0, sizeof(*res));
	res->retry_after = -1;
}

int
tk_db_call(struct tk_db *db, enum tk_stmt s, const char *const *params, struct tk_dbres *res)
{
	int	 i;

	(void)db;
	tk_dbres_clear(res);
	FUZZ_CHECK(s >= 0 && s < TK_STMT__MAX, "statement %d", s);
	for (i = 0; i < tk_stmts[s].nparams; i++)
		check_param(s, i, stmt_params[s][i], params[i]);
	if (tk_stmts[s].nparams < TK_PARAMS_MAX)
		FUZZ_CHECK(stmt_params[s][tk_stmts[s].nparams] == P_NONE,
		    "api.%s: fewer parameters than it takes", tk_stmts[s].function);
	fuzz_db_calls++;
	switch (fuzz_db_mode) {
	case FUZZ_DB_OK:
		res->status = s == TK_STMT_LEAVE_QUEUE || s == TK_STMT_CANCEL_RESERVATION ||
		    s == TK_STMT_NOTE_ERROR ? 204 : s == TK_STMT_HOLD_SEAT ||
		    s == TK_STMT_CREATE_USER ? 201 : 200;
		res->body = res->status == 204 ? NULL : s == TK_STMT_METRICS ?
		    "\"# TYPE x counter\\nx 1\\n\"" : "{\"ok\": true}";
		return 0;
	case FUZZ_DB_ERROR:
		snprintf(res->sqlstate, sizeof(res->sqlstate), "%s", fuzz_db_state);
		res->message = fuzz_db_message;
		res->detail = fuzz_db_detail;
		res->hint = fuzz_db_hint;
		return -1;
	case FUZZ_DB_DOWN:
		snprintf(res->sqlstate, sizeof(res->sqlstate), "08001");
		res->message = "cannot connect to the database";
		return -1;
	}
	return -1;
}

/* ---------------------------------------------------------- the environment */

/*
 * Each input gets a fresh environ array, as libfcgi gives each request,
 * pointing into buffers of this file that are reused from input to input.
 * Not setenv(): glibc keeps every value it was ever given, so the heap
 * would grow by each input's values until libFuzzer's RSS limit.
 */
extern char **environ;

static const char *const var_names[FV__MAX] = {
	"REQUEST_METHOD", "REQUEST_URI", "CONTENT_TYPE", "CONTENT_LENGTH",
	"HTTP_AUTHORIZATION", "HTTP_X_QUEUE_TOKEN", "HTTP_IDEMPOTENCY_KEY",
	"REDIRECT_STATUS",
};
static char	*env_array[FV__MAX + 1];	/* NULL-terminated, as environ */
static int	 env_used;
static int	 env_slot[FV__MAX];		/* index in env_array, or -1 */
static char	*env_buf[FV__MAX];		/* "NAME=value" of each variable */
static size_t	 env_cap[FV__MAX];

void
fuzz_env_clear(void)
{
	int	 i;

	for (i = 0; i < FV__MAX; i++)
		env_slot[i] = -1;
	env_used = 0;
	env_array[0] = NULL;
	environ = env_array;
}

void
fuzz_env_set(enum fuzz_var v, const char *s, size_t n)
{
	size_t	 name = strlen(var_names[v]), need = name + n + 2;
	char	*b;

	if (need > env_cap[v]) {
		b = realloc(env_buf[v], need);
		FUZZ_CHECK(b != NULL, "out of memory");
		env_buf[v] = b;
		env_cap[v] = need;
	}
	b = env_buf[v];
	memcpy(b, var_names[v], name);
	b[name] = '=';
	memcpy(b + name + 1, s, n);
	b[name + 1 + n] = '\0';	/* an environment value ends at its first NUL */
	if (env_slot[v] < 0) {
		env_slot[v] = env_used;
		env_array[env_used++] = b;
		env_array[env_used] = NULL;
	}
	environ = env_array;
}

/* ------------------------------------------------------------- the answer */

static int
known_status(int st)
{
	static const int ok[] = { 200, 201, 204, 400, 401, 402, 403, 404, 405,
	    409, 410, 413, 415, 422, 429, 500, 503 };
	size_t	 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ok[i] == st)
			return 1;
	return 0;
}

static void
check_error_body(const struct tk_reply *p)
{
	json_error_t	 err;
	json_t		*doc, *e, *v;

	FUZZ_CHECK(p->code < TK_CODE__MAX, "error answer %d without a code", p->status);
	FUZZ_CHECK(tk_codes[p->code].status == p->status, "status %d with code %s",
	    p->status, tk_codes[p->code].name);
	FUZZ_CHECK(p->content_type != NULL && strcmp(p->content_type, TK_JSON_TYPE) == 0,
	    "error answer %d is not JSON", p->status);
	doc = json_loadb(p->body, p->bodylen, JSON_REJECT_DUPLICATES, &err);
	FUZZ_CHECK(doc != NULL, "error body is not JSON: %s: %.*s", err.text, (int)p->bodylen, p->body);
	e = json_object_get(doc, "error");
	FUZZ_CHECK(json_object_size(doc) == 1 && json_is_object(e) && json_object_size(e) == 4,
	    "error body shape: %.*s", (int)p->bodylen, p->body);
	v = json_object_get(e, "code");
	FUZZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), tk_codes[p->code].name) == 0,
	    "error code: %.*s", (int)p->bodylen, p->body);
	v = json_object_get(e, "message");
	FUZZ_CHECK(json_is_string(v) && json_string_length(v) > 0, "error message: %.*s",
	    (int)p->bodylen, p->body);
	v = json_object_get(e, "details");
	FUZZ_CHECK(v != NULL && (json_is_null(v) || json_is_object(v) || json_is_string(v)),
	    "error details: %.*s", (int)p->bodylen, p->body);
	v = json_object_get(e, "hint");
	FUZZ_CHECK(v != NULL && (json_is_null(v) || json_is_string(v)), "error hint: %.*s",
	    (int)p->bodylen, p->body);
	json_decref(doc);
}

static void
check_head(const struct tk_reply *p)
{
	char	 head[512];	/* io.c's buffer */
	size_t	 n, i;

	n = tk_reply_head(p, head, sizeof(head));
	FUZZ_CHECK(n > 0, "the header block of a %d answer does not fit in 512 bytes", p->status);
	FUZZ_CHECK(n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0, "header block end");
	for (i = 0; i + 4 < n; i++) {
		if (head[i] == '\r')
			FUZZ_CHECK(head[i + 1] == '\n' && head[i + 2] != '\r',
			    "a bare CR or an empty line inside the headers: %.*s", (int)n, head);
		if (head[i] == '\n')
			FUZZ_CHECK(i > 0 && head[i - 1] == '\r', "a bare LF in the headers: %.*s", (int)n, head);
		FUZZ_CHECK(head[i] != '\0', "NUL in the headers");
	}
}

static int
db_failed_with(enum tk_code code)
{
	if (fuzz_db_calls == 0)
		return 0;
	if (fuzz_db_mode == FUZZ_DB_DOWN)
		return code == TK_DATABASE_UNAVAILABLE;
	if (fuzz_db_mode == FUZZ_DB_ERROR)
		return tk_error_for_sqlstate(fuzz_db_state, NULL) == code;
	return 0;
}

void
fuzz_serve(const uint8_t *body, size_t size)
{
	static struct tk_req	 r;
	static struct tk_routing rt;
	const struct tk_reply	*p = &r.reply;
	size_t			 got;

	fuzz_init();
	fuzz_db_calls = 0;
	tk_req_init(&r, tk_db_new(NULL, 0, 0));
	tk_req_from_env(&r);
	/* io.c: a body over the limit is drained, else Content-Length bytes are read. */
	if (r.method == TK_POST && !r.body_too_large && r.content_length > 0) {
		got = (size_t)r.content_length < size ? (size_t)r.content_length : size;
		memcpy(r.bodybuf, body, got);
		r.bodybuf[got] = '\0';
		r.body = r.bodybuf;
		r.bodylen = got;
	}
	/* The program lighttpd runs for the route (notfound for no route). */
	tk_route_find(r.method, r.path, &rt);
	tk_serve(&r, rt.match == TK_MATCH_OK ? tk_routes[rt.route].program :
	    TK_PROG_NOTFOUND);

	FUZZ_CHECK(known_status(p->status), "status %d", p->status);
	FUZZ_CHECK(fuzz_db_calls <= 1, "%d database calls for one request", fuzz_db_calls);
	if (p->status >= 400)
		check_error_body(p);
	else
		FUZZ_CHECK(fuzz_db_calls == 1 && fuzz_db_mode == FUZZ_DB_OK,
		    "a %d answer without the database's word", p->status);
	if (fuzz_db_mode == FUZZ_DB_OK && fuzz_db_calls == 1)
		FUZZ_CHECK(p->status < 400, "the database said yes, the answer is %d", p->status);
	/* A 5xx only when the database (or the web server) failed, never for client input. */
	if (p->status >= 500)
		FUZZ_CHECK(db_failed_with(p->code) || r.redirect_status >= 500,
		    "client input answered %d %s (%s %s)", p->status, tk_codes[p->code].name,
		    r.method_name, r.path);
	if (p->status == 405 && r.redirect_status == 0)
		FUZZ_CHECK(p->allow[0] != '\0', "405 without Allow");
	/* 503 always says when to retry; 429 when the database's DETAIL did (it always does). */
	if (p->status == 503 || (p->status == 429 && fuzz_db_detail != NULL &&
	    strstr(fuzz_db_detail, "\"retry_after\": 7") != NULL))
		FUZZ_CHECK(p->retry_after >= 0, "%d without Retry-After", p->status);
	if (p->status == 204)
		FUZZ_CHECK(p->content_type == NULL && p->bodylen == 0, "204 with a body");
	check_head(p);
	tk_req_free(&r);
}
