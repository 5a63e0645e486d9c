/*
 * check_errors.c: the error module (errors.c): every row of the SQLSTATE
 * table of docs/sql-api.md, the error body, details, hint, Retry-After.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tk_test.h"

/* docs/sql-api.md, "Errors", written out again as the contract. */
static const struct {
	const char	*sqlstate;
	int		 status;
	const char	*code;
} contract[] = {
	{ "T400A", 400, "INVALID_ARGUMENT" },
	{ "T400B", 400, "INVALID_AMOUNT" },
	{ "T401A", 401, "UNAUTHENTICATED" },
	{ "T401B", 401, "QUEUE_TOKEN_INVALID" },
	{ "T401C", 401, "QUEUE_TOKEN_EXPIRED" },
	{ "T402A", 402, "INSUFFICIENT_BALANCE" },
	{ "T403A", 403, "QUEUE_TOKEN_MISMATCH" },
	{ "T404A", 404, "NOT_FOUND" },
	{ "T409A", 409, "SEAT_UNAVAILABLE" },
	{ "T409B", 409, "HOLD_LIMIT_REACHED" },
	{ "T409C", 409, "RESERVATION_NOT_HELD" },
	{ "T409D", 409, "IDEMPOTENCY_IN_PROGRESS" },
	{ "T409E", 409, "REFUND_NOT_ALLOWED" },
	{ "T409F", 409, "QUEUE_NOT_OPEN" },
	{ "T409G", 409, "SALE_NOT_OPEN" },
	{ "T410A", 410, "HOLD_EXPIRED" },
	{ "T422A", 422, "IDEMPOTENCY_KEY_REUSED" },
	{ "T429A", 429, "QUEUE_NOT_ADMITTED" },
	/* class 22 */
	{ "22000", 400, "INVALID_ARGUMENT" },
	{ "22P02", 400, "INVALID_ARGUMENT" },	/* invalid text representation */
	{ "22003", 400, "INVALID_ARGUMENT" },	/* numeric value out of range */
	{ "22007", 400, "INVALID_ARGUMENT" },	/* invalid datetime format */
	{ "22008", 400, "INVALID_ARGUMENT" },	/* datetime field overflow */
	{ "22001", 400, "INVALID_ARGUMENT" },	/* string too long */
	{ "2201E", 400, "INVALID_ARGUMENT" },
	/* classes 08, 40, 53, 55, 57 */
	{ "08000", 503, "DATABASE_UNAVAILABLE" },
	{ "08001", 503, "DATABASE_UNAVAILABLE" },
	{ "08006", 503, "DATABASE_UNAVAILABLE" },
	{ "53000", 503, "DATABASE_UNAVAILABLE" },
	{ "53300", 503, "DATABASE_UNAVAILABLE" },	/* too many connections */
	{ "57014", 503, "DATABASE_UNAVAILABLE" },	/* statement timeout */
	{ "57P01", 503, "DATABASE_UNAVAILABLE" },	/* admin shutdown */
	{ "57P03", 503, "DATABASE_UNAVAILABLE" },	/* cannot connect now */
	{ "40001", 503, "DATABASE_UNAVAILABLE" },	/* serialization failure */
	{ "40P01", 503, "DATABASE_UNAVAILABLE" },	/* deadlock */
	{ "55P03", 503, "DATABASE_UNAVAILABLE" },	/* lock timeout */
	{ "55000", 503, "DATABASE_UNAVAILABLE" },
	/* anything else */
	{ "23505", 500, "INTERNAL" },	/* unique: functions catch their own */
	{ "23P01", 500, "INTERNAL" },	/* exclusion, of no known constraint */
	{ "23503", 500, "INTERNAL" },	/* foreign key: a function bug */
	{ "23514", 500, "INTERNAL" },
	{ "42883", 500, "INTERNAL" },	/* undefined function */
	{ "42501", 500, "INTERNAL" },	/* insufficient privilege */
	{ "P0001", 500, "INTERNAL" },	/* plain RAISE EXCEPTION */
	{ "XX000", 500, "INTERNAL" },
	{ "T400Z", 500, "INTERNAL" },
	{ "T4", 500, "INTERNAL" },
	{ "", 500, "INTERNAL" },
	{ "t400a", 500, "INTERNAL" },
};

/* Answers as if the database had raised sqlstate on constraint. */
static struct tk_req *
db_error_on(const char *state, const char *constraint, const char *message,
    const char *detail, const char *hint)
{
	struct tk_req	*r = &test_req;
	struct tk_dbres	 res;

	tk_req_free(r);
	tk_req_init(r, NULL);
	memset(&res, 0, sizeof(res));
	ck_assert_uint_lt(strlen(state), sizeof(res.sqlstate));
	memcpy(res.sqlstate, state, strlen(state) + 1);
	res.message = message;
	res.detail = detail;
	res.hint = hint;
	res.constraint = constraint;
	tk_error_db(r, &res);
	return r;
}

static struct tk_req *
db_error(const char *state, const char *message, const char *detail,
    const char *hint)
{
	return db_error_on(state, NULL, message, detail, hint);
}

START_TEST(every_sqlstate)
{
	struct tk_req	*r;
	size_t		 i;

	for (i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
		ck_assert_msg(tk_codes[tk_error_for_sqlstate(
		    contract[i].sqlstate, NULL)].status == contract[i].status,
		    "%s", contract[i].sqlstate);
		r = db_error(contract[i].sqlstate, "m", NULL, NULL);
		ck_assert_msg(r->reply.status == contract[i].status, "%s: %d",
		    contract[i].sqlstate, r->reply.status);
		ck_assert_str_eq(reply_code(r), contract[i].code);
		ck_assert_str_eq(tk_codes[r->reply.code].name, contract[i].code);
	}
	ck_assert_int_eq(tk_error_for_sqlstate(NULL, NULL), TK_INTERNAL);
	ck_assert_int_eq(tk_error_for_sqlstate("T400AB", NULL), TK_INTERNAL);
	ck_assert_int_eq(tk_error_for_sqlstate("22", NULL), TK_INTERNAL);
}
END_TEST

START_TEST(code_table)
{
	int	 i, j;

	for (i = 0; i < TK_CODE__MAX; i++) {
		ck_assert_int_ge(tk_codes[i].status, 400);
		ck_assert_int_le(tk_codes[i].status, 599);
		ck_assert_ptr_nonnull(tk_codes[i].name);
		ck_assert_ptr_nonnull(tk_codes[i].message);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(tk_codes[i].name, tk_codes[j].name);
	}
}
END_TEST

/* The JSON of error.<key> in the answer, as compact text. */
static char *
error_member(const struct tk_req *r, const char *key)
{
	json_t	*v = reply_json(r);
	char	*s;

	s = json_dumps(json_object_get(json_object_get(v, "error"), key),
	    JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(v);
	return s;
}

#define ck_member(r, key, text) do {					\
	char *s_ = error_member((r), (key));				\
	ck_assert_str_eq(s_, (text));					\
	free(s_);							\
} while (0)

START_TEST(database_text)
{
	struct tk_req	*r;

	/* project codes pass message, DETAIL (JSON) and HINT on */
	r = db_error("T409A", "seat 7 on 2026-12-24 is not available",
	    "{\"seat_nos\": [7], \"date\": \"2026-12-24\"}", "pick another seat");
	ck_member(r, "message", "\"seat 7 on 2026-12-24 is not available\"");
	ck_member(r, "details", "{\"date\":\"2026-12-24\",\"seat_nos\":[7]}");
	ck_member(r, "hint", "\"pick another seat\"");
	ck_assert_int_eq(r->reply.retry_after, -1);
	/* DETAIL that is not a JSON object is a string */
	r = db_error("T422A", "reused", "key was used for POST /x", NULL);
	ck_member(r, "details", "\"key was used for POST /x\"");
	ck_member(r, "hint", "null");
	r = db_error("T422A", "reused", "[1, 2]", NULL);
	ck_member(r, "details", "\"[1, 2]\"");
	r = db_error("T422A", "reused", "{\"a\": 1, \"a\": 2}", NULL);
	ck_member(r, "details", "\"{\\\"a\\\": 1, \\\"a\\\": 2}\"");
	r = db_error("T404A", "no such concert", NULL, NULL);
	ck_member(r, "details", "null");
	/* no message: the code's own */
	r = db_error("T404A", NULL, NULL, NULL);
	ck_member(r, "message", "\"not found\"");
	/* text that is not UTF-8 is not passed on */
	r = db_error("T404A", "bad \xff byte", "bad \xfe", "h\xc3");
	ck_member(r, "message", "\"not found\"");
	ck_member(r, "details", "null");
	ck_member(r, "hint", "null");
	/* class 22: the database's words */
	r = db_error("22P02", "invalid input syntax for type bigint: \"x\"", NULL, NULL);
	ck_member(r, "message", "\"invalid input syntax for type bigint: \\\"x\\\"\"");
}
END_TEST

START_TEST(internal_text_hidden)
{
	struct tk_req	*r;

	r = db_error_on("23P01", "one_claim_per_seat", "conflicting key value "
	    "violates exclusion constraint \"one_claim_per_seat\"",
	    "Key (seat_id, claim)=(7, [1,2)) conflicts with existing key.", NULL);
	ck_member(r, "message", "\"the seat is held or sold by someone else\"");
	ck_member(r, "details", "null");
	r = db_error_on("23505", "payments_reservation_id_key", "duplicate key "
	    "value violates unique constraint \"payments_reservation_id_key\"",
	    "Key (reservation_id)=(7) already exists.", NULL);
	ck_member(r, "message", "\"internal error\"");
	ck_member(r, "details", "null");
	r = db_error("42P01", "relation \"ticket.secret\" does not exist", "x", "y");
	ck_error(r, 500, "INTERNAL");
	ck_member(r, "message", "\"internal error\"");
	ck_member(r, "details", "null");
	ck_member(r, "hint", "null");
	r = db_error("08006", "server closed the connection unexpectedly", NULL, NULL);
	ck_member(r, "message", "\"the database is unavailable, try again\"");
}
END_TEST

START_TEST(retry_after)
{
	struct tk_req	*r;

	r = db_error("T429A", "not admitted yet", "{\"retry_after\": 7, \"position\": 3}", NULL);
	ck_error(r, 429, "QUEUE_NOT_ADMITTED");
	ck_assert_int_eq(r->reply.retry_after, 7);
	r = db_error("T429A", "not admitted yet", "{\"retry_after\": 0}", NULL);
	ck_assert_int_eq(r->reply.retry_after, 0);
	/* nonsense is not a header */
	r = db_error("T429A", "x", "{\"retry_after\": -1}", NULL);
	ck_assert_int_eq(r->reply.retry_after, -1);
	r = db_error("T429A", "x", "{\"retry_after\": \"7\"}", NULL);
	ck_assert_int_eq(r->reply.retry_after, -1);
	r = db_error("T429A", "x", "{\"retry_after\": 1.5}", NULL);
	ck_assert_int_eq(r->reply.retry_after, -1);
	r = db_error("T429A", "x", "{\"retry_after\": 99999999999}", NULL);
	ck_assert_int_eq(r->reply.retry_after, -1);
	/* 503 asks to come back in a second */
	r = db_error("57014", "canceling statement due to statement timeout", NULL, NULL);
	ck_error(r, 503, "DATABASE_UNAVAILABLE");
	ck_assert_int_eq(r->reply.retry_after, 1);
}
END_TEST

START_TEST(error_body)
{
	struct tk_req	*r = &test_req;
	char		 head[512];

	tk_error_reply(r, TK_SEAT_UNAVAILABLE, "seat 7 on 2026-12-24 is not available", NULL, NULL);
	ck_assert_str_eq(r->reply.body, "{\"error\": {\"code\": \"SEAT_UNAVAILABLE\", "
	    "\"message\": \"seat 7 on 2026-12-24 is not available\", \"details\": null, "
	    "\"hint\": null}}");
	ck_assert_uint_eq(r->reply.bodylen, strlen(r->reply.body));
	ck_assert_uint_gt(tk_reply_head(&r->reply, head, sizeof(head)), 0);
	ck_assert_ptr_nonnull(strstr(head, "Status: 409 Conflict\r\n"));
	ck_assert_ptr_nonnull(strstr(head, "Content-Type: application/json; charset=utf-8\r\n"));
	/* a second answer replaces the first, nothing leaks */
	tk_error_field(r, TK_INVALID_ARGUMENT, "amount", "must be an integer");
	ck_error(r, 400, "INVALID_ARGUMENT");
	ck_member(r, "message", "\"amount must be an integer\"");
	ck_member(r, "details", "{\"field\":\"amount\",\"reason\":\"must be an integer\"}");
	/* a message with quotes, newlines and control characters is escaped */
	tk_error_reply(r, TK_NOT_FOUND, "a \"b\"\n\x01</script>", NULL, NULL);
	ck_member(r, "message", "\"a \\\"b\\\"\\n\\u0001</script>\"");
}
END_TEST

/* lighttpd's own errors (error handler): status to code. */
START_TEST(web_server_statuses)
{
	static const struct {
		int		 status;
		const char	*code;
	} cases[] = {
		{ 400, "INVALID_ARGUMENT" }, { 403, "INVALID_ARGUMENT" },
		{ 404, "NOT_FOUND" }, { 405, "METHOD_NOT_ALLOWED" },
		{ 408, "INVALID_ARGUMENT" }, { 411, "INVALID_ARGUMENT" },
		{ 413, "PAYLOAD_TOO_LARGE" }, { 414, "INVALID_ARGUMENT" },
		{ 415, "UNSUPPORTED_MEDIA_TYPE" }, { 431, "INVALID_ARGUMENT" },
		{ 500, "INTERNAL" }, { 501, "METHOD_NOT_ALLOWED" },
		{ 502, "DATABASE_UNAVAILABLE" }, { 503, "DATABASE_UNAVAILABLE" },
		{ 504, "DATABASE_UNAVAILABLE" }, { 505, "INVALID_ARGUMENT" },
		{ 507, "INTERNAL" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(tk_codes[tk_error_for_status(cases[i].status)].name,
		    cases[i].code);
}
END_TEST

/*
 * Integrity errors: only a second claim on a seat, caught by the
 * exclusion constraint one_claim_per_seat, is a seat conflict.  Any other
 * unique or exclusion violation is a function that did not catch its
 * own: 500.
 */
START_TEST(integrity_errors)
{
	static const struct {
		const char	*state, *constraint;
		int		 status;
		const char	*code;
	} cases[] = {
		{ "23P01", "one_claim_per_seat", 409, "SEAT_UNAVAILABLE" },
		{ "23P01", NULL, 500, "INTERNAL" },
		{ "23P01", "one_claim_per_seat_x", 500, "INTERNAL" },
		{ "23P01", "one_claim_per", 500, "INTERNAL" },
		{ "23P01", "", 500, "INTERNAL" },
		{ "23505", "one_claim_per_seat", 500, "INTERNAL" },
		{ "23505", "queue_tokens_one_live", 500, "INTERNAL" },
		{ "23505", "payments_reservation_id_key", 500, "INTERNAL" },
		{ "23505", NULL, 500, "INTERNAL" },
	};
	struct tk_req	*r;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = db_error_on(cases[i].state, cases[i].constraint, "m", "d",
		    "h");
		ck_assert_msg(r->reply.status == cases[i].status, "%s on %s: %d",
		    cases[i].state, cases[i].constraint ? cases[i].constraint :
		    "(none)", r->reply.status);
		ck_assert_str_eq(reply_code(r), cases[i].code);
		ck_assert_int_eq(tk_error_for_sqlstate(cases[i].state,
		    cases[i].constraint), r->reply.code);
		/* the database's words stay in the log */
		ck_member(r, "details", "null");
		ck_member(r, "hint", "null");
	}
}
END_TEST

/* The JSON of file dir/api-error-<status>.html, read whole. */
static char *
read_file(const char *dir, int status)
{
	char	 path[1024], *buf;
	FILE	*f;
	long	 n;

	snprintf(path, sizeof(path), "%s/api-error-%d.html", dir, status);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s not written", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/*
 * ticket-errorfiles writes one file per error lighttpd answers itself,
 * each the error body of that status's code, in the words of tk_codes
 * unless the status has its own.
 */
START_TEST(error_files)
{
	const char	*prog = getenv("TICKET_ERRORFILES");
	char		 dir[] = "/tmp/tk-errorfiles-XXXXXX", cmd[1024];
	char		*want, *got, path[512];
	json_t		*v, *e;
	size_t		 i;
	int		 status, seen_503 = 0, seen_413 = 0;

	ck_assert_msg(prog != NULL, "TICKET_ERRORFILES is not set (errors.t)");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "'%s' '%s/errors'", prog, dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/errors", dir);
	for (i = 0; (want = tk_error_file(i, &status)) != NULL; i++) {
		got = read_file(path, status);
		ck_assert_str_eq(got, want);
		v = json_loads(got, JSON_REJECT_DUPLICATES, NULL);
		e = json_object_get(v, "error");
		ck_assert_uint_eq(json_object_size(e), 4);
		ck_assert_int_eq(tk_codes[tk_error_for_status(status)].status >= 500,
		    status >= 500 && status != 501 && status != 505);
		ck_assert_str_eq(json_string_value(json_object_get(e, "code")),
		    tk_codes[tk_error_for_status(status)].name);
		ck_assert(json_is_null(json_object_get(e, "details")));
		ck_assert(json_is_null(json_object_get(e, "hint")));
		if (status == 503) {
			seen_503 = 1;
			ck_assert_str_eq(json_string_value(json_object_get(e,
			    "message")), tk_codes[TK_DATABASE_UNAVAILABLE].message);
		}
		if (status == 413) {
			seen_413 = 1;
			ck_assert_str_eq(json_string_value(json_object_get(e,
			    "message")), "the request body is larger than "
			    TK_STR(TK_BODY_MAX) " bytes");
		}
		json_decref(v);
		free(got);
		free(want);
		snprintf(cmd, sizeof(cmd), "%s/api-error-%d.html", path, status);
		ck_assert_int_eq(unlink(cmd), 0);
	}
	ck_assert_int_eq(status, 0);
	ck_assert(seen_503 && seen_413);
	ck_assert_uint_ge(i, 12);
	/* nothing else was left there */
	ck_assert_int_eq(rmdir(path), 0);
	/* a directory it cannot make: it says so and fails */
	snprintf(cmd, sizeof(cmd), "'%s' '%s/no/such' 2>/dev/null", prog, dir);
	ck_assert_int_ne(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' 2>/dev/null", prog);
	ck_assert_int_ne(system(cmd), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *
errors_suite(void)
{
	Suite	*s = suite_create("errors");
	TCase	*tc;

	tc = tcase_create("mapping");
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, every_sqlstate);
	tcase_add_test(tc, code_table);
	tcase_add_test(tc, database_text);
	tcase_add_test(tc, internal_text_hidden);
	tcase_add_test(tc, retry_after);
	tcase_add_test(tc, error_body);
	tcase_add_test(tc, web_server_statuses);
	tcase_add_test(tc, integrity_errors);
	tcase_add_test(tc, error_files);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tk_test_run(errors_suite());
}
