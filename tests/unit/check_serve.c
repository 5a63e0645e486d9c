/*
 * check_serve.c: the serve module (serve.c) with every program's
 * handlers: each route passes the right parameters to its one call, and
 * hostile requests are answered before the database is asked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk_test.h"

#define KEY	"k3y-0K_~+/="	/* what run() sends as the Bearer key */
#define TOKEN	"t0ken"		/* and as X-Queue-Token */

/* The database was called once, with this statement and parameters. */
static void
ck_call(const struct tk_req *r, enum tk_stmt stmt, int n, ...)
{
	va_list		 ap;
	const char	*want;
	int		 i;

	ck_assert_msg(r->reply.status >= 200 && r->reply.status < 300,
	    "status %d: %.*s", r->reply.status, (int)r->reply.bodylen,
	    r->reply.body != NULL ? r->reply.body : "");
	ck_assert_int_eq(fake_last.calls, 1);
	ck_assert_int_eq(fake_last.stmt, stmt);
	ck_assert_int_eq(tk_stmts[stmt].nparams, n);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		want = va_arg(ap, const char *);
		if (want == NULL)
			ck_assert_msg(fake_param(i) == NULL, "param %d: %s",
			    i + 1, fake_param(i));
		else {
			ck_assert_msg(fake_param(i) != NULL, "param %d NULL", i + 1);
			ck_assert_str_eq(fake_param(i), want);
		}
	}
	va_end(ap);
}

/* Refused with this status and code, and the database never asked. */
#define ck_refused(r, st, cd) do {					\
	ck_error((r), (st), (cd));					\
	ck_assert_int_eq(fake_last.calls, 0);				\
} while (0)

static void
reset(void)
{
	fake_db_reset();
}

START_TEST(route_users)
{
	struct tk_req	*r;

	r = run(tk_program_users, "POST", "/api/users", "{\"name\": \"alice\"}");
	ck_call(r, TK_STMT_CREATE_USER, 1, "alice");
	ck_assert_str_eq(r->reply.body, "{\"ok\": true}");
	reset();
	/* unknown members are ignored */
	r = run(tk_program_users, "POST", "/api/users",
	    "{\"name\": \"\\uae40\", \"extra\": {\"deep\": [1, 2.5, null]}}");
	ck_call(r, TK_STMT_CREATE_USER, 1, "\xea\xb9\x80");
}
END_TEST

START_TEST(route_wallet)
{
	struct tk_req	*r;

	r = run(tk_program_wallet, "GET", "/api/wallet", NULL);
	ck_call(r, TK_STMT_GET_WALLET, 1, KEY);
	reset();
	setenv("HTTP_IDEMPOTENCY_KEY", "charge-1", 1);
	r = run(tk_program_wallet, "POST", "/api/wallet/charge", "{\"amount\": 50000}");
	ck_call(r, TK_STMT_CHARGE_WALLET, 3, KEY, "50000", NULL);
	reset();
	env_request("POST", "/api/wallet/charge");
	setenv("HTTP_AUTHORIZATION", "Bearer " KEY, 1);
	setenv("HTTP_IDEMPOTENCY_KEY", "charge 1/2 {x}", 1);
	setenv("CONTENT_TYPE", "application/json; charset=utf-8", 1);
	r = run_request(tk_program_wallet, "{\"amount\":1}", 12);
	ck_call(r, TK_STMT_CHARGE_WALLET, 3, KEY, "1", "charge 1/2 {x}");
	reset();
	r = run(tk_program_wallet, "GET", "/api/wallet/transactions", NULL);
	ck_call(r, TK_STMT_LIST_TRANSACTIONS, 3, KEY, "50", NULL);
	reset();
	r = run(tk_program_wallet, "GET",
	    "/api/wallet/transactions?limit=%31%30&before=99&other=%zz", NULL);
	ck_call(r, TK_STMT_LIST_TRANSACTIONS, 3, KEY, "10", "99");
}
END_TEST

START_TEST(route_concerts_queue)
{
	struct tk_req	*r;

	r = run(tk_program_concerts, "GET", "/api/concerts", NULL);
	ck_call(r, TK_STMT_LIST_CONCERTS, 0);
	reset();
	r = run(tk_program_queue, "POST", "/api/concerts/12/queue", NULL);
	ck_call(r, TK_STMT_ISSUE_TOKEN, 2, KEY, "12");
	reset();
	r = run(tk_program_queue, "POST", "/api/concerts/12/queue", "{}");
	ck_call(r, TK_STMT_ISSUE_TOKEN, 2, KEY, "12");
	reset();
	r = run(tk_program_queue, "GET", "/api/queue", NULL);
	ck_call(r, TK_STMT_QUEUE_STATUS, 1, TOKEN);
	reset();
	r = run(tk_program_queue, "DELETE", "/api/queue", NULL);
	ck_call(r, TK_STMT_LEAVE_QUEUE, 1, TOKEN);
	reset();
	/* the queue token alone: no Authorization needed or read */
	env_request("GET", "/api/queue");
	setenv("HTTP_X_QUEUE_TOKEN", TOKEN, 1);
	setenv("HTTP_AUTHORIZATION", "garbage", 1);
	r = run_request(tk_program_queue, NULL, 0);
	ck_call(r, TK_STMT_QUEUE_STATUS, 1, TOKEN);
}
END_TEST

START_TEST(route_seats)
{
	struct tk_req	*r;

	r = run(tk_program_seats, "GET", "/api/concerts/12/dates", NULL);
	ck_call(r, TK_STMT_AVAILABLE_DATES, 3, KEY, TOKEN, "12");
	reset();
	r = run(tk_program_seats, "GET", "/api/concerts/12/dates/2024-02-29/seats", NULL);
	ck_call(r, TK_STMT_SEAT_MAP, 4, KEY, TOKEN, "12", "2024-02-29");
}
END_TEST

START_TEST(route_reservations)
{
	struct tk_req	*r;

	r = run(tk_program_reservations, "POST", "/api/reservations",
	    "{\"concert_id\": 12, \"date\": \"2026-12-24\", \"seat_nos\": [7, 8]}");
	ck_call(r, TK_STMT_HOLD_SEAT, 5, KEY, TOKEN, "12", "2026-12-24", "{7,8}");
	reset();
	r = run(tk_program_reservations, "POST", "/api/reservations",
	    "{\"concert_id\": \"12\", \"date\": \"2026-12-24\", \"seat_no\": 7, \"note\": \"x\"}");
	ck_call(r, TK_STMT_HOLD_SEAT, 5, KEY, TOKEN, "12", "2026-12-24", "{7}");
	reset();
	r = run(tk_program_reservations, "GET", "/api/reservations/34", NULL);
	ck_call(r, TK_STMT_GET_RESERVATION, 3, KEY, TOKEN, "34");
	reset();
	r = run(tk_program_reservations, "DELETE", "/api/reservations/34", NULL);
	ck_call(r, TK_STMT_CANCEL_RESERVATION, 3, KEY, TOKEN, "34");
	reset();
	/* no token: passed on as NULL (allowed once paid) */
	env_request("GET", "/api/reservations/34");
	setenv("HTTP_AUTHORIZATION", "Bearer " KEY, 1);
	r = run_request(tk_program_reservations, NULL, 0);
	ck_call(r, TK_STMT_GET_RESERVATION, 3, KEY, NULL, "34");
}
END_TEST

START_TEST(route_payment_ops)
{
	struct tk_req	*r;

	r = run(tk_program_payment, "POST", "/api/reservations/34/payment", NULL);
	ck_call(r, TK_STMT_PAY_RESERVATION, 4, KEY, TOKEN, "34", NULL);
	reset();
	setenv("HTTP_IDEMPOTENCY_KEY", "pay-34", 1);
	env_request("POST", "/api/reservations/34/payment");
	setenv("HTTP_AUTHORIZATION", "Bearer " KEY, 1);
	setenv("HTTP_X_QUEUE_TOKEN", TOKEN, 1);
	setenv("HTTP_IDEMPOTENCY_KEY", "pay-34", 1);
	setenv("CONTENT_TYPE", "application/json", 1);
	r = run_request(tk_program_payment, "{}", 2);
	ck_call(r, TK_STMT_PAY_RESERVATION, 4, KEY, TOKEN, "34", "pay-34");
	reset();
	/* an empty body needs no Content-Type */
	env_request("POST", "/api/reservations/34/payment");
	setenv("CONTENT_TYPE", "text/plain", 1);
	setenv("CONTENT_LENGTH", "0", 1);
	r = run_request(tk_program_payment, "", 0);
	ck_call(r, TK_STMT_PAY_RESERVATION, 4, NULL, NULL, "34", NULL);
	reset();
	r = run(tk_program_health, "GET", "/api/health", NULL);
	ck_call(r, TK_STMT_HEALTH, 0);
	reset();
	fake_db_reply(200, "\"m 1\\n\"", -1);
	r = run(tk_program_metrics, "GET", "/api/metrics?x=1", NULL);
	ck_call(r, TK_STMT_METRICS, 0);
	ck_assert_str_eq(r->reply.body, "m 1\n");
}
END_TEST

START_TEST(database_answers)
{
	struct tk_req	*r;

	fake_db_error("T429A", "not admitted yet", "{\"retry_after\": 7}", NULL);
	r = run(tk_program_seats, "GET", "/api/concerts/12/dates", NULL);
	ck_error(r, 429, "QUEUE_NOT_ADMITTED");
	ck_assert_int_eq(r->reply.retry_after, 7);
	ck_assert_int_eq(fake_last.calls, 1);
	reset();
	fake_db_reply(200, "{\"status\": \"WAITING\"}", 5);
	r = run(tk_program_queue, "GET", "/api/queue", NULL);
	ck_assert_int_eq(r->reply.status, 200);
	ck_assert_int_eq(r->reply.retry_after, 5);
	reset();
	fake_db_error("08006", "server closed the connection", NULL, NULL);
	r = run(tk_program_health, "GET", "/api/health", NULL);
	ck_error(r, 503, "DATABASE_UNAVAILABLE");
	reset();
	fake_db_reply(204, NULL, -1);
	r = run(tk_program_reservations, "DELETE", "/api/reservations/34", NULL);
	ck_assert_int_eq(r->reply.status, 204);
	ck_assert_ptr_null(r->reply.content_type);
}
END_TEST

START_TEST(credentials)
{
	struct tk_req	*r;

	/* absent: NULL, the database decides */
	env_request("GET", "/api/wallet");
	r = run_request(tk_program_wallet, NULL, 0);
	ck_call(r, TK_STMT_GET_WALLET, 1, NULL);
	reset();
	/* malformed key: 401 at once */
	env_request("GET", "/api/wallet");
	setenv("HTTP_AUTHORIZATION", "Basic YTpi", 1);
	r = run_request(tk_program_wallet, NULL, 0);
	ck_refused(r, 401, "UNAUTHENTICATED");
	env_request("GET", "/api/wallet");
	setenv("HTTP_AUTHORIZATION", "Bearer a b", 1);
	r = run_request(tk_program_wallet, NULL, 0);
	ck_refused(r, 401, "UNAUTHENTICATED");
	env_request("GET", "/api/wallet");
	setenv("HTTP_AUTHORIZATION", "Bearer ab\r\nX-Evil: 1", 1);
	r = run_request(tk_program_wallet, NULL, 0);
	ck_refused(r, 401, "UNAUTHENTICATED");
	/* malformed token with a key: 401 QUEUE_TOKEN_INVALID at once */
	env_request("GET", "/api/concerts/1/dates");
	setenv("HTTP_AUTHORIZATION", "Bearer " KEY, 1);
	setenv("HTTP_X_QUEUE_TOKEN", "not a token", 1);
	r = run_request(tk_program_seats, NULL, 0);
	ck_refused(r, 401, "QUEUE_TOKEN_INVALID");
	env_request("GET", "/api/queue");
	setenv("HTTP_X_QUEUE_TOKEN", "tok\xc3\xa9", 1);
	r = run_request(tk_program_queue, NULL, 0);
	ck_refused(r, 401, "QUEUE_TOKEN_INVALID");
	/* no key: the token is not looked at, the database says 401 first */
	env_request("GET", "/api/concerts/1/dates");
	setenv("HTTP_X_QUEUE_TOKEN", "not a token", 1);
	r = run_request(tk_program_seats, NULL, 0);
	ck_call(r, TK_STMT_AVAILABLE_DATES, 3, NULL, NULL, "1");
}
END_TEST

START_TEST(idempotency_key)
{
	static const char *const bad[] = {
		"", "a\r\nX-Injected: 1", "a\nb", "tab\t", "caf\xc3\xa9", "\x7f",
	};
	struct tk_req	*r;
	char		 key[TK_IDEM_MAX + 2];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		env_request("POST", "/api/reservations/34/payment");
		setenv("HTTP_AUTHORIZATION", "Bearer " KEY, 1);
		setenv("HTTP_IDEMPOTENCY_KEY", bad[i], 1);
		r = run_request(tk_program_payment, NULL, 0);
		ck_refused(r, 400, "INVALID_ARGUMENT");
		ck_assert_str_eq(reply_field(r), "Idempotency-Key");
	}
	memset(key, 'k', TK_IDEM_MAX + 1);
	key[TK_IDEM_MAX + 1] = '\0';
	env_request("POST", "/api/wallet/charge");
	setenv("HTTP_IDEMPOTENCY_KEY", key, 1);
	setenv("CONTENT_TYPE", "application/json", 1);
	r = run_request(tk_program_wallet, "{\"amount\": 5}", 13);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	key[TK_IDEM_MAX] = '\0';
	setenv("HTTP_IDEMPOTENCY_KEY", key, 1);
	r = run_request(tk_program_wallet, "{\"amount\": 5}", 13);
	ck_call(r, TK_STMT_CHARGE_WALLET, 3, NULL, "5", key);
}
END_TEST

START_TEST(path_values)
{
	static const char *const bad_ids[] = {
		"0", "-1", "007", "+1", "%2B1", "9223372036854775808",
		"99999999999999999999", "1.0", "1e3", "abc", "0x1", "%201",
		"%D9%A3",
	};
	struct tk_req	*r;
	char		 uri[128];
	size_t		 i;

	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		snprintf(uri, sizeof(uri), "/api/reservations/%s", bad_ids[i]);
		r = run(tk_program_reservations, "GET", uri, NULL);
		ck_refused(r, 400, "INVALID_ARGUMENT");
		ck_assert_str_eq(reply_field(r), "reservation_id");
		snprintf(uri, sizeof(uri), "/api/concerts/%s/queue", bad_ids[i]);
		r = run(tk_program_queue, "POST", uri, NULL);
		ck_refused(r, 400, "INVALID_ARGUMENT");
		ck_assert_str_eq(reply_field(r), "concert_id");
	}
	r = run(tk_program_seats, "GET", "/api/concerts/1/dates/2026-02-30/seats", NULL);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "date");
	r = run(tk_program_seats, "GET", "/api/concerts/1/dates/2026-2-3/seats", NULL);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	r = run(tk_program_seats, "GET", "/api/concerts/x/dates/2026-12-24/seats", NULL);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "concert_id");
	/* 405 comes before checking values */
	r = run(tk_program_reservations, "PUT", "/api/reservations/abc", NULL);
	ck_refused(r, 405, "METHOD_NOT_ALLOWED");
	/* largest id */
	r = run(tk_program_reservations, "GET", "/api/reservations/9223372036854775807", NULL);
	ck_call(r, TK_STMT_GET_RESERVATION, 3, KEY, TOKEN, "9223372036854775807");
}
END_TEST

START_TEST(query_values)
{
	static const char *const bad[] = {
		"limit=0", "limit=201", "limit=-1", "limit=abc", "limit=",
		"limit=1.5", "limit=1e1", "limit=1&limit=2", "limit=%zz",
		"limit=%", "before=0", "before=-5", "before=x",
		"before=9223372036854775808", "limit=99999999999999999999",
		"limit=1234567890123456789012345678901234567890123456789012345678901234567890",
	};
	struct tk_req	*r;
	char		 uri[256];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(uri, sizeof(uri), "/api/wallet/transactions?%s", bad[i]);
		r = run(tk_program_wallet, "GET", uri, NULL);
		ck_refused(r, 400, "INVALID_ARGUMENT");
		ck_assert_msg(strcmp(reply_field(r), "limit") == 0 ||
		    strcmp(reply_field(r), "before") == 0, "%s", bad[i]);
	}
	r = run(tk_program_wallet, "GET", "/api/wallet/transactions?limit=200&before=9223372036854775807", NULL);
	ck_call(r, TK_STMT_LIST_TRANSACTIONS, 3, KEY, "200", "9223372036854775807");
}
END_TEST

/* POST /api/wallet/charge with this body; content type application/json. */
static struct tk_req *
charge(const char *body, size_t len)
{
	char	 n[32];

	env_request("POST", "/api/wallet/charge");
	setenv("HTTP_AUTHORIZATION", "Bearer " KEY, 1);
	setenv("CONTENT_TYPE", "application/json", 1);
	snprintf(n, sizeof(n), "%zu", len);
	setenv("CONTENT_LENGTH", n, 1);
	return run_request(tk_program_wallet, body, len);
}

#define ck_charge(body, st, cd, field) do {				\
	struct tk_req *r_ = charge((body), sizeof(body) - 1);		\
	ck_refused(r_, (st), (cd));					\
	ck_assert_str_eq(reply_field(r_), (field));			\
} while (0)

START_TEST(amounts)
{
	ck_charge("{\"amount\": 1.5}", 400, "INVALID_ARGUMENT", "amount");
	ck_charge("{\"amount\": 5e4}", 400, "INVALID_ARGUMENT", "amount");
	ck_charge("{\"amount\": 5E+4}", 400, "INVALID_ARGUMENT", "amount");
	ck_charge("{\"amount\": 50000.0}", 400, "INVALID_ARGUMENT", "amount");
	ck_charge("{\"amount\": \"7\"}", 400, "INVALID_ARGUMENT", "amount");
	ck_charge("{\"amount\": null}", 400, "INVALID_ARGUMENT", "amount");
	ck_charge("{\"amount\": true}", 400, "INVALID_ARGUMENT", "amount");
	ck_charge("{}", 400, "INVALID_ARGUMENT", "amount");
	ck_charge("{\"Amount\": 5}", 400, "INVALID_ARGUMENT", "amount");
	ck_charge("{\"amount\": 0}", 400, "INVALID_AMOUNT", "amount");
	ck_charge("{\"amount\": -5}", 400, "INVALID_AMOUNT", "amount");
	ck_charge("{\"amount\": 10000001}", 400, "INVALID_AMOUNT", "amount");
	ck_charge("{\"amount\": 9223372036854775807}", 400, "INVALID_AMOUNT", "amount");
	/* past int64: jansson refuses, the member is still named */
	ck_charge("{\"amount\": 9223372036854775808}", 400, "INVALID_AMOUNT", "amount");
	ck_charge("{\"amount\": 99999999999999999999999}", 400, "INVALID_AMOUNT", "amount");
	ck_charge("{\"amount\": -99999999999999999999999}", 400, "INVALID_AMOUNT", "amount");
	ck_charge("{\"amount\": 5, \"x\": [1, 99999999999999999999]}", 400, "INVALID_ARGUMENT", "x");
	ck_charge("{\"amount\": 1e999}", 400, "INVALID_ARGUMENT", "");
	ck_charge("{\"amount\": 5, \"amount\": 6}", 400, "INVALID_JSON", "");
}
END_TEST

START_TEST(bodies)
{
	struct tk_req	*r;

	ck_charge("", 400, "INVALID_JSON", "");
	ck_charge("{", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 5,}", 400, "INVALID_JSON", "");
	ck_charge("{'amount': 5}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 5} {}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 5} x", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 05}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": +5}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": NaN}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": Infinity}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 0x10}", 400, "INVALID_JSON", "");
	ck_charge("7", 400, "INVALID_JSON", "");
	ck_charge("\"x\"", 400, "INVALID_JSON", "");
	ck_charge("null", 400, "INVALID_JSON", "");
	ck_charge("[{\"amount\": 5}]", 400, "INVALID_ARGUMENT", "body");
	ck_charge("[]", 400, "INVALID_ARGUMENT", "body");
	/* NUL: raw or escaped */
	ck_charge("{\"amount\": 5, \"a\": \"x\0y\"}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 5}\0", 400, "INVALID_JSON", "");
	ck_charge("\0{\"amount\": 5}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 5, \"a\": \"\\u0000\"}", 400, "INVALID_JSON", "");
	/* not UTF-8 */
	ck_charge("{\"amount\": 5, \"a\": \"\xff\"}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 5, \"a\": \"\xc0\x80\"}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 5, \"a\": \"\xed\xa0\x80\"}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 5, \"a\": \"\\ud800\"}", 400, "INVALID_JSON", "");
	ck_charge("{\"amount\": 5, \"\xfe\": 1}", 400, "INVALID_JSON", "");
	/* a BOM is not JSON */
	ck_charge("\xef\xbb\xbf{\"amount\": 5}", 400, "INVALID_JSON", "");
	/* whitespace around is fine */
	r = charge(" \r\n\t{\"amount\": 5}\n", strlen(" \r\n\t{\"amount\": 5}\n"));
	ck_call(r, TK_STMT_CHARGE_WALLET, 3, KEY, "5", NULL);
}
END_TEST

START_TEST(deep_nesting)
{
	static char	 body[TK_BODY_MAX];
	struct tk_req	*r;
	size_t		 n = 0, depth;

	/* deeper than jansson's limit (2048), within 16 KiB */
	n += (size_t)snprintf(body, sizeof(body), "{\"amount\": 5, \"a\": ");
	for (depth = 0; depth < 5000; depth++)
		body[n++] = '[';
	for (depth = 0; depth < 5000; depth++)
		body[n++] = ']';
	body[n++] = '}';
	r = charge(body, n);
	ck_refused(r, 400, "INVALID_JSON");
	/* objects too */
	n = 0;
	for (depth = 0; depth < 2500; depth++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"a\":");
	body[n++] = '1';
	for (depth = 0; depth < 2500; depth++)
		body[n++] = '}';
	r = charge(body, n);
	ck_refused(r, 400, "INVALID_JSON");
}
END_TEST

START_TEST(body_size)
{
	static char	 body[TK_BODY_MAX + 1];
	struct tk_req	*r;
	size_t		 n;

	/* exactly 16 KiB is fine */
	n = (size_t)snprintf(body, sizeof(body), "{\"amount\": 5, \"pad\": \"");
	memset(body + n, 'x', TK_BODY_MAX - n - 2);
	memcpy(body + TK_BODY_MAX - 2, "\"}", 2);
	r = charge(body, TK_BODY_MAX);
	ck_call(r, TK_STMT_CHARGE_WALLET, 3, KEY, "5", NULL);
	reset();
	/* one more byte is 413, from Content-Length, without reading */
	env_request("POST", "/api/wallet/charge");
	setenv("CONTENT_TYPE", "application/json", 1);
	setenv("CONTENT_LENGTH", "16385", 1);
	r = run_request(tk_program_wallet, NULL, 0);
	ck_refused(r, 413, "PAYLOAD_TOO_LARGE");
	/* whatever the type */
	setenv("CONTENT_TYPE", "text/plain", 1);
	setenv("CONTENT_LENGTH", "999999999999", 1);
	r = run_request(tk_program_wallet, NULL, 0);
	ck_refused(r, 413, "PAYLOAD_TOO_LARGE");
	/* a bad Content-Length */
	setenv("CONTENT_LENGTH", "12x", 1);
	r = run_request(tk_program_wallet, NULL, 0);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "Content-Length");
}
END_TEST

START_TEST(content_types)
{
	static const char *const bad[] = {
		"text/plain", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/json; charset=latin1",
		"application/xml", "text/json",
	};
	struct tk_req	*r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		env_request("POST", "/api/users");
		setenv("CONTENT_TYPE", bad[i], 1);
		setenv("CONTENT_LENGTH", "16", 1);
		r = run_request(tk_program_users, "{\"name\": \"bob\"}", 16);
		ck_refused(r, 415, "UNSUPPORTED_MEDIA_TYPE");
	}
	/* no Content-Type at all */
	env_request("POST", "/api/users");
	setenv("CONTENT_LENGTH", "16", 1);
	r = run_request(tk_program_users, "{\"name\": \"bob\"}", 16);
	ck_refused(r, 415, "UNSUPPORTED_MEDIA_TYPE");
	/* GET ignores any body */
	env_request("GET", "/api/wallet");
	setenv("CONTENT_TYPE", "text/plain", 1);
	setenv("CONTENT_LENGTH", "3", 1);
	r = run_request(tk_program_wallet, "abc", 3);
	ck_call(r, TK_STMT_GET_WALLET, 1, NULL);
}
END_TEST

START_TEST(names)
{
	static char	 body[TK_BODY_MAX];
	struct tk_req	*r;
	size_t		 n;

	r = run(tk_program_users, "POST", "/api/users", "{\"name\": \"\"}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "name");
	r = run(tk_program_users, "POST", "/api/users", "{\"name\": 7}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	r = run(tk_program_users, "POST", "/api/users", "{\"name\": \"a\\r\\nb\"}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	r = run(tk_program_users, "POST", "/api/users", "{\"nom\": \"a\"}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	/* overlong: 10,000 characters */
	n = (size_t)snprintf(body, sizeof(body), "{\"name\": \"");
	memset(body + n, 'a', 10000);
	n += 10000;
	n += (size_t)snprintf(body + n, sizeof(body) - n, "\"}");
	env_request("POST", "/api/users");
	setenv("CONTENT_TYPE", "application/json", 1);
	r = run_request(tk_program_users, body, n);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	/* 64 emoji of 4 bytes: 64 characters */
	n = (size_t)snprintf(body, sizeof(body), "{\"name\": \"");
	for (int i = 0; i < 64; i++) {
		memcpy(body + n, "\xf0\x9f\x8e\xb5", 4);
		n += 4;
	}
	n += (size_t)snprintf(body + n, sizeof(body) - n, "\"}");
	r = run_request(tk_program_users, body, n);
	ck_assert_int_eq(r->reply.status, 200);
	ck_assert_uint_eq(strlen(fake_param(0)), 256);
}
END_TEST

START_TEST(hold_bodies)
{
	static const char *const bad[] = {
		"{\"date\": \"2026-12-24\", \"seat_nos\": [7]}",
		"{\"concert_id\": 1, \"seat_nos\": [7]}",
		"{\"concert_id\": 1, \"date\": \"2026-12-24\"}",
		"{\"concert_id\": 1, \"date\": \"2026-12-24\", \"seat_nos\": [7], \"seat_no\": 7}",
		"{\"concert_id\": 1, \"date\": \"2026-12-24\", \"seat_nos\": []}",
		"{\"concert_id\": 1, \"date\": \"2026-12-24\", \"seat_nos\": [7, 7]}",
		"{\"concert_id\": 1, \"date\": \"2026-12-24\", \"seat_nos\": 7}",
		"{\"concert_id\": 1, \"date\": \"2026-12-24\", \"seat_no\": [7]}",
		"{\"concert_id\": 1, \"date\": \"2026-12-32\", \"seat_no\": 7}",
		"{\"concert_id\": 0, \"date\": \"2026-12-24\", \"seat_no\": 7}",
		"{\"concert_id\": 1.0, \"date\": \"2026-12-24\", \"seat_no\": 7}",
		"{\"concert_id\": 1, \"date\": 20261224, \"seat_no\": 7}",
	};
	struct tk_req	*r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = run(tk_program_reservations, "POST", "/api/reservations", bad[i]);
		ck_assert_msg(r->reply.status == 400, "%s", bad[i]);
		ck_refused(r, 400, "INVALID_ARGUMENT");
	}
}
END_TEST

START_TEST(misrouted)
{
	struct tk_req	*r;

	/* a program asked for a route of another: server misconfiguration */
	r = run(tk_program_wallet, "GET", "/api/concerts", NULL);
	ck_refused(r, 500, "INTERNAL");
	r = run(tk_program_notfound, "GET", "/api/wallet/nope", NULL);
	ck_refused(r, 404, "NOT_FOUND");
}
END_TEST

/* As lighttpd's error handler: the error it met, in our body. */
START_TEST(error_handler)
{
	struct tk_req	*r;

	env_request("GET", "/api/users");
	setenv("REDIRECT_STATUS", "413", 1);
	r = run_request(tk_program_notfound, NULL, 0);
	ck_refused(r, 413, "PAYLOAD_TOO_LARGE");
	setenv("REDIRECT_STATUS", "503", 1);
	r = run_request(tk_program_notfound, NULL, 0);
	ck_refused(r, 503, "DATABASE_UNAVAILABLE");
	ck_assert_int_eq(r->reply.retry_after, 1);
	/* 200 is what lighttpd sets for every CGI request */
	setenv("REDIRECT_STATUS", "200", 1);
	r = run_request(tk_program_notfound, NULL, 0);
	ck_refused(r, 405, "METHOD_NOT_ALLOWED");
	env_request("GET", "/api/health");
	setenv("REDIRECT_STATUS", "200", 1);
	r = run_request(tk_program_health, NULL, 0);
	ck_call(r, TK_STMT_HEALTH, 0);
}
END_TEST

static Suite *
serve_suite(void)
{
	Suite	*s = suite_create("serve");
	TCase	*tc;

	tc = tcase_create("routes");
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, route_users);
	tcase_add_test(tc, route_wallet);
	tcase_add_test(tc, route_concerts_queue);
	tcase_add_test(tc, route_seats);
	tcase_add_test(tc, route_reservations);
	tcase_add_test(tc, route_payment_ops);
	tcase_add_test(tc, database_answers);
	tcase_add_test(tc, misrouted);
	tcase_add_test(tc, error_handler);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, credentials);
	tcase_add_test(tc, idempotency_key);
	tcase_add_test(tc, path_values);
	tcase_add_test(tc, query_values);
	tcase_add_test(tc, amounts);
	tcase_add_test(tc, bodies);
	tcase_add_test(tc, deep_nesting);
	tcase_add_test(tc, body_size);
	tcase_add_test(tc, content_types);
	tcase_add_test(tc, names);
	tcase_add_test(tc, hold_bodies);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tk_test_run(serve_suite());
}
