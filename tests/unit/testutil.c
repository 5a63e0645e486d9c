/*
 * testutil.c: run one request through the gate as a program, as
 * main.c does, but with the environment and body the test sets, and with
 * a database handle (db.c) whose connection string reaches no server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk_test.h"

struct tk_req test_req;
struct tk_db *test_db;

static const char *const cgi_vars[] = {
	"REQUEST_METHOD", "REQUEST_URI", "SCRIPT_NAME", "PATH_INFO",
	"QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
	"HTTP_AUTHORIZATION", "HTTP_X_QUEUE_TOKEN", "HTTP_IDEMPOTENCY_KEY",
	"REDIRECT_STATUS", NULL
};

void
env_clear(void)
{
	int	 i;

	for (i = 0; cgi_vars[i] != NULL; i++)
		unsetenv(cgi_vars[i]);
}

void
env_request(const char *method, const char *uri)
{
	env_clear();
	setenv("REQUEST_METHOD", method, 1);
	setenv("REQUEST_URI", uri, 1);
}

/* Runs the request set in the environment, with this body. */
struct tk_req *
run_request(enum tk_program prog, const char *body, size_t len)
{
	struct tk_req	*r = &test_req;

	tk_req_free(r);
	tk_req_init(r, test_db);
	tk_req_from_env(r);
	if (body != NULL && !r->body_too_large) {
		ck_assert_uint_le(len, TK_BODY_MAX);
		memcpy(r->bodybuf, body, len);
		r->bodybuf[len] = '\0';
		r->body = r->bodybuf;
		r->bodylen = len;
	}
	tk_serve(r, prog);
	return r;
}

/*
 * A request with the usual headers: "K" is a good key and token pair,
 * body (a string) is sent as JSON with its length.
 */
struct tk_req *
run(enum tk_program prog, const char *method, const char *uri,
    const char *body)
{
	char	 len[32];

	env_request(method, uri);
	setenv("HTTP_AUTHORIZATION", "Bearer k3y-0K_~+/=", 1);
	setenv("HTTP_X_QUEUE_TOKEN", "t0ken", 1);
	if (body != NULL) {
		snprintf(len, sizeof(len), "%zu", strlen(body));
		setenv("CONTENT_LENGTH", len, 1);
		setenv("CONTENT_TYPE", "application/json", 1);
	}
	return run_request(prog, body, body != NULL ? strlen(body) : 0);
}

json_t *
reply_json(const struct tk_req *r)
{
	json_error_t	 err;
	json_t		*v;

	ck_assert_ptr_nonnull(r->reply.body);
	v = json_loadb(r->reply.body, r->reply.bodylen, JSON_REJECT_DUPLICATES,
	    &err);
	ck_assert_msg(v != NULL, "reply body is not JSON: %s", err.text);
	return v;
}

/* error.code of the answer ("" when none); checks the body's shape. */
const char *
reply_code(const struct tk_req *r)
{
	static char	 code[64];
	json_t		*v, *e;

	code[0] = '\0';
	v = reply_json(r);
	e = json_object_get(v, "error");
	ck_assert_msg(json_is_object(e), "no error object");
	ck_assert_uint_eq(json_object_size(v), 1);
	ck_assert_uint_eq(json_object_size(e), 4);
	ck_assert(json_is_string(json_object_get(e, "message")));
	ck_assert_ptr_nonnull(json_object_get(e, "details"));
	ck_assert_ptr_nonnull(json_object_get(e, "hint"));
	if (json_is_string(json_object_get(e, "code")))
		snprintf(code, sizeof(code), "%s",
		    json_string_value(json_object_get(e, "code")));
	ck_assert_str_eq(r->reply.content_type, TK_JSON_TYPE);
	json_decref(v);
	return code;
}

/* error.details.field of the answer ("" when none). */
const char *
reply_field(const struct tk_req *r)
{
	static char	 field[64];
	json_t		*v, *f;

	field[0] = '\0';
	v = reply_json(r);
	f = json_object_get(json_object_get(json_object_get(v, "error"),
	    "details"), "field");
	if (json_is_string(f))
		snprintf(field, sizeof(field), "%s", json_string_value(f));
	json_decref(v);
	return field;
}

void
test_setup(void)
{
	env_clear();
	test_db = tk_db_new(TEST_DB_NOWHERE, 1, 0);
	ck_assert_ptr_nonnull(test_db);
	tk_req_init(&test_req, test_db);
}

void
test_teardown(void)
{
	tk_req_free(&test_req);
	tk_db_free(test_db);
	test_db = NULL;
	env_clear();
}

/* TAP on stdout, for prove; the exit status says whether all passed. */
int
tk_test_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	tk_log_quiet = 1;
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
