/*
 * check_route.c: the routing module (route.c): every route of the table,
 * unknown paths (404), known paths with another method (405 + Allow),
 * and the argument tables: agreeing with each other and with the
 * signatures of the SQL functions in plpgsql/.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
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
	tk_route_find(TK_GET, "/api/concerts/9/shuffle/entries", &rt);
	ck_assert_int_eq(rt.route, TK_ROUTE_SHUFFLE_ENTRIES);
	ck_assert_int_eq(rt.nvars, 1);
	ck_assert_int_eq(rt.fields[0], TK_FIELD_CONCERT_ID);
	ck_assert_str_eq(rt.values[0], "9");
	tk_route_find(TK_GET, "/api/concerts/9", &rt);
	ck_assert_int_eq(rt.route, TK_ROUTE_GET_CONCERT);
	ck_assert_str_eq(rt.values[0], "9");
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
		"/api/concerts/1/", "/api/concerts/1/shuffle/",
		"/api/concerts/1/shuffles", "/api/concerts/1/entries",
		"/api/concerts/1/shuffle/entries/1", "/api/concerts/1/shuffle/x",
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
		{ TK_PATH_CONCERT,             "GET" },
		{ TK_PATH_SHUFFLE,             "GET" },
		{ TK_PATH_SHUFFLE_ENTRIES,     "GET" },
		{ TK_PATH_CONCERT_QUEUE,       "POST" },
		{ TK_PATH_QUEUE,               "GET, DELETE" },
		{ TK_PATH_CONCERT_DATES,       "GET" },
		{ TK_PATH_CONCERT_SEATS,       "GET" },
		{ TK_PATH_RESERVATIONS,        "POST" },
		{ TK_PATH_RESERVATION,         "GET, DELETE" },
		{ TK_PATH_RESERVATION_PAYMENT, "POST" },
		{ TK_PATH_RESERVATION_REFUND,  "POST" },
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

/* Does the route's path bind field f? */
static int
in_path(enum tk_route rt, enum tk_field f)
{
	char	 seg[80];

	snprintf(seg, sizeof(seg), "{%s}", tk_fields[f].name);
	return strstr(tk_paths[tk_routes[rt].path], seg) != NULL;
}

static int
is_header(enum tk_field f)
{
	return tk_fields[f].kind == TK_KIND_KEY ||
	    tk_fields[f].kind == TK_KIND_TOKEN ||
	    tk_fields[f].kind == TK_KIND_IDEM;
}

/*
 * The argument tables agree: every parameter of a route's statement is
 * read by the route (a credential header, a path value or a row of
 * tk_inputs), and every row of tk_inputs is passed on.
 */
START_TEST(argument_tables)
{
	const struct tk_inputdef	*in;
	enum tk_stmt			 s;
	enum tk_field			 f;
	int				 i, j, k, found, served[TK_PROG__MAX] = { 0 };

	for (i = 0; i < TK_STMT__MAX; i++) {
		ck_assert_int_le(tk_stmts[i].nparams, TK_PARAMS_MAX);
		for (j = 0; j < tk_stmts[i].nparams; j++) {
			ck_assert_int_lt(tk_stmts[i].params[j], TK_FIELD__MAX);
			for (k = 0; k < j; k++)
				ck_assert_int_ne(tk_stmts[i].params[j],
				    tk_stmts[i].params[k]);
			/* the error code is main.c's, for note_error alone */
			ck_assert_int_eq(tk_stmts[i].params[j] == TK_FIELD_CODE,
			    i == TK_STMT_NOTE_ERROR);
		}
	}
	for (i = 0; i < TK_ROUTE__MAX; i++) {
		s = tk_routes[i].stmt;
		ck_assert_int_ne(s, TK_STMT_NOTE_ERROR);
		ck_assert_int_lt(tk_routes[i].program, TK_PROG_NOTFOUND);
		served[tk_routes[i].program]++;
		for (j = 0; j < tk_stmts[s].nparams; j++) {
			f = tk_stmts[s].params[j];
			found = is_header(f) || in_path(i, f);
			for (in = tk_inputs; in->route != TK_ROUTE__MAX; in++)
				if (in->route == (enum tk_route)i &&
				    in->field == f && in->presence != TK_OR)
					found++;
			ck_assert_msg(found == 1, "route %d: api.%s takes %s, "
			    "read %d times", i, tk_stmts[s].function,
			    tk_fields[f].name, found);
		}
	}
	for (i = 0; i < TK_PROG__MAX; i++)
		ck_assert_int_eq(served[i] > 0, i != TK_PROG_NOTFOUND);
	for (in = tk_inputs; in->route != TK_ROUTE__MAX; in++) {
		ck_assert_int_lt(in->route, TK_ROUTE__MAX);
		ck_assert(!is_header(in->field) && in->field != TK_FIELD_CODE);
		ck_assert(!in_path(in->route, in->field));
		if (in->from == TK_FROM_BODY)
			ck_assert(tk_routes[in->route].flags & TK_BODY);
		ck_assert(in->dflt == NULL || in->presence == TK_OPTIONAL);
		for (j = 0; &tk_inputs[j] < in; j++)
			ck_assert(tk_inputs[j].route != in->route ||
			    tk_inputs[j].field != in->field);
		/* TK_EITHER then TK_OR, of one route, from one place */
		if (in->presence == TK_EITHER)
			ck_assert(in[1].route == in->route &&
			    in[1].presence == TK_OR && in[1].from == in->from);
		if (in->presence == TK_OR) {
			ck_assert(in > tk_inputs && in[-1].route == in->route &&
			    in[-1].presence == TK_EITHER);
			ck_assert(!tk_route_takes(tk_routes[in->route].stmt, in->field));
		} else
			ck_assert_msg(tk_route_takes(tk_routes[in->route].stmt,
			    in->field), "%s is read and not passed on",
			    tk_fields[in->field].name);
	}
}
END_TEST

/* The parameter name in plpgsql/ of an argument: p_<field>. */
static const char *
sql_name(enum tk_field f)
{
	switch (f) {
	case TK_FIELD_KEY:
		return "p_api_key";
	case TK_FIELD_TOKEN:
		return "p_token";
	case TK_FIELD_IDEM:
		return "p_idempotency_key";
	default:
		return NULL;
	}
}

/* The .sql files of plpgsql/, read whole into one string. */
static char *
read_sql(void)
{
	DIR		*d;
	struct dirent	*e;
	FILE		*f;
	char		 path[1024], *all = NULL;
	size_t		 len = 0, n;
	long		 size;

	d = opendir(TK_SQLDIR);
	ck_assert_msg(d != NULL, "%s", TK_SQLDIR);
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".sql") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", TK_SQLDIR, e->d_name);
		ck_assert_ptr_nonnull(f = fopen(path, "r"));
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		rewind(f);
		ck_assert_ptr_nonnull(all = realloc(all, len + (size_t)size + 2));
		ck_assert_uint_eq(fread(all + len, 1, (size_t)size, f),
		    (size_t)size);
		len += (size_t)size;
		all[len++] = '\n';
		fclose(f);
	}
	closedir(d);
	ck_assert_ptr_nonnull(all);
	all[len] = '\0';
	return all;
}

/*
 * The parameters of tk_stmts are those of the SQL functions, in order:
 * the definition (the one whose list names its parameters) is found in
 * plpgsql/ and its names compared with p_<field>.
 */
START_TEST(sql_signatures)
{
	char		*sql = read_sql(), want[80], head[80];
	const char	*p, *def, *name;
	size_t		 n;
	int		 i, j, defs;

	for (i = 0; i < TK_STMT__MAX; i++) {
		snprintf(head, sizeof(head), "FUNCTION api.%s(",
		    tk_stmts[i].function);
		def = NULL;
		defs = 0;
		for (p = sql; (p = strstr(p, head)) != NULL; p++) {
			p += strlen(head);
			if (strncmp(p, "p_", 2) == 0 ||
			    (tk_stmts[i].nparams == 0 && *p == ')' &&
			    strncmp(p, ")\nRETURNS", 9) == 0)) {
				def = p;
				defs++;
			}
		}
		ck_assert_msg(defs == 1, "api.%s: %d definitions in plpgsql/",
		    tk_stmts[i].function, defs);
		p = def;
		for (j = 0; j < tk_stmts[i].nparams; j++) {
			name = sql_name(tk_stmts[i].params[j]);
			if (name == NULL) {
				snprintf(want, sizeof(want), "p_%s",
				    tk_fields[tk_stmts[i].params[j]].name);
				name = want;
			}
			p += strspn(p, " \t\r\n");
			n = strlen(name);
			ck_assert_msg(strncmp(p, name, n) == 0 &&
			    (p[n] == ' ' || p[n] == '\t'), "api.%s: parameter "
			    "%d is not %s: %.20s", tk_stmts[i].function, j + 1,
			    name, p);
			p += strcspn(p, ",)");
			ck_assert_int_eq(*p, j + 1 < tk_stmts[i].nparams ?
			    ',' : ')');
			p++;
		}
	}
	free(sql);
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

	tc = tcase_create("arguments");
	tcase_add_test(tc, argument_tables);
	tcase_add_test(tc, sql_signatures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tk_test_run(route_suite());
}
