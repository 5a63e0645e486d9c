/*
 * check_reply.c: the reply module (reply.c): answers from an api.reply
 * row, and the CGI header block of any answer.
 */
#include <string.h>

#include "tk_test.h"

/* Answers as if the database had returned this row for route. */
static struct tk_req *
db_reply(enum tk_route route, int status, const char *body, int retry_after)
{
	struct tk_req	*r = &test_req;
	struct tk_dbres	 res;

	tk_req_free(r);
	tk_req_init(r, NULL);
	r->route = route;
	memset(&res, 0, sizeof(res));
	res.status = status;
	res.body = body;
	res.retry_after = retry_after;
	tk_reply_db(r, &res);
	return r;
}

static const char *
head(const struct tk_req *r)
{
	static char	 buf[512];

	ck_assert_uint_gt(tk_reply_head(&r->reply, buf, sizeof(buf)), 0);
	return buf;
}

START_TEST(reply_rows)
{
	struct tk_req	*r;

	r = db_reply(TK_ROUTE_GET_WALLET, 200, "{\"balance\": 0}", -1);
	ck_assert_int_eq(r->reply.status, 200);
	ck_assert_str_eq(r->reply.body, "{\"balance\": 0}");
	ck_assert_str_eq(head(r), "Status: 200 OK\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Length: 14\r\n"
	    "\r\n");

	r = db_reply(TK_ROUTE_ISSUE_TOKEN, 201, "{\"status\": \"WAITING\"}", 3);
	ck_assert_str_eq(head(r), "Status: 201 Created\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Length: 21\r\n"
	    "Retry-After: 3\r\n"
	    "\r\n");

	/* 204: no body, no Content-Type, whatever the row says */
	r = db_reply(TK_ROUTE_LEAVE_QUEUE, 204, NULL, -1);
	ck_assert_str_eq(head(r), "Status: 204 No Content\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n");
	r = db_reply(TK_ROUTE_LEAVE_QUEUE, 204, "{}", -1);
	ck_assert_ptr_null(r->reply.content_type);
}
END_TEST

START_TEST(reply_rows_wrong)
{
	struct tk_req	*r;

	/* refusals must come as SQLSTATEs, bodies must be there */
	r = db_reply(TK_ROUTE_GET_WALLET, 404, "{}", -1);
	ck_error(r, 500, "INTERNAL");
	r = db_reply(TK_ROUTE_GET_WALLET, 302, "{}", -1);
	ck_error(r, 500, "INTERNAL");
	r = db_reply(TK_ROUTE_GET_WALLET, 0, "{}", -1);
	ck_error(r, 500, "INTERNAL");
	r = db_reply(TK_ROUTE_GET_WALLET, 200, NULL, -1);
	ck_error(r, 500, "INTERNAL");
}
END_TEST

START_TEST(reply_text)
{
	struct tk_req	*r;

	r = db_reply(TK_ROUTE_METRICS, 200,
	    "\"# TYPE x counter\\nx{code=\\\"A\\\"} 1\\n\"", -1);
	ck_assert_int_eq(r->reply.status, 200);
	ck_assert_str_eq(r->reply.content_type,
	    "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_str_eq(r->reply.body, "# TYPE x counter\nx{code=\"A\"} 1\n");
	ck_assert_uint_eq(r->reply.bodylen, strlen(r->reply.body));
	r = db_reply(TK_ROUTE_METRICS, 200, "\"\"", -1);
	ck_assert_int_eq(r->reply.status, 200);
	ck_assert_uint_eq(r->reply.bodylen, 0);
	/* not a JSON string */
	r = db_reply(TK_ROUTE_METRICS, 200, "{\"a\": 1}", -1);
	ck_error(r, 500, "INTERNAL");
	r = db_reply(TK_ROUTE_METRICS, 200, "not json", -1);
	ck_error(r, 500, "INTERNAL");
}
END_TEST

START_TEST(head_fields)
{
	struct tk_reply	 p;
	char		 buf[512];

	tk_reply_init(&p);
	p.status = 405;
	p.content_type = TK_JSON_TYPE;
	p.body = "{}";
	p.bodylen = 2;
	memcpy(p.allow, "GET, DELETE", 12);
	ck_assert_uint_gt(tk_reply_head(&p, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Status: 405 Method Not Allowed\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Length: 2\r\n"
	    "Allow: GET, DELETE\r\n"
	    "\r\n");
	/* too small a buffer is an error, not a cut header */
	ck_assert_uint_eq(tk_reply_head(&p, buf, 40), 0);
	ck_assert_uint_eq(tk_reply_head(&p, buf, 0), 0);
	tk_reply_free(&p);
}
END_TEST

START_TEST(status_texts)
{
	static const int	 codes[] = { 200, 201, 204, 400, 401, 402, 403,
	    404, 405, 409, 410, 413, 415, 422, 429, 500, 503 };
	size_t			 i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		ck_assert_str_ne(tk_reply_status_text(codes[i]), "Status");
	ck_assert_str_eq(tk_reply_status_text(413), "Payload Too Large");
	ck_assert_str_eq(tk_reply_status_text(299), "Status");
	/* every code of the error table has its text */
	for (i = 0; i < TK_CODE__MAX; i++)
		ck_assert_str_ne(tk_reply_status_text(tk_codes[i].status), "Status");
}
END_TEST

static Suite *
reply_suite(void)
{
	Suite	*s = suite_create("reply");
	TCase	*tc;

	tc = tcase_create("answers");
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, reply_rows);
	tcase_add_test(tc, reply_rows_wrong);
	tcase_add_test(tc, reply_text);
	tcase_add_test(tc, head_fields);
	tcase_add_test(tc, status_texts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tk_test_run(reply_suite());
}
