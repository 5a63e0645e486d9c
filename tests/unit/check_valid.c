/*
 * check_valid.c: the validation module (valid.c): integers, dates,
 * UTF-8 text and every kind of field, from JSON and from text.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tk_test.h"

START_TEST(parse_int64)
{
	int64_t	 v;

	ck_assert_int_eq(tk_valid_int64("0", 1, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(tk_valid_int64("7", 1, &v), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(tk_valid_int64("-7", 2, &v), 0);
	ck_assert_int_eq(v, -7);
	ck_assert_int_eq(tk_valid_int64("9223372036854775807", 19, &v), 0);
	ck_assert(v == INT64_MAX);
	ck_assert_int_eq(tk_valid_int64("-9223372036854775808", 20, &v), 0);
	ck_assert(v == INT64_MIN);
	/* overflow */
	ck_assert_int_eq(tk_valid_int64("9223372036854775808", 19, &v), -2);
	ck_assert_int_eq(tk_valid_int64("-9223372036854775809", 20, &v), -2);
	ck_assert_int_eq(tk_valid_int64("18446744073709551616", 20, &v), -2);
	ck_assert_int_eq(tk_valid_int64("99999999999999999999999999", 26, &v), -2);
	/* syntax */
	ck_assert_int_eq(tk_valid_int64("", 0, &v), -1);
	ck_assert_int_eq(tk_valid_int64("-", 1, &v), -1);
	ck_assert_int_eq(tk_valid_int64("+7", 2, &v), -1);
	ck_assert_int_eq(tk_valid_int64("07", 2, &v), -1);
	ck_assert_int_eq(tk_valid_int64("-0", 2, &v), -1);
	ck_assert_int_eq(tk_valid_int64("00", 2, &v), -1);
	ck_assert_int_eq(tk_valid_int64(" 7", 2, &v), -1);
	ck_assert_int_eq(tk_valid_int64("7 ", 2, &v), -1);
	ck_assert_int_eq(tk_valid_int64("1.5", 3, &v), -1);
	ck_assert_int_eq(tk_valid_int64("1e3", 3, &v), -1);
	ck_assert_int_eq(tk_valid_int64("0x10", 4, &v), -1);
	ck_assert_int_eq(tk_valid_int64("7\0" "1", 3, &v), -1);
	ck_assert_int_eq(tk_valid_int64("\xd9\xa3", 2, &v), -1);	/* Arabic-Indic 3 */
}
END_TEST

START_TEST(date_syntax)
{
	static const char *const good[] = {
		"2026-12-24", "2024-02-29", "2000-02-29", "0001-01-01",
		"9999-12-31", "2026-01-31", "2026-04-30",
	};
	static const char *const bad[] = {
		"2023-02-29", "1900-02-29", "2026-02-30", "2026-04-31",
		"2026-13-01", "2026-00-10", "2026-12-00", "2026-12-32",
		"0000-01-01", "2026-1-01", "26-12-24", "2026/12/24",
		"2026-12-24T00:00", "20261224", "", "2026-12-2a",
		"+026-12-24", " 2026-12-2", "２０２６-12-24",
	};
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(tk_valid_date(good[i], strlen(good[i])), "%s",
		    good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!tk_valid_date(bad[i], strlen(bad[i])), "%s",
		    bad[i]);
	/* exactly n bytes */
	ck_assert(!tk_valid_date("2026-12-24", 9));
	ck_assert(!tk_valid_date("2026-12-24\0", 11));
}
END_TEST

START_TEST(utf8_chars)
{
	ck_assert_int_eq(tk_valid_utf8("alice", 5), 5);
	ck_assert_int_eq(tk_valid_utf8("", 0), 0);
	ck_assert_int_eq(tk_valid_utf8("caf\xc3\xa9", 5), 4);
	ck_assert_int_eq(tk_valid_utf8("\xea\xb9\x80\xec\xb2\xa0\xec\x88\x98", 9), 3);
	ck_assert_int_eq(tk_valid_utf8("\xf0\x9f\x8e\xb5", 4), 1);	/* U+1F3B5 */
	ck_assert_int_eq(tk_valid_utf8("\xf4\x8f\xbf\xbf", 4), 1);	/* U+10FFFF */
	/* invalid: overlong, surrogate, past U+10FFFF, cut, stray */
	ck_assert_int_eq(tk_valid_utf8("\xc0\x80", 2), -1);
	ck_assert_int_eq(tk_valid_utf8("\xc1\xbf", 2), -1);
	ck_assert_int_eq(tk_valid_utf8("\xe0\x80\xaf", 3), -1);
	ck_assert_int_eq(tk_valid_utf8("\xf0\x80\x80\xaf", 4), -1);
	ck_assert_int_eq(tk_valid_utf8("\xed\xa0\x80", 3), -1);
	ck_assert_int_eq(tk_valid_utf8("\xf4\x90\x80\x80", 4), -1);
	ck_assert_int_eq(tk_valid_utf8("\xf5\x80\x80\x80", 4), -1);
	ck_assert_int_eq(tk_valid_utf8("\xc3", 1), -1);
	ck_assert_int_eq(tk_valid_utf8("\xe2\x82", 2), -1);
	ck_assert_int_eq(tk_valid_utf8("\x80", 1), -1);
	ck_assert_int_eq(tk_valid_utf8("\xff", 1), -1);
	ck_assert_int_eq(tk_valid_utf8("a\xc3(", 3), -1);
	/* controls */
	ck_assert_int_eq(tk_valid_utf8("a\nb", 3), -1);
	ck_assert_int_eq(tk_valid_utf8("a\tb", 3), -1);
	ck_assert_int_eq(tk_valid_utf8("a\x7f", 2), -1);
	ck_assert_int_eq(tk_valid_utf8("a\0b", 3), -1);
}
END_TEST

/* Checks one JSON member (given as the text of a value) for field f. */
static struct tk_req *
check_json(enum tk_field f, const char *value)
{
	struct tk_req	*r = &test_req;
	json_error_t	 err;
	json_t		*v;

	tk_req_free(r);
	tk_req_init(r, NULL);
	v = json_loads(value, JSON_DECODE_ANY, &err);
	ck_assert_msg(v != NULL, "%s: %s", value, err.text);
	(void)tk_valid_json(r, f, v);
	json_decref(v);
	return r;
}

/* The value is accepted and passed on as this text. */
#define ck_json_ok(f, value, text) do {					\
	struct tk_req *r_ = check_json((f), (value));			\
	ck_assert_msg(r_->reply.status == 0, "%s refused", (value));	\
	ck_assert_str_eq(r_->args[(f)], (text));			\
} while (0)

/* The value is refused with this code, naming the field. */
#define ck_json_bad(f, value, code) do {				\
	struct tk_req *r_ = check_json((f), (value));			\
	ck_assert_msg(r_->reply.status == 400, "%s accepted", (value));	\
	ck_assert_str_eq(reply_code(r_), (code));			\
	ck_assert_str_eq(reply_field(r_), tk_fields[(f)].name);		\
	ck_assert_ptr_null(r_->args[(f)]);				\
} while (0)

START_TEST(json_amount)
{
	ck_json_ok(TK_FIELD_AMOUNT, "50000", "50000");
	ck_json_ok(TK_FIELD_AMOUNT, "1", "1");
	ck_json_ok(TK_FIELD_AMOUNT, "10000000", "10000000");
	/* out of range: INVALID_AMOUNT */
	ck_json_bad(TK_FIELD_AMOUNT, "0", "INVALID_AMOUNT");
	ck_json_bad(TK_FIELD_AMOUNT, "-5", "INVALID_AMOUNT");
	ck_json_bad(TK_FIELD_AMOUNT, "10000001", "INVALID_AMOUNT");
	ck_json_bad(TK_FIELD_AMOUNT, "9223372036854775807", "INVALID_AMOUNT");
	ck_json_bad(TK_FIELD_AMOUNT, "-9223372036854775808", "INVALID_AMOUNT");
	/* not an integer: INVALID_ARGUMENT */
	ck_json_bad(TK_FIELD_AMOUNT, "1.5", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_AMOUNT, "50000.0", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_AMOUNT, "5e4", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_AMOUNT, "1E2", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_AMOUNT, "\"7\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_AMOUNT, "true", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_AMOUNT, "[7]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_AMOUNT, "{}", "INVALID_ARGUMENT");
}
END_TEST

START_TEST(json_amount_details)
{
	struct tk_req	*r = check_json(TK_FIELD_AMOUNT, "10000001");
	json_t		*v = reply_json(r), *d;

	d = json_object_get(json_object_get(v, "error"), "details");
	ck_assert_str_eq(json_string_value(json_object_get(d, "field")), "amount");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "min")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "max")), 10000000);
	json_decref(v);
}
END_TEST

START_TEST(json_id)
{
	/* IDs are opaque: numbers or decimal strings */
	ck_json_ok(TK_FIELD_CONCERT_ID, "7", "7");
	ck_json_ok(TK_FIELD_CONCERT_ID, "\"7\"", "7");
	ck_json_ok(TK_FIELD_CONCERT_ID, "9223372036854775807", "9223372036854775807");
	ck_json_ok(TK_FIELD_CONCERT_ID, "\"9223372036854775807\"", "9223372036854775807");
	ck_json_bad(TK_FIELD_CONCERT_ID, "0", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "-1", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "1.0", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "\"\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "\"07\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "\"+7\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "\"-7\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "\"7 \"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "\"9223372036854775808\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "\"abc\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "null", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_CONCERT_ID, "[1]", "INVALID_ARGUMENT");
}
END_TEST

START_TEST(json_date)
{
	ck_json_ok(TK_FIELD_DATE, "\"2026-12-24\"", "2026-12-24");
	ck_json_bad(TK_FIELD_DATE, "\"2026-02-30\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_DATE, "\"2026-12-24 \"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_DATE, "\"24/12/2026\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_DATE, "20261224", "INVALID_ARGUMENT");
}
END_TEST

/* jansson refuses \u0000 when parsing; a string made with one still fails. */
START_TEST(json_embedded_nul)
{
	struct tk_req	*r = &test_req;
	json_t		*v;

	v = json_stringn("2026-12-24\0", 11);
	ck_assert_int_eq(tk_valid_json(r, TK_FIELD_DATE, v), TK_REPLIED);
	ck_assert_str_eq(reply_code(r), "INVALID_ARGUMENT");
	json_decref(v);
	tk_req_free(r);
	tk_req_init(r, NULL);
	v = json_stringn("al\0ice", 6);
	ck_assert_int_eq(tk_valid_json(r, TK_FIELD_NAME, v), TK_REPLIED);
	json_decref(v);
	tk_req_free(r);
	tk_req_init(r, NULL);
	v = json_stringn("7\0", 2);
	ck_assert_int_eq(tk_valid_json(r, TK_FIELD_CONCERT_ID, v), TK_REPLIED);
	json_decref(v);
}
END_TEST

START_TEST(json_name)
{
	char	 name[3 * 65 + 3], text[3 * 65 + 1];
	int	 i;

	ck_json_ok(TK_FIELD_NAME, "\"alice\"", "alice");
	ck_json_ok(TK_FIELD_NAME, "\"a\"", "a");
	ck_json_ok(TK_FIELD_NAME, "\"Zo\\u00eb \\\"Z\\\" O'Neil\"", "Zo\xc3\xab \"Z\" O'Neil");
	/* 64 characters of three bytes each: counted in characters */
	name[0] = '"';
	for (i = 0; i < 64; i++)
		memcpy(name + 1 + 3 * i, "\xea\xb9\x80", 3);
	memcpy(text, name + 1, 3 * 64);
	text[3 * 64] = '\0';
	name[1 + 3 * 64] = '"';
	name[2 + 3 * 64] = '\0';
	ck_json_ok(TK_FIELD_NAME, name, text);
	/* 65 are too many */
	memcpy(name + 1 + 3 * 64, "\xea\xb9\x80\"", 5);
	ck_json_bad(TK_FIELD_NAME, name, "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_NAME, "\"\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_NAME, "\"a\\nb\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_NAME, "\"a\\u0007\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_NAME, "\"a\\u007f\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_NAME, "7", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_NAME, "[\"alice\"]", "INVALID_ARGUMENT");
}
END_TEST

START_TEST(json_seats)
{
	char	 many[512];
	int	 i, n = 0;

	ck_json_ok(TK_FIELD_SEAT_NOS, "[7]", "{7}");
	ck_json_ok(TK_FIELD_SEAT_NOS, "[7, 8, 50]", "{7,8,50}");
	ck_json_ok(TK_FIELD_SEAT_NOS, "[2147483647]", "{2147483647}");
	ck_json_bad(TK_FIELD_SEAT_NOS, "[]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NOS, "[7, 7]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NOS, "[0]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NOS, "[-1]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NOS, "[2147483648]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NOS, "[7, \"8\"]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NOS, "[7.0]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NOS, "[[7]]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NOS, "[null]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NOS, "7", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NOS, "{\"0\": 7}", "INVALID_ARGUMENT");
	/* at most 100 seats */
	n += snprintf(many + n, sizeof(many) - n, "[1");
	for (i = 2; i <= 101; i++)
		n += snprintf(many + n, sizeof(many) - n, ",%d", i);
	snprintf(many + n, sizeof(many) - n, "]");
	ck_json_bad(TK_FIELD_SEAT_NOS, many, "INVALID_ARGUMENT");

	ck_json_ok(TK_FIELD_SEAT_NO, "7", "{7}");
	ck_json_bad(TK_FIELD_SEAT_NO, "0", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NO, "\"7\"", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NO, "[7]", "INVALID_ARGUMENT");
	ck_json_bad(TK_FIELD_SEAT_NO, "7.5", "INVALID_ARGUMENT");
}
END_TEST

/* Checks text (a path segment or query value) for field f. */
static struct tk_req *
check_text(enum tk_field f, const char *value)
{
	struct tk_req	*r = &test_req;

	tk_req_free(r);
	tk_req_init(r, NULL);
	(void)tk_valid_text(r, f, value);
	return r;
}

#define ck_text_ok(f, value, text) do {					\
	struct tk_req *r_ = check_text((f), (value));			\
	ck_assert_msg(r_->reply.status == 0, "%s refused", (value));	\
	ck_assert_str_eq(r_->args[(f)], (text));			\
} while (0)

#define ck_text_bad(f, value, code) do {				\
	struct tk_req *r_ = check_text((f), (value));			\
	ck_assert_msg(r_->reply.status == 400, "%s accepted", (value));	\
	ck_assert_str_eq(reply_code(r_), (code));			\
	ck_assert_str_eq(reply_field(r_), tk_fields[(f)].name);		\
} while (0)

START_TEST(text_fields)
{
	ck_text_ok(TK_FIELD_LIMIT, "1", "1");
	ck_text_ok(TK_FIELD_LIMIT, "200", "200");
	ck_text_bad(TK_FIELD_LIMIT, "0", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_LIMIT, "201", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_LIMIT, "-1", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_LIMIT, "", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_LIMIT, "ten", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_LIMIT, "1.5", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_LIMIT, "99999999999999999999", "INVALID_ARGUMENT");
	ck_text_ok(TK_FIELD_BEFORE, "123", "123");
	ck_text_bad(TK_FIELD_BEFORE, "0", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_BEFORE, "9223372036854775808", "INVALID_ARGUMENT");
	ck_text_ok(TK_FIELD_AFTER, "0", "0");
	ck_text_ok(TK_FIELD_AFTER, "9223372036854775807", "9223372036854775807");
	ck_text_bad(TK_FIELD_AFTER, "-1", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_AFTER, "00", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_AFTER, "9223372036854775808", "INVALID_ARGUMENT");
	ck_text_ok(TK_FIELD_ENTRIES_LIMIT, "1", "1");
	ck_text_ok(TK_FIELD_ENTRIES_LIMIT, "1000", "1000");
	ck_text_bad(TK_FIELD_ENTRIES_LIMIT, "0", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_ENTRIES_LIMIT, "1001", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_ENTRIES_LIMIT, "abc", "INVALID_ARGUMENT");
	ck_text_ok(TK_FIELD_RESERVATION_ID, "9223372036854775807", "9223372036854775807");
	ck_text_bad(TK_FIELD_RESERVATION_ID, "-3", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_RESERVATION_ID, "+3", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_RESERVATION_ID, "003", "INVALID_ARGUMENT");
	ck_text_ok(TK_FIELD_DATE, "2024-02-29", "2024-02-29");
	ck_text_bad(TK_FIELD_DATE, "2025-02-29", "INVALID_ARGUMENT");
	ck_text_ok(TK_FIELD_NAME, "bob", "bob");
	ck_text_bad(TK_FIELD_NAME, "b\xffo", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_SEAT_NOS, "1,2", "INVALID_ARGUMENT");
	ck_text_ok(TK_FIELD_SEAT_NO, "3", "{3}");
	ck_text_ok(TK_FIELD_STATUSES, "ON_SALE", "{ON_SALE}");
	ck_text_ok(TK_FIELD_STATUSES, "ENDED,UPCOMING", "{ENDED,UPCOMING}");
	ck_text_ok(TK_FIELD_STATUSES, "UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT,ENDED",
	    "{UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT,ENDED}");
	ck_text_bad(TK_FIELD_STATUSES, "", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_STATUSES, ",", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_STATUSES, "ON_SALE,", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_STATUSES, ",ON_SALE", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_STATUSES, "on_sale", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_STATUSES, "ON_SALE,ON_SALE", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_STATUSES, "ON_SAL", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_STATUSES, "ON_SALES", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_STATUSES, "ON_SALE, ENDED", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_STATUSES, "{ON_SALE}", "INVALID_ARGUMENT");
	ck_text_bad(TK_FIELD_STATUSES, "ON_SALE\"},{", "INVALID_ARGUMENT");
}
END_TEST

START_TEST(arg_room)
{
	struct tk_req	*r = &test_req;
	char		 big[TK_ARG_MAX + 1];
	const char	*p;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_ptr_null(tk_valid_printf(r, "%s", big));
	p = tk_valid_printf(r, "%d-%s", 7, "x");
	ck_assert_str_eq(p, "7-x");
	ck_assert_str_eq(tk_valid_printf(r, "%s", "y"), "y");
	ck_assert_str_eq(p, "7-x");
}
END_TEST

/* Is "{name}" a segment of some path? */
static int
path_binds(const char *name)
{
	char	 seg[80];
	int	 p;

	snprintf(seg, sizeof(seg), "{%s}", name);
	for (p = 0; p < TK_PATH__MAX; p++)
		if (strstr(tk_paths[p], seg) != NULL)
			return 1;
	return 0;
}

START_TEST(field_table)
{
	int	 i, j;

	/*
	 * Every field named, ranges sane, names unique but for the two
	 * "limit"s (of transactions and of shuffle entries), which no path
	 * binds: a "{name}" segment is one field.
	 */
	for (i = 0; i < TK_FIELD__MAX; i++) {
		ck_assert_ptr_nonnull(tk_fields[i].name);
		ck_assert_int_le(tk_fields[i].min, tk_fields[i].max);
		j = tk_valid_field(tk_fields[i].name, strlen(tk_fields[i].name));
		ck_assert_int_le(j, i);
		if (j < i) {
			ck_assert_str_eq(tk_fields[i].name, "limit");
			ck_assert(!path_binds(tk_fields[i].name));
		}
	}
	ck_assert_int_eq(tk_valid_field("limit", 5), TK_FIELD_LIMIT);
	ck_assert_str_eq(tk_fields[TK_FIELD_ENTRIES_LIMIT].name, "limit");
	ck_assert_int_eq(tk_valid_field("nope", 4), TK_FIELD__MAX);
	ck_assert_int_eq(tk_valid_field("amoun", 5), TK_FIELD__MAX);
}
END_TEST

static Suite *
valid_suite(void)
{
	Suite	*s = suite_create("valid");
	TCase	*tc;

	tc = tcase_create("syntax");
	tcase_add_test(tc, parse_int64);
	tcase_add_test(tc, date_syntax);
	tcase_add_test(tc, utf8_chars);
	suite_add_tcase(s, tc);

	tc = tcase_create("fields");
	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_add_test(tc, json_amount);
	tcase_add_test(tc, json_amount_details);
	tcase_add_test(tc, json_id);
	tcase_add_test(tc, json_date);
	tcase_add_test(tc, json_embedded_nul);
	tcase_add_test(tc, json_name);
	tcase_add_test(tc, json_seats);
	tcase_add_test(tc, text_fields);
	tcase_add_test(tc, arg_room);
	tcase_add_test(tc, field_table);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tk_test_run(valid_suite());
}
