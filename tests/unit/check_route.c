/*
 * check_route.c: the routing module (route.c): every route of the table,
 * unknown paths (404), known paths with another method (405 + Allow).
 */
#include <stdio.h>
#include <string.h>

#include "tk_test.h"

/* A concrete path for a pattern: {concert_id} 12, {reservation_id} 34, {date}. */
static void
concrete(enum tk_path p, char *buf, size_t size)
{
	const char	*s = tk_paths[p];
	size_t		 n = 0;

	while (*s != '\0' && n + 16 < size) {
		if (strncmp(s, "{concert_id}", 12) == 0) {
			n += (size_t)snprintf(buf + n, size - n, "12");
			s += 12;
		} else if (strncmp(s, "{reservation_id}", 16) == 0) {
			n += (size_t)snprintf(buf + n, size - n, "34");
			s += 16;
		} else if (strncmp(s, "{date}", 6) == 0) {
			n += (size_t)snprintf(buf + n, size - n, "2026-12-24");
			s += 6;
		} else
			buf[n++] = *s++;
	}
	buf[n] = '\0';
}

START_TEST(every_route)
{
	struct tk_routing	 rt;
	char			 path[256];
	int			 i, j;

	for (i = 0; i < TK_ROUTE__MAX; i++) {
		concrete(tk_routes[i].path, path, sizeof(path));
		tk_route_find(tk_routes[i].method, path, &rt);
		ck_assert_msg(rt.match == TK_MATCH_OK, "%s", path);
		ck_assert_int_eq(rt.route, i);
		ck_assert_int_eq(rt.path, tk_routes[i].path);
		for (j = 0; j < rt.nvars; j++) {
			ck_assert_int_lt(rt.fields[j], TK_FIELD__MAX);
			if (rt.fields[j] == TK_FIELD_CONCERT_ID)
				ck_assert_str_eq(rt.values[j], "12");
			else if (rt.fields[j] == TK_FIELD_RESERVATION_ID)
				ck_assert_str_eq(rt.values[j], "34");
			else
				ck_assert_str_eq(rt.values[j], "2026-12-24");
		}
	}
}
END_TEST

START_TEST(route_table)
{
	int	 i, j;

	/* one route per method and path; every statement has a function */
	for (i = 0; i < TK_ROUTE__MAX; i++) {
		ck_assert_int_lt(tk_routes[i].method, TK_METHOD__MAX);
		ck_assert_int_lt(tk_routes[i].path, TK_PATH__MAX);
		ck_assert_int_lt(tk_routes[i].stmt, TK_STMT__MAX);
		ck_assert_int_le(tk_stmts[tk_routes[i].stmt].nparams, TK_PARAMS_MAX);
		for (j = 0; j < i; j++)
			ck_assert(tk_routes[i].path != tk_routes[j].path ||
			    tk_routes[i].method != tk_routes[j].method);
		/* bodies only on POST */
		if (tk_routes[i].flags & (TK_BODY | TK_BODY_OPT))
			ck_assert_int_eq(tk_routes[i].method, TK_POST);
	}
	for (i = 0; i < TK_STMT__MAX; i++)
		ck_assert_ptr_nonnull(tk_stmts[i].function);
	for (i = 0; i < TK_PATH__MAX; i++)
		ck_assert_ptr_nonnull(tk_paths[i]);
}
END_TEST

START_TEST(bindings)
{
	struct tk_routing	 rt;

	tk_route_find(TK_GET, "/api/concerts/7/dates/2026-01-02/seats", &rt);
	ck_assert_int_eq(rt.match, TK_MATCH_OK);
	ck_assert_int_eq(rt.route, TK_ROUTE_SEAT_MAP);
	ck_assert_int_eq(rt.nvars, 2);
	ck_assert_int_eq(rt.fields[0], TK_FIELD_CONCERT_ID);
	ck_assert_str_eq(rt.values[0], "7");
	ck_assert_int_eq(rt.fields[1], TK_FIELD_DATE);
	ck_assert_str_eq(rt.values[1], "2026-01-02");
	/* values are bound as given: checking them is the gate's work */
	tk_route_find(TK_GET, "/api/reservations/-1", &rt);
	ck_assert_int_eq(rt.route, TK_ROUTE_GET_RESERVATION);
	ck_assert_str_eq(rt.values[0], "-1");
	/* percent-decoded, literal segments too */
	tk_route_find(TK_GET, "/api/%77allet", &rt);
	ck_assert_int_eq(rt.route, TK_ROUTE_GET_WALLET);
	tk_route_find(TK_GET, "/api/reservations/%33%34", &rt);
	ck_assert_int_eq(rt.route, TK_ROUTE_GET_RESERVATION);
	ck_assert_str_eq(rt.values[0], "34");
}
END_TEST

START_TEST(not_found)
{
	static const char *const paths[] = {
		"", "/", "/api", "/api/", "api/users", "/api/users/",
		"/api//users", "//api/users", "/api/Users", "/API/users",
		"/apiusers", "/api/user", "/api/users/1", "/api/wallet/",
		"/api/wallet/charge/x", "/api/concerts/", "/api/concerts//queue",
		"/api/concerts/1/queue/", "/api/concerts/1/queues",
		"/api/concerts/1/dates/2026-12-24", "/api/concerts/1/dates/2026-12-24/seats/7",
		"/api/reservations/1/payments", "/api/reservations/1/payment/x",
		"/api/queue/1", "/api/health/", "/api/metrics.txt",
		"/api/wallet%2Fcharge", "/api/./users", "/api/../api/users",
		"/api/a/b/c/d/e/f/g/h/i", "/index.html", "/api/users?x",
		"/api/users#x", "/api/wallet/transactions;x",
	};
	struct tk_routing	 rt;
	size_t			 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		tk_route_find(TK_GET, paths[i], &rt);
		ck_assert_msg(rt.match == TK_MATCH_NOT_FOUND, "%s", paths[i]);
		tk_route_find(TK_POST, paths[i], &rt);
		ck_assert_msg(rt.match == TK_MATCH_NOT_FOUND, "%s", paths[i]);
	}
	tk_route_find(TK_GET, NULL, &rt);
	ck_assert_int_eq(rt.match, TK_MATCH_NOT_FOUND);
}
END_TEST

START_TEST(not_found_long)
{
	struct tk_routing	 rt;
	char			 path[TK_PATH_MAX];

	/* a segment too long, encoded or not */
	memcpy(path, "/api/", 5);
	memset(path + 5, 'a', 300);
	path[305] = '\0';
	tk_route_find(TK_GET, path, &rt);
	ck_assert_int_eq(rt.match, TK_MATCH_NOT_FOUND);
	memcpy(path, "/api/reservations/", 18);
	memset(path + 18, '1', 65);
	path[18 + 65] = '\0';
	tk_route_find(TK_GET, path, &rt);
	ck_assert_int_eq(rt.match, TK_MATCH_NOT_FOUND);
	memset(path + 18, '1', 64);
	path[18 + 64] = '\0';
	tk_route_find(TK_GET, path, &rt);
	ck_assert_int_eq(rt.match, TK_MATCH_OK);
}
END_TEST

START_TEST(bad_escape)
{
	static const char *const paths[] = {
		"/api/users%", "/api/%zzusers", "/api/reservations/%3",
		"/api/reservations/1%00", "/api/%",
	};
	struct tk_routing	 rt;
	size_t			 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		tk_route_find(TK_GET, paths[i], &rt);
		ck_assert_msg(rt.match == TK_MATCH_BAD_ESCAPE, "%s", paths[i]);
	}
}
END_TEST

START_TEST(method_not_allowed)
{
	static const struct {
		enum tk_path	 path;
		const char	*allow;
	} cases[] = {
		{ TK_PATH_USERS,               "POST" },
		{ TK_PATH_WALLET,              "GET" },
		{ TK_PATH_WALLET_CHARGE,       "POST" },
		{ TK_PATH_WALLET_TRANSACTIONS, "GET" },
		{ TK_PATH_CONCERTS,            "GET" },
		{ TK_PATH_CONCERT_QUEUE,       "POST" },
		{ TK_PATH_QUEUE,               "GET, DELETE" },
		{ TK_PATH_CONCERT_DATES,       "GET" },
		{ TK_PATH_CONCERT_SEATS,       "GET" },
		{ TK_PATH_RESERVATIONS,        "POST" },
		{ TK_PATH_RESERVATION,         "GET, DELETE" },
		{ TK_PATH_RESERVATION_PAYMENT, "POST" },
		{ TK_PATH_HEALTH,              "GET" },
		{ TK_PATH_METRICS,             "GET" },
	};
	struct tk_routing	 rt;
	char			 path[256], allow[32];
	size_t			 i;
	int			 m, served;

	ck_assert_uint_eq(sizeof(cases) / sizeof(cases[0]), TK_PATH__MAX);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		concrete(cases[i].path, path, sizeof(path));
		tk_route_allow(cases[i].path, allow, sizeof(allow));
		ck_assert_str_eq(allow, cases[i].allow);
		for (m = 0; m <= TK_METHOD__MAX; m++) {
			tk_route_find((enum tk_method)m, path, &rt);
			served = m < TK_METHOD__MAX &&
			    strstr(cases[i].allow, tk_methods[m]) != NULL;
			ck_assert_int_eq(rt.match, served ? TK_MATCH_OK :
			    TK_MATCH_BAD_METHOD);
			ck_assert_int_eq(rt.path, cases[i].path);
		}
	}
	/* the header fits only when there is room */
	ck_assert_uint_eq(tk_route_allow(TK_PATH_QUEUE, allow, 5), 3);
	ck_assert_str_eq(allow, "GET");
	ck_assert_uint_eq(tk_route_allow(TK_PATH_QUEUE, allow, 0), 0);
}
END_TEST

/* Through the gate: 404 and 405 answer JSON, with Allow on 405. */
START_TEST(gate_answers)
{
	struct tk_req	*r;

	r = run(TK_PROG_NOTFOUND, "GET", "/api/nope", NULL);
	ck_error(r, 404, "NOT_FOUND");
	ck_assert_str_eq(r->reply.allow, "");
	r = run(TK_PROG_NOTFOUND, "PUT", "/api/queue", NULL);
	ck_error(r, 405, "METHOD_NOT_ALLOWED");
	ck_assert_str_eq(r->reply.allow, "GET, DELETE");
	r = run(TK_PROG_WALLET, "PATCH", "/api/wallet", NULL);
	ck_error(r, 405, "METHOD_NOT_ALLOWED");
	ck_assert_str_eq(r->reply.allow, "GET");
	r = run(TK_PROG_WALLET, "HEAD", "/api/wallet", NULL);
	ck_error(r, 405, "METHOD_NOT_ALLOWED");
	r = run(TK_PROG_USERS, "GET", "/api/users", NULL);
	ck_error(r, 405, "METHOD_NOT_ALLOWED");
	ck_assert_str_eq(r->reply.allow, "POST");
	r = run(TK_PROG_NOTFOUND, "GET", "/api/%zz", NULL);
	ck_error(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "path");
	/* a known route sent to a program that does not serve it: the
	 * server's normalised path ("..%2f") is not here */
	r = run(TK_PROG_NOTFOUND, "GET", "/api/wallet", NULL);
	ck_error(r, 404, "NOT_FOUND");
	ck_assert_str_eq(r->dbres.sqlstate, "");	/* no call made */
}
END_TEST

static Suite *
route_suite(void)
{
	Suite	*s = suite_create("route");
	TCase	*tc;

	tc = tcase_create("routing");
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, every_route);
	tcase_add_test(tc, route_table);
	tcase_add_test(tc, bindings);
	tcase_add_test(tc, not_found);
	tcase_add_test(tc, not_found_long);
	tcase_add_test(tc, bad_escape);
	tcase_add_test(tc, method_not_allowed);
	tcase_add_test(tc, gate_answers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tk_test_run(route_suite());
}
