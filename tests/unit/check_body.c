/*
 * check_body.c: the body module (body.c): size (413), media type (415),
 * JSON syntax, an object, and the member named when a number is past
 * int64.  tk_body_parse is called on a request made here.
 */
#include <stdio.h>
#include <string.h>

#include "tk_test.h"

static int	 rc;

/* A POST body of len bytes with this Content-Type through tk_body_parse. */
static struct tk_req *
parse(const char *type, const char *body, size_t len, int required)
{
	struct tk_req	*r = &test_req;

	tk_req_free(r);
	tk_req_init(r, NULL);
	r->content_type = type;
	r->content_length = (long long)len;
	ck_assert_uint_le(len, TK_BODY_MAX);
	memcpy(r->bodybuf, body, len);
	r->bodybuf[len] = '\0';
	r->body = r->bodybuf;
	r->bodylen = len;
	rc = tk_body_parse(r, required);
	return r;
}

#define JSON	"application/json"

/* Refused with this status, code and details.field ("" for none). */
#define ck_body(body, st, cd, field) do {				\
	struct tk_req *r_ = parse(JSON, (body), sizeof(body) - 1, 1);	\
	ck_assert_int_eq(rc, TK_REPLIED);				\
	ck_error(r_, (st), (cd));					\
	ck_assert_str_eq(reply_field(r_), (field));			\
} while (0)

START_TEST(objects)
{
	struct tk_req	*r;

	r = parse(JSON, "{\"amount\": 5}", 13, 1);
	ck_assert_int_eq(rc, TK_OK);
	ck_assert_int_eq(r->reply.status, 0);
	ck_assert(json_is_object(r->json));
	/* whitespace around is fine; so is any charset spelling of UTF-8 */
	r = parse("application/json; charset=\"UTF-8\"", " \r\n\t{}\n", 6, 1);
	ck_assert_int_eq(rc, TK_OK);
	/* empty: fine when optional, whatever the type, else not JSON */
	r = parse("text/plain", "", 0, 0);
	ck_assert_int_eq(rc, TK_OK);
	ck_assert_ptr_null(r->json);
	ck_body("", 400, "INVALID_JSON", "");
	/* not an object */
	ck_body("[{\"amount\": 5}]", 400, "INVALID_ARGUMENT", "body");
	ck_body("[]", 400, "INVALID_ARGUMENT", "body");
}
END_TEST

START_TEST(syntax)
{
	struct tk_req	*r;
	json_t		*v;

	ck_body("{", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 5,}", 400, "INVALID_JSON", "");
	ck_body("{'amount': 5}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 5} {}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 5} x", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 05}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": +5}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": NaN}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": Infinity}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 0x10}", 400, "INVALID_JSON", "");
	ck_body("7", 400, "INVALID_JSON", "");
	ck_body("\"x\"", 400, "INVALID_JSON", "");
	ck_body("null", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 5, \"amount\": 6}", 400, "INVALID_JSON", "");
	/* NUL: raw or escaped */
	ck_body("{\"amount\": 5, \"a\": \"x\0y\"}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 5}\0", 400, "INVALID_JSON", "");
	ck_body("\0{\"amount\": 5}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 5, \"a\": \"\\u0000\"}", 400, "INVALID_JSON", "");
	/* not UTF-8 */
	ck_body("{\"amount\": 5, \"a\": \"\xff\"}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 5, \"a\": \"\xc0\x80\"}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 5, \"a\": \"\xed\xa0\x80\"}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 5, \"a\": \"\\ud800\"}", 400, "INVALID_JSON", "");
	ck_body("{\"amount\": 5, \"\xfe\": 1}", 400, "INVALID_JSON", "");
	/* a BOM is not JSON */
	ck_body("\xef\xbb\xbf{\"amount\": 5}", 400, "INVALID_JSON", "");
	/* where the parser stopped */
	r = parse(JSON, "{\n \"a\": }", 9, 1);
	v = reply_json(r);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    json_object_get(v, "error"), "details"), "line")), 2);
	json_decref(v);
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
	r = parse(JSON, body, n, 1);
	ck_error(r, 400, "INVALID_JSON");
	/* objects too */
	n = 0;
	for (depth = 0; depth < 2500; depth++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"a\":");
	body[n++] = '1';
	for (depth = 0; depth < 2500; depth++)
		body[n++] = '}';
	r = parse(JSON, body, n, 1);
	ck_error(r, 400, "INVALID_JSON");
}
END_TEST

START_TEST(size)
{
	static char	 body[TK_BODY_MAX + 1];
	struct tk_req	*r;
	json_t		*v;
	size_t		 n;

	/* exactly TK_BODY_MAX bytes is fine */
	n = (size_t)snprintf(body, sizeof(body), "{\"amount\": 5, \"pad\": \"");
	memset(body + n, 'x', TK_BODY_MAX - n - 2);
	memcpy(body + TK_BODY_MAX - 2, "\"}", 2);
	r = parse(JSON, body, TK_BODY_MAX, 1);
	ck_assert_int_eq(rc, TK_OK);
	/* more is 413, whatever the type, naming the limit */
	r = parse("text/plain", "", 0, 1);
	r->body_too_large = 1;
	ck_assert_int_eq(tk_body_parse(r, 1), TK_REPLIED);
	ck_error(r, 413, "PAYLOAD_TOO_LARGE");
	v = reply_json(r);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    json_object_get(v, "error"), "details"), "limit")), TK_BODY_MAX);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(v,
	    "error"), "message")), tk_codes[TK_PAYLOAD_TOO_LARGE].message);
	json_decref(v);
	ck_assert_ptr_nonnull(strstr(tk_codes[TK_PAYLOAD_TOO_LARGE].message,
	    TK_STR(TK_BODY_MAX)));
	/* a bad Content-Length */
	r = parse(JSON, "{}", 2, 1);
	r->content_length = -1;
	ck_assert_int_eq(tk_body_parse(r, 1), TK_REPLIED);
	ck_error(r, 400, "INVALID_ARGUMENT");
	ck_assert_str_eq(reply_field(r), "Content-Length");
}
END_TEST

START_TEST(content_types)
{
	static const char *const bad[] = {
		"text/plain", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/json; charset=latin1",
		"application/xml", "text/json", NULL,
	};
	struct tk_req	*r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = parse(bad[i], "{\"name\": \"bob\"}", 15, 1);
		ck_assert_int_eq(rc, TK_REPLIED);
		ck_error(r, 415, "UNSUPPORTED_MEDIA_TYPE");
	}
}
END_TEST

/* jansson refuses integers past int64: the member is named all the same. */
START_TEST(huge_numbers)
{
	struct tk_req	*r;
	json_t		*v;

	ck_body("{\"amount\": 9223372036854775808}", 400, "INVALID_AMOUNT", "amount");
	ck_body("{\"amount\": -99999999999999999999999}", 400, "INVALID_AMOUNT", "amount");
	ck_body("{\"amount\": 1e999}", 400, "INVALID_AMOUNT", "amount");
	ck_body("{\"limit\": 99999999999999999999}", 400, "INVALID_ARGUMENT", "limit");
	ck_body("{\"seat_no\": 99999999999999999999}", 400, "INVALID_ARGUMENT", "seat_no");
	ck_body("{\"concert_id\": 99999999999999999999}", 400, "INVALID_ARGUMENT", "concert_id");
	ck_body("{\"amount\": 5, \"x\": [1, 99999999999999999999]}", 400, "INVALID_ARGUMENT", "x");
	/* a field with a range answers that range */
	r = parse(JSON, "{\"limit\": 1e400}", 16, 1);
	v = reply_json(r);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    json_object_get(v, "error"), "details"), "max")), 200);
	json_decref(v);
}
END_TEST

static Suite *
body_suite(void)
{
	Suite	*s = suite_create("body");
	TCase	*tc;

	tc = tcase_create("body");
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, objects);
	tcase_add_test(tc, syntax);
	tcase_add_test(tc, deep_nesting);
	tcase_add_test(tc, size);
	tcase_add_test(tc, content_types);
	tcase_add_test(tc, huge_numbers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tk_test_run(body_suite());
}
