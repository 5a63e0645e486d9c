/*
 * check_serve.c: the serve module (serve.c) as every program, without
 * a database: hostile requests are answered before the database is
 * asked, and good ones get through the gate to their one call.  The programs' real db.c is linked in with a connection string
 * that reaches no server, so a request that gets through is answered
 * 503 DATABASE_UNAVAILABLE by the real no-connection path.  What each
 * call passes to its api.* function, and what the database answers, is
 * tested against the real database in tests/http/routes.t.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk_test.h"

#define KEY	"k3y-0K_~+/="	/* what run() sends as the Bearer key */
#define TOKEN	"t0ken"		/* and as X-Queue-Token */

/*
 * Through the gate to the call of this statement, which met no database:
 * 503 from db.c's "cannot connect" (08001), with Retry-After: 1 and none
 * of libpq's text in the body.
 */
static void
ck_reached(const struct tk_req *r, enum tk_stmt stmt)
{
	ck_assert_msg(r->reply.status == 503, "status %d: %.*s",
	    r->reply.status, (int)r->reply.bodylen,
	    r->reply.body != NULL ? r->reply.body : "");
	ck_assert_str_eq(reply_code(r), "DATABASE_UNAVAILABLE");
	ck_assert_str_eq(r->dbres.sqlstate, "08001");
	ck_assert_int_eq(r->reply.retry_after, 1);
	ck_assert_int_eq(tk_routes[r->route].stmt, stmt);
	ck_assert_ptr_null(strstr(r->reply.body, "tk-unit-no-database"));
}

/* Refused with this status and code, and the database never asked. */
#define ck_refused(r, st, cd) do {					\
	ck_error((r), (st), (cd));					\
	ck_assert_str_eq((r)->dbres.sqlstate, "");			\
} while (0)

/* A request through run() (good key and token) and the call it reaches. */
static const struct {
	enum tk_program		 program;
	const char		*method, *uri, *body;
	enum tk_stmt		 stmt;
} good[] = {
	{ TK_PROG_USERS, "POST", "/api/users", "{\"name\": \"alice\"}",
	    TK_STMT_CREATE_USER },
	/* unknown members are ignored */
	{ TK_PROG_USERS, "POST", "/api/users",
	    "{\"name\": \"\\uae40\", \"extra\": {\"deep\": [1, 2.5, null]}}",
	    TK_STMT_CREATE_USER },
	{ TK_PROG_WALLET, "GET", "/api/wallet", NULL, TK_STMT_GET_WALLET },
	{ TK_PROG_WALLET, "GET", "/api/%77allet", NULL, TK_STMT_GET_WALLET },
	{ TK_PROG_WALLET, "POST", "/api/wallet/charge",
	    "{\"amount\": 50000}", TK_STMT_CHARGE_WALLET },
	{ TK_PROG_WALLET, "POST", "/api/wallet/charge",
	    " \r\n\t{\"amount\": 10000000}\n", TK_STMT_CHARGE_WALLET },
	{ TK_PROG_WALLET, "GET", "/api/wallet/transactions", NULL,
	    TK_STMT_LIST_TRANSACTIONS },
	{ TK_PROG_WALLET, "GET",
	    "/api/wallet/transactions?limit=%31%30&before=99&other=%zz", NULL,
	    TK_STMT_LIST_TRANSACTIONS },
	{ TK_PROG_WALLET, "GET",
	    "/api/wallet/transactions?limit=200&before=9223372036854775807",
	    NULL, TK_STMT_LIST_TRANSACTIONS },
	{ TK_PROG_CONCERTS, "GET", "/api/concerts", NULL,
	    TK_STMT_LIST_CONCERTS },
	{ TK_PROG_CONCERTS, "GET", "/api/concerts/12", NULL,
	    TK_STMT_GET_CONCERT },
	{ TK_PROG_CONCERTS, "GET", "/api/concerts/12/shuffle", NULL,
	    TK_STMT_SHUFFLE_PROOF },
	{ TK_PROG_CONCERTS, "GET", "/api/concerts/12/shuffle/entries", NULL,
	    TK_STMT_SHUFFLE_ENTRIES },
	{ TK_PROG_CONCERTS, "GET",
	    "/api/concerts/12/shuffle/entries?after=9223372036854775807&limit=1000",
	    NULL, TK_STMT_SHUFFLE_ENTRIES },
	{ TK_PROG_QUEUE, "POST", "/api/concerts/12/queue", NULL,
	    TK_STMT_ISSUE_TOKEN },
	{ TK_PROG_QUEUE, "POST", "/api/concerts/12/queue", "{}",
	    TK_STMT_ISSUE_TOKEN },
	{ TK_PROG_QUEUE, "GET", "/api/queue", NULL, TK_STMT_QUEUE_STATUS },
	{ TK_PROG_QUEUE, "DELETE", "/api/queue", NULL, TK_STMT_LEAVE_QUEUE },
	{ TK_PROG_SEATS, "GET", "/api/concerts/12/dates", NULL,
	    TK_STMT_AVAILABLE_DATES },
	{ TK_PROG_SEATS, "GET", "/api/concerts/12/dates/2024-02-29/seats",
	    NULL, TK_STMT_SEAT_MAP },
	{ TK_PROG_RESERVATIONS, "POST", "/api/reservations",
	    "{\"concert_id\": 12, \"date\": \"2026-12-24\", \"seat_nos\": [7, 8]}",
	    TK_STMT_HOLD_SEAT },
	{ TK_PROG_RESERVATIONS, "POST", "/api/reservations",
	    "{\"concert_id\": \"12\", \"date\": \"2026-12-24\", \"seat_no\": 7, \"note\": \"x\"}",
	    TK_STMT_HOLD_SEAT },
	{ TK_PROG_RESERVATIONS, "GET", "/api/reservations/34", NULL,
	    TK_STMT_GET_RESERVATION },
	{ TK_PROG_RESERVATIONS, "GET",
	    "/api/reservations/9223372036854775807", NULL,
	    TK_STMT_GET_RESERVATION },
	{ TK_PROG_RESERVATIONS, "DELETE", "/api/reservations/34", NULL,
	    TK_STMT_CANCEL_RESERVATION },
	{ TK_PROG_PAYMENT, "POST", "/api/reservations/34/payment", NULL,
	    TK_STMT_PAY_RESERVATION },
	{ TK_PROG_PAYMENT, "POST", "/api/reservations/34/payment", "{}",
	    TK_STMT_PAY_RESERVATION },
	{ TK_PROG_HEALTH, "GET", "/api/health", NULL, TK_STMT_HEALTH },
	{ TK_PROG_METRICS, "GET", "/api/metrics?x=1", NULL, TK_STMT_METRICS },
};

START_TEST(every_route)
{
	struct tk_req	*r;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		r = run(good[i].program, good[i].method, good[i].uri,
		    good[i].body);
		ck_assert_msg(r->reply.status == 503, "%s %s: %d",
		    good[i].method, good[i].uri, r->reply.status);
		ck_reached(r, good[i].stmt);
	}
}
END_TEST

START_TEST(route_headers)
{
	struct tk_req	*r;

	/* a charset, a key with spaces and braces, a body without spaces */
	env_request("POST", "/api/wallet/charge");
	setenv("HTTP_AUTHORIZATION", "Bearer " KEY, 1);
	setenv("HTTP_IDEMPOTENCY_KEY", "charge 1/2 {x}", 1);
	setenv("CONTENT_TYPE", "application/json; charset=utf-8", 1);
	r = run_request(TK_PROG_WALLET, "{\"amount\":1}", 12);
	ck_reached(r, TK_STMT_CHARGE_WALLET);
	ck_assert_str_eq(r->args[TK_FIELD_IDEM], "charge 1/2 {x}");
	/* the queue token alone: no Authorization needed or read */
	env_request("GET", "/api/queue");
	setenv("HTTP_X_QUEUE_TOKEN", TOKEN, 1);
	setenv("HTTP_AUTHORIZATION", "garbage", 1);
	r = run_request(TK_PROG_QUEUE, NULL, 0);
	ck_reached(r, TK_STMT_QUEUE_STATUS);
	ck_assert_str_eq(r->args[TK_FIELD_TOKEN], TOKEN);
	/* no token: passed on as NULL (allowed once paid) */
	env_request("GET", "/api/reservations/34");
	setenv("HTTP_AUTHORIZATION", "Bearer " KEY, 1);
	r = run_request(TK_PROG_RESERVATIONS, NULL, 0);
	ck_reached(r, TK_STMT_GET_RESERVATION);
	ck_assert_str_eq(r->args[TK_FIELD_KEY], KEY);
	ck_assert_ptr_null(r->args[TK_FIELD_TOKEN]);
	/* with an Idempotency-Key and a {} body */
	env_request("POST", "/api/reservations/34/payment");
	setenv("HTTP_AUTHORIZATION", "Bearer " KEY, 1);
	setenv("HTTP_X_QUEUE_TOKEN", TOKEN, 1);
	setenv("HTTP_IDEMPOTENCY_KEY", "pay-34", 1);
	setenv("CONTENT_TYPE", "application/json", 1);
	r = run_request(TK_PROG_PAYMENT, "{}", 2);
	ck_reached(r, TK_STMT_PAY_RESERVATION);
	ck_assert_str_eq(r->args[TK_FIELD_IDEM], "pay-34");
	/* an empty body needs no Content-Type; no credentials: NULL */
	env_request("POST", "/api/reservations/34/payment");
	setenv("CONTENT_TYPE", "text/plain", 1);
	setenv("CONTENT_LENGTH", "0", 1);
	r = run_request(TK_PROG_PAYMENT, "", 0);
	ck_reached(r, TK_STMT_PAY_RESERVATION);
	ck_assert_ptr_null(r->args[TK_FIELD_KEY]);
	ck_assert_ptr_null(r->args[TK_FIELD_TOKEN]);
	ck_assert_ptr_null(r->args[TK_FIELD_IDEM]);
}
END_TEST

START_TEST(credentials)
{
	struct tk_req	*r;

	/* absent: NULL, the database decides */
	env_request("GET", "/api/wallet");
	r = run_request(TK_PROG_WALLET, NULL, 0);
	ck_reached(r, TK_STMT_GET_WALLET);
	/* malformed key: 401 at once */
	env_request("GET", "/api/wallet");
	setenv("HTTP_AUTHORIZATION", "Basic YTpi", 1);
	r = run_request(TK_PROG_WALLET, NULL, 0);
	ck_refused(r, 401, "UNAUTHENTICATED");
	env_request("GET", "/api/wallet");
	setenv("HTTP_AUTHORIZATION", "Bearer a b", 1);
	r = run_request(TK_PROG_WALLET, NULL, 0);
	ck_refused(r, 401, "UNAUTHENTICATED");
	env_request("GET", "/api/wallet");
	setenv("HTTP_AUTHORIZATION", "Bearer ab\r\nX-Evil: 1", 1);
	r = run_request(TK_PROG_WALLET, NULL, 0);
	ck_refused(r, 401, "UNAUTHENTICATED");
	/* malformed token with a key: 401 QUEUE_TOKEN_INVALID at once */
	env_request("GET", "/api/concerts/1/dates");
	setenv("HTTP_AUTHORIZATION", "Bearer " KEY, 1);
	setenv("HTTP_X_QUEUE_TOKEN", "not a token", 1);
	r = run_request(TK_PROG_SEATS, NULL, 0);
	ck_refused(r, 401, "QUEUE_TOKEN_INVALID");
	env_request("GET", "/api/queue");
	setenv("HTTP_X_QUEUE_TOKEN", "tok\xc3\xa9", 1);
	r = run_request(TK_PROG_QUEUE, NULL, 0);
	ck_refused(r, 401, "QUEUE_TOKEN_INVALID");
	/* no key: the token is not looked at, the database says 401 first */
	env_request("GET", "/api/concerts/1/dates");
	setenv("HTTP_X_QUEUE_TOKEN", "not a token", 1);
	r = run_request(TK_PROG_SEATS, NULL, 0);
	ck_reached(r, TK_STMT_AVAILABLE_DATES);
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
		r = run_request(TK_PROG_PAYMENT, NULL, 0);
		ck_refused(r, 400, "INVALID_ARGUMENT");
		ck_assert_str_eq(reply_field(r), "Idempotency-Key");
	}
	memset(key, 'k', TK_IDEM_MAX + 1);
	key[TK_IDEM_MAX + 1] = '\0';
	env_request("POST", "/api/wallet/charge");
	setenv("HTTP_IDEMPOTENCY_KEY", key, 1);
	setenv("CONTENT_TYPE", "application/json", 1);
	r = run_request(TK_PROG_WALLET, "{\"amount\": 5}", 13);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	key[TK_IDEM_MAX] = '\0';
	setenv("HTTP_IDEMPOTENCY_KEY", key, 1);
	r = run_request(TK_PROG_WALLET, "{\"amount\": 5}", 13);
	ck_reached(r, TK_STMT_CHARGE_WALLET);
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
		r = run(TK_PROG_RESERVATIONS, "GET", uri, NULL);
		ck_refused(r, 400, "INVALID_ARGUMENT");
		ck_assert_str_eq(reply_field(r), "reservation_id");
		snprintf(uri, sizeof(uri), "/api/concerts/%s/queue", bad_ids[i]);
		r = run(TK_PROG_QUEUE, "POST", uri, NULL);
		ck_refused(r, 400, "INVALID_ARGUMENT");
		ck_assert_str_eq(reply_field(r), "concert_id");
	}
	r = run(TK_PROG_SEATS, "GET", "/api/concerts/1/dates/2026-02-30/seats", NULL);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "date");
	r = run(TK_PROG_SEATS, "GET", "/api/concerts/1/dates/2026-2-3/seats", NULL);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	r = run(TK_PROG_SEATS, "GET", "/api/concerts/x/dates/2026-12-24/seats", NULL);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "concert_id");
	/* 405 comes before checking values */
	r = run(TK_PROG_RESERVATIONS, "PUT", "/api/reservations/abc", NULL);
	ck_refused(r, 405, "METHOD_NOT_ALLOWED");
	/* largest id */
	r = run(TK_PROG_RESERVATIONS, "GET", "/api/reservations/9223372036854775807", NULL);
	ck_reached(r, TK_STMT_GET_RESERVATION);
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
		r = run(TK_PROG_WALLET, "GET", uri, NULL);
		ck_refused(r, 400, "INVALID_ARGUMENT");
		ck_assert_msg(strcmp(reply_field(r), "limit") == 0 ||
		    strcmp(reply_field(r), "before") == 0, "%s", bad[i]);
	}
	r = run(TK_PROG_WALLET, "GET", "/api/wallet/transactions?limit=200&before=9223372036854775807", NULL);
	ck_reached(r, TK_STMT_LIST_TRANSACTIONS);
}
END_TEST

/* The shuffle's entries: after 0 or more, limit 1 to 1000 (not 200). */
START_TEST(entries_query)
{
	static const char *const bad[] = {
		"limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=",
		"limit=1.5", "limit=1&limit=2", "after=-1", "after=x",
		"after=", "after=01", "after=9223372036854775808",
		"after=1&after=2", "after=%zz",
	};
	struct tk_req	*r;
	char		 uri[256];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(uri, sizeof(uri), "/api/concerts/3/shuffle/entries?%s",
		    bad[i]);
		r = run(TK_PROG_CONCERTS, "GET", uri, NULL);
		ck_refused(r, 400, "INVALID_ARGUMENT");
		ck_assert_str_eq(reply_field(r), bad[i][0] == 'l' ? "limit" :
		    "after");
	}
	r = run(TK_PROG_CONCERTS, "GET", "/api/concerts/3/shuffle/entries?limit=201&after=0", NULL);
	ck_reached(r, TK_STMT_SHUFFLE_ENTRIES);
	ck_assert_str_eq(r->args[TK_FIELD_ENTRIES_LIMIT], "201");
	ck_assert_str_eq(r->args[TK_FIELD_AFTER], "0");
	ck_assert_ptr_null(r->args[TK_FIELD_LIMIT]);
	r = run(TK_PROG_CONCERTS, "GET", "/api/concerts/x/shuffle", NULL);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "concert_id");
	r = run(TK_PROG_CONCERTS, "GET", "/api/concerts/0", NULL);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "concert_id");
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
	return run_request(TK_PROG_WALLET, body, len);
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
	ck_charge("{\"amount\": 1e999}", 400, "INVALID_AMOUNT", "amount");
	ck_charge("{\"amount\": 5, \"amount\": 6}", 400, "INVALID_JSON", "");
}
END_TEST

START_TEST(names)
{
	static char	 body[TK_BODY_MAX];
	struct tk_req	*r;
	size_t		 n;

	r = run(TK_PROG_USERS, "POST", "/api/users", "{\"name\": \"\"}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "name");
	r = run(TK_PROG_USERS, "POST", "/api/users", "{\"name\": 7}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	r = run(TK_PROG_USERS, "POST", "/api/users", "{\"name\": \"a\\r\\nb\"}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	r = run(TK_PROG_USERS, "POST", "/api/users", "{\"nom\": \"a\"}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	/* overlong: 10,000 characters */
	n = (size_t)snprintf(body, sizeof(body), "{\"name\": \"");
	memset(body + n, 'a', 10000);
	n += 10000;
	n += (size_t)snprintf(body + n, sizeof(body) - n, "\"}");
	env_request("POST", "/api/users");
	setenv("CONTENT_TYPE", "application/json", 1);
	r = run_request(TK_PROG_USERS, body, n);
	ck_refused(r, 400, "INVALID_ARGUMENT");
	/* 64 emoji of 4 bytes: 64 characters */
	n = (size_t)snprintf(body, sizeof(body), "{\"name\": \"");
	for (int i = 0; i < 64; i++) {
		memcpy(body + n, "\xf0\x9f\x8e\xb5", 4);
		n += 4;
	}
	n += (size_t)snprintf(body + n, sizeof(body) - n, "\"}");
	r = run_request(TK_PROG_USERS, body, n);
	ck_reached(r, TK_STMT_CREATE_USER);
	ck_assert_uint_eq(strlen(r->args[TK_FIELD_NAME]), 256);
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
		r = run(TK_PROG_RESERVATIONS, "POST", "/api/reservations", bad[i]);
		ck_assert_msg(r->reply.status == 400, "%s", bad[i]);
		ck_refused(r, 400, "INVALID_ARGUMENT");
	}
}
END_TEST

START_TEST(misrouted)
{
	struct tk_req	*r;

	/* a program asked for a route of another: the server routed on its
	 * normalised path, so that route is not here */
	r = run(TK_PROG_WALLET, "GET", "/api/concerts", NULL);
	ck_refused(r, 404, "NOT_FOUND");
	r = run(TK_PROG_NOTFOUND, "GET", "/api/wallet/nope", NULL);
	ck_refused(r, 404, "NOT_FOUND");
}
END_TEST

/* As lighttpd's error handler: the error it met, in our body. */
START_TEST(error_handler)
{
	struct tk_req	*r;

	env_request("GET", "/api/users");
	setenv("REDIRECT_STATUS", "413", 1);
	r = run_request(TK_PROG_NOTFOUND, NULL, 0);
	ck_refused(r, 413, "PAYLOAD_TOO_LARGE");
	setenv("REDIRECT_STATUS", "503", 1);
	r = run_request(TK_PROG_NOTFOUND, NULL, 0);
	ck_refused(r, 503, "DATABASE_UNAVAILABLE");
	ck_assert_int_eq(r->reply.retry_after, 1);
	/* 200 is what lighttpd sets for every CGI request */
	setenv("REDIRECT_STATUS", "200", 1);
	r = run_request(TK_PROG_NOTFOUND, NULL, 0);
	ck_refused(r, 405, "METHOD_NOT_ALLOWED");
	env_request("GET", "/api/health");
	setenv("REDIRECT_STATUS", "200", 1);
	r = run_request(TK_PROG_HEALTH, NULL, 0);
	ck_reached(r, TK_STMT_HEALTH);
}
END_TEST

/* The declared rules of tk_inputs: required, default, one of two. */
START_TEST(declared_rules)
{
	struct tk_req	*r;
	json_t		*v;

	/* seat_no is one seat, passed on as seat_nos */
	r = run(TK_PROG_RESERVATIONS, "POST", "/api/reservations",
	    "{\"concert_id\": 1, \"date\": \"2026-12-24\", \"seat_no\": 7}");
	ck_reached(r, TK_STMT_HOLD_SEAT);
	ck_assert_str_eq(r->args[TK_FIELD_SEAT_NOS], "{7}");
	r = run(TK_PROG_RESERVATIONS, "POST", "/api/reservations",
	    "{\"concert_id\": 1, \"date\": \"2026-12-24\", \"seat_nos\": [7, 9], \"seat_no\": null}");
	ck_reached(r, TK_STMT_HOLD_SEAT);
	ck_assert_str_eq(r->args[TK_FIELD_SEAT_NOS], "{7,9}");
	/* both, or neither */
	r = run(TK_PROG_RESERVATIONS, "POST", "/api/reservations",
	    "{\"concert_id\": 1, \"date\": \"2026-12-24\", \"seat_nos\": [7], \"seat_no\": 7}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	v = reply_json(r);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(v,
	    "error"), "message")), "seat_nos and seat_no cannot both be given");
	json_decref(v);
	r = run(TK_PROG_RESERVATIONS, "POST", "/api/reservations",
	    "{\"concert_id\": 1, \"date\": \"2026-12-24\"}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "seat_nos");
	/* checked in the declared order: concert_id before date */
	r = run(TK_PROG_RESERVATIONS, "POST", "/api/reservations",
	    "{\"date\": \"x\", \"seat_nos\": 5}");
	ck_refused(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "concert_id");
	/* a query default, and its absence */
	r = run(TK_PROG_WALLET, "GET", "/api/wallet/transactions", NULL);
	ck_reached(r, TK_STMT_LIST_TRANSACTIONS);
	ck_assert_str_eq(r->args[TK_FIELD_LIMIT], "50");
	ck_assert_ptr_null(r->args[TK_FIELD_BEFORE]);
	r = run(TK_PROG_CONCERTS, "GET", "/api/concerts/3/shuffle/entries", NULL);
	ck_reached(r, TK_STMT_SHUFFLE_ENTRIES);
	ck_assert_str_eq(r->args[TK_FIELD_AFTER], "0");
	ck_assert_str_eq(r->args[TK_FIELD_ENTRIES_LIMIT], "1000");
	/* members a route does not declare are not read */
	r = run(TK_PROG_WALLET, "POST", "/api/wallet/charge",
	    "{\"amount\": 5, \"name\": 7}");
	ck_reached(r, TK_STMT_CHARGE_WALLET);
	ck_assert_ptr_null(r->args[TK_FIELD_NAME]);
}
END_TEST

static Suite *
serve_suite(void)
{
	Suite	*s = suite_create("serve");
	TCase	*tc;

	tc = tcase_create("routes");
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, every_route);
	tcase_add_test(tc, route_headers);
	tcase_add_test(tc, misrouted);
	tcase_add_test(tc, error_handler);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, credentials);
	tcase_add_test(tc, idempotency_key);
	tcase_add_test(tc, path_values);
	tcase_add_test(tc, query_values);
	tcase_add_test(tc, entries_query);
	tcase_add_test(tc, amounts);
	tcase_add_test(tc, names);
	tcase_add_test(tc, hold_bodies);
	tcase_add_test(tc, declared_rules);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tk_test_run(serve_suite());
}
