/*
 * check_request.c: the request module (request.c): the CGI environment,
 * percent-decoding, the query string and the syntax of headers.
 */
#include <stdlib.h>
#include <string.h>

#include "tk_test.h"

START_TEST(method_names)
{
	ck_assert_int_eq(tk_req_method("GET"), TK_GET);
	ck_assert_int_eq(tk_req_method("POST"), TK_POST);
	ck_assert_int_eq(tk_req_method("DELETE"), TK_DELETE);
	ck_assert_int_eq(tk_req_method("get"), TK_METHOD__MAX);
	ck_assert_int_eq(tk_req_method("PUT"), TK_METHOD__MAX);
	ck_assert_int_eq(tk_req_method(""), TK_METHOD__MAX);
	ck_assert_int_eq(tk_req_method(NULL), TK_METHOD__MAX);
	ck_assert_int_eq(tk_req_method("GET "), TK_METHOD__MAX);
}
END_TEST

START_TEST(env_request_uri)
{
	struct tk_req	*r = &test_req;

	env_request("GET", "/api/wallet/transactions?limit=5&before=9");
	setenv("QUERY_STRING", "ignored=1", 1);
	tk_req_from_env(r);
	ck_assert_int_eq(r->method, TK_GET);
	ck_assert_str_eq(r->path, "/api/wallet/transactions");
	ck_assert_str_eq(r->query, "limit=5&before=9");
	ck_assert_ptr_null(r->content_type);
	ck_assert_int_eq(r->content_length, 0);
	ck_assert_ptr_null(r->authorization);
	ck_assert_ptr_null(r->queue_token);
	ck_assert_ptr_null(r->idempotency_key);
}
END_TEST

START_TEST(env_script_name)
{
	struct tk_req	*r = &test_req;

	env_clear();
	setenv("REQUEST_METHOD", "DELETE", 1);
	setenv("SCRIPT_NAME", "/api/reservations", 1);
	setenv("PATH_INFO", "/12", 1);
	setenv("QUERY_STRING", "a=b", 1);
	tk_req_from_env(r);
	ck_assert_int_eq(r->method, TK_DELETE);
	ck_assert_str_eq(r->path, "/api/reservations/12");
	ck_assert_str_eq(r->query, "a=b");

	env_clear();
	tk_req_from_env(r);
	ck_assert_int_eq(r->method, TK_METHOD__MAX);
	ck_assert_str_eq(r->method_name, "");
	ck_assert_str_eq(r->path, "");
	ck_assert_str_eq(r->query, "");
}
END_TEST

START_TEST(env_overlong_path)
{
	struct tk_req	*r = &test_req;
	char		 uri[TK_PATH_MAX + 16];

	memset(uri, 'a', sizeof(uri) - 1);
	uri[0] = '/';
	uri[sizeof(uri) - 1] = '\0';
	env_request("GET", uri);
	tk_req_from_env(r);
	ck_assert_str_eq(r->path, "");
	/* and the answer is 404, not a crash */
	r = run_request(TK_PROG_NOTFOUND, NULL, 0);
	ck_error(r, 404, "NOT_FOUND");
}
END_TEST

START_TEST(env_headers)
{
	struct tk_req	*r = &test_req;

	env_request("POST", "/api/wallet/charge");
	setenv("CONTENT_TYPE", "application/json", 1);
	setenv("CONTENT_LENGTH", "17", 1);
	setenv("HTTP_AUTHORIZATION", "Bearer abc", 1);
	setenv("HTTP_X_QUEUE_TOKEN", "", 1);
	setenv("HTTP_IDEMPOTENCY_KEY", "", 1);
	tk_req_from_env(r);
	ck_assert_str_eq(r->content_type, "application/json");
	ck_assert_int_eq(r->content_length, 17);
	ck_assert_int_eq(r->body_too_large, 0);
	ck_assert_str_eq(r->authorization, "Bearer abc");
	/* an empty token header is no token; an empty key is a bad key */
	ck_assert_ptr_null(r->queue_token);
	ck_assert_str_eq(r->idempotency_key, "");
}
END_TEST

START_TEST(env_redirect_status)
{
	static const struct {
		const char	*value;
		int		 status;
	} cases[] = {
		{ "413", 413 }, { "200", 200 }, { "503", 503 }, { "", 0 },
		{ "4133", 0 }, { "41", 0 }, { "-13", 0 }, { "600", 0 },
		{ "099", 0 }, { "4x3", 0 },
	};
	struct tk_req	*r = &test_req;
	size_t		 i;

	env_request("GET", "/api/users");
	tk_req_from_env(r);
	ck_assert_int_eq(r->redirect_status, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("REDIRECT_STATUS", cases[i].value, 1);
		tk_req_init(r, NULL);
		tk_req_from_env(r);
		ck_assert_int_eq(r->redirect_status, cases[i].status);
	}
}
END_TEST

START_TEST(env_content_length)
{
	static const struct {
		const char	*value;
		long long	 length;
		int		 too_large;
	} cases[] = {
		{ "0", 0, 0 },
		{ "", 0, 0 },
		{ "16384", 16384, 0 },
		{ "16385", 16385, 1 },
		{ "99999999999999999999999999", 16385, 1 },	/* capped, no overflow */
		{ "-1", -1, 0 },
		{ "12a", -1, 0 },
		{ " 12", -1, 0 },
		{ "+12", -1, 0 },
	};
	struct tk_req	*r = &test_req;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		env_request("POST", "/api/users");
		setenv("CONTENT_LENGTH", cases[i].value, 1);
		tk_req_from_env(r);
		if (cases[i].too_large)
			ck_assert_int_gt(r->content_length, TK_BODY_MAX);
		else
			ck_assert_int_eq(r->content_length, cases[i].length);
		ck_assert_int_eq(r->body_too_large, cases[i].too_large);
	}
}
END_TEST

START_TEST(pct_decode)
{
	char	 out[16];

	ck_assert_int_eq(tk_req_pct_decode("abc", 3, out, sizeof(out), 0), 3);
	ck_assert_str_eq(out, "abc");
	ck_assert_int_eq(tk_req_pct_decode("a%2Fb%2fc", 9, out, sizeof(out), 0), 5);
	ck_assert_str_eq(out, "a/b/c");
	ck_assert_int_eq(tk_req_pct_decode("a+b", 3, out, sizeof(out), 0), 3);
	ck_assert_str_eq(out, "a+b");
	ck_assert_int_eq(tk_req_pct_decode("a+b", 3, out, sizeof(out), 1), 3);
	ck_assert_str_eq(out, "a b");
	ck_assert_int_eq(tk_req_pct_decode("%2B", 3, out, sizeof(out), 1), 1);
	ck_assert_str_eq(out, "+");
	ck_assert_int_eq(tk_req_pct_decode("", 0, out, sizeof(out), 0), 0);
	ck_assert_str_eq(out, "");
	/* only n bytes are read */
	ck_assert_int_eq(tk_req_pct_decode("abcdef", 2, out, sizeof(out), 0), 2);
	ck_assert_str_eq(out, "ab");
}
END_TEST

START_TEST(pct_decode_bad)
{
	char	 out[8];

	ck_assert_int_eq(tk_req_pct_decode("%", 1, out, sizeof(out), 0), -1);
	ck_assert_int_eq(tk_req_pct_decode("a%4", 3, out, sizeof(out), 0), -1);
	ck_assert_int_eq(tk_req_pct_decode("%zz", 3, out, sizeof(out), 0), -1);
	ck_assert_int_eq(tk_req_pct_decode("%4g", 3, out, sizeof(out), 0), -1);
	ck_assert_int_eq(tk_req_pct_decode("%-1", 3, out, sizeof(out), 0), -1);
	/* a NUL, encoded or raw, never gets through */
	ck_assert_int_eq(tk_req_pct_decode("a%00b", 5, out, sizeof(out), 0), -1);
	ck_assert_int_eq(tk_req_pct_decode("a\0b", 3, out, sizeof(out), 0), -1);
	/* "%4" then end of the n bytes, though the string goes on */
	ck_assert_int_eq(tk_req_pct_decode("%41", 2, out, sizeof(out), 0), -1);
	/* no room */
	ck_assert_int_eq(tk_req_pct_decode("12345678", 8, out, sizeof(out), 0), -1);
	ck_assert_int_eq(tk_req_pct_decode("1234567", 7, out, sizeof(out), 0), 7);
	ck_assert_int_eq(tk_req_pct_decode("a", 1, out, 0, 0), -1);
}
END_TEST

START_TEST(query_get)
{
	char	 v[16];
	int	 n;

	ck_assert_int_eq(tk_req_query_get("limit=5&before=9", "limit", v, sizeof(v), &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(v, "5");
	ck_assert_int_eq(tk_req_query_get("limit=5&before=9", "before", v, sizeof(v), &n), 0);
	ck_assert_str_eq(v, "9");
	ck_assert_int_eq(tk_req_query_get("limit=5", "before", v, sizeof(v), &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(tk_req_query_get("", "limit", v, sizeof(v), &n), 0);
	ck_assert_int_eq(n, 0);
	/* encoded names and values, '+' as space, empty pairs */
	ck_assert_int_eq(tk_req_query_get("&&li%6Dit=%35%30&", "limit", v, sizeof(v), &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(v, "50");
	ck_assert_int_eq(tk_req_query_get("limit=a+b", "limit", v, sizeof(v), &n), 0);
	ck_assert_str_eq(v, "a b");
	/* an empty value, or a name alone */
	ck_assert_int_eq(tk_req_query_get("limit=", "limit", v, sizeof(v), &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(v, "");
	ck_assert_int_eq(tk_req_query_get("limit", "limit", v, sizeof(v), &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(v, "");
	/* "limitx" and "xlimit" are other names */
	ck_assert_int_eq(tk_req_query_get("limitx=1&xlimit=2", "limit", v, sizeof(v), &n), 0);
	ck_assert_int_eq(n, 0);
	/* given twice */
	ck_assert_int_eq(tk_req_query_get("limit=1&limit=2", "limit", v, sizeof(v), &n), 0);
	ck_assert_int_eq(n, 2);
}
END_TEST

START_TEST(query_get_bad)
{
	char	 v[8];
	int	 n;

	/* bad escapes in our value or in any name */
	ck_assert_int_eq(tk_req_query_get("limit=%zz", "limit", v, sizeof(v), &n), -1);
	ck_assert_int_eq(tk_req_query_get("limit=%", "limit", v, sizeof(v), &n), -1);
	ck_assert_int_eq(tk_req_query_get("li%zmit=1", "limit", v, sizeof(v), &n), -1);
	ck_assert_int_eq(tk_req_query_get("limit=%00", "limit", v, sizeof(v), &n), -1);
	/* another parameter's bad value is not ours to judge */
	ck_assert_int_eq(tk_req_query_get("x=%zz&limit=1", "limit", v, sizeof(v), &n), 0);
	ck_assert_str_eq(v, "1");
	/* too long a value */
	ck_assert_int_eq(tk_req_query_get("limit=123456789", "limit", v, sizeof(v), &n), -1);
}
END_TEST

START_TEST(content_type_json)
{
	static const char *const good[] = {
		"application/json",
		"APPLICATION/JSON",
		"application/json; charset=utf-8",
		"application/json;charset=UTF-8",
		"application/json ; charset=\"utf-8\"",
		"application/json; foo=bar; charset=utf-8",
		" application/json",
	};
	static const char *const bad[] = {
		"", "text/plain", "application/jsonx", "application/json-seq",
		"application/x-www-form-urlencoded", "multipart/form-data",
		"application/json; charset=latin1",
		"application/json; charset=utf-16",
		"application/json; charset=",
		"application/json; charset",
		"application/json; charset=\"utf-8",
		"application/json;;",
		"application/json x",
		"application/json\r\nX-Injected: 1",
		"json",
	};
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(tk_req_is_json_type(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!tk_req_is_json_type(bad[i]), "%s", bad[i]);
	ck_assert(!tk_req_is_json_type(NULL));
}
END_TEST

START_TEST(bearer)
{
	char	 big[TK_CRED_MAX + 16];

	ck_assert_str_eq(tk_req_bearer("Bearer abc"), "abc");
	ck_assert_str_eq(tk_req_bearer("bearer abc"), "abc");
	ck_assert_str_eq(tk_req_bearer("BEARER   abc"), "abc");
	ck_assert_str_eq(tk_req_bearer("Bearer a-b.c_d~e+f/g=="), "a-b.c_d~e+f/g==");
	ck_assert_ptr_null(tk_req_bearer(NULL));
	ck_assert_ptr_null(tk_req_bearer(""));
	ck_assert_ptr_null(tk_req_bearer("Bearer"));
	ck_assert_ptr_null(tk_req_bearer("Bearer "));
	ck_assert_ptr_null(tk_req_bearer("Bearerabc"));
	ck_assert_ptr_null(tk_req_bearer("Basic YWxhZGRpbjpvcGVu"));
	ck_assert_ptr_null(tk_req_bearer("abc"));
	ck_assert_ptr_null(tk_req_bearer("Bearer a b"));
	ck_assert_ptr_null(tk_req_bearer("Bearer abc "));
	ck_assert_ptr_null(tk_req_bearer("Bearer a=b"));
	ck_assert_ptr_null(tk_req_bearer("Bearer ="));
	ck_assert_ptr_null(tk_req_bearer("Bearer abc\r\nX: y"));
	ck_assert_ptr_null(tk_req_bearer("Bearer ab\x01" "c"));
	ck_assert_ptr_null(tk_req_bearer("Bearer \xc3\xa9t\xc3\xa9"));
	ck_assert_ptr_null(tk_req_bearer("Bearer 'abc'"));
	memcpy(big, "Bearer ", 7);
	memset(big + 7, 'k', TK_CRED_MAX);
	big[7 + TK_CRED_MAX] = '\0';
	ck_assert_ptr_nonnull(tk_req_bearer(big));
	big[7 + TK_CRED_MAX] = 'k';
	big[8 + TK_CRED_MAX] = '\0';
	ck_assert_ptr_null(tk_req_bearer(big));
}
END_TEST

START_TEST(token_syntax)
{
	ck_assert(tk_req_token_syntax("abc", 3));
	ck_assert(tk_req_token_syntax("Q1w-_.~+/==", 11));
	ck_assert(!tk_req_token_syntax("", 0));
	ck_assert(!tk_req_token_syntax("==", 2));
	ck_assert(!tk_req_token_syntax("a b", 3));
	ck_assert(!tk_req_token_syntax("a;b", 3));
	ck_assert(!tk_req_token_syntax("a\nb", 3));
	/* n bytes count, a NUL inside included */
	ck_assert(!tk_req_token_syntax("ab\0c", 4));
}
END_TEST

START_TEST(idem_syntax)
{
	char	 key[TK_IDEM_MAX + 2];

	ck_assert(tk_req_idem_syntax("a"));
	ck_assert(tk_req_idem_syntax("order 17 / retry #2 {~}"));
	ck_assert(!tk_req_idem_syntax(""));
	ck_assert(!tk_req_idem_syntax("abc\r\nX-Injected: 1"));
	ck_assert(!tk_req_idem_syntax("abc\n"));
	ck_assert(!tk_req_idem_syntax("tab\there"));
	ck_assert(!tk_req_idem_syntax("del\x7f"));
	ck_assert(!tk_req_idem_syntax("caf\xc3\xa9"));
	memset(key, 'k', TK_IDEM_MAX);
	key[TK_IDEM_MAX] = '\0';
	ck_assert(tk_req_idem_syntax(key));
	key[TK_IDEM_MAX] = 'k';
	key[TK_IDEM_MAX + 1] = '\0';
	ck_assert(!tk_req_idem_syntax(key));
}
END_TEST

static Suite *
request_suite(void)
{
	Suite	*s = suite_create("request");
	TCase	*tc;

	tc = tcase_create("environment");
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, method_names);
	tcase_add_test(tc, env_request_uri);
	tcase_add_test(tc, env_script_name);
	tcase_add_test(tc, env_overlong_path);
	tcase_add_test(tc, env_headers);
	tcase_add_test(tc, env_content_length);
	tcase_add_test(tc, env_redirect_status);
	suite_add_tcase(s, tc);

	tc = tcase_create("percent-encoding and query");
	tcase_add_test(tc, pct_decode);
	tcase_add_test(tc, pct_decode_bad);
	tcase_add_test(tc, query_get);
	tcase_add_test(tc, query_get_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("header syntax");
	tcase_add_test(tc, content_type_json);
	tcase_add_test(tc, bearer);
	tcase_add_test(tc, token_syntax);
	tcase_add_test(tc, idem_syntax);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tk_test_run(request_suite());
}
