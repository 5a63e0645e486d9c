/*
 * fuzz_route: path routing and percent-decoding, and the small parsers
 * of request.c and valid.c, each against a reference written here.
 *
 * Input: one byte (method, output room), then the text (a path, a query
 * string, a header value: the same bytes serve as each).
 *  - tk_route_find: a match binds values that fit and hold no NUL; the
 *    same route comes back when the path is rebuilt with every value
 *    percent-encoded; 405 only for a path that has other methods.
 *  - tk_pct_decode against a reference decoder (with and without '+').
 *  - tk_query_get: a value that fits, NUL-free; "given twice" counted.
 *  - tk_parse_int64 against strtoll, tk_date_syntax against timegm,
 *    tk_utf8_chars against a table-driven UTF-8 decoder, tk_token_syntax,
 *    tk_idem_syntax, tk_bearer and tk_is_json_type against their rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"

long	 fuzz_ref_utf8(const unsigned char *, size_t, int *);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long
ref_decode(const char *in, size_t n, char *out, size_t room, int plus)
{
	size_t	 i, o = 0;
	int	 c, h, l;

	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			h = hex((unsigned char)in[i + 1]);
			l = hex((unsigned char)in[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == 0 || o + 1 >= room)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

static void
check_decode(const char *s, size_t n, size_t room)
{
	char	 a[1024], b[1024];
	long	 x, y;
	int	 plus;

	if (room > sizeof(a) || room == 0)
		return;
	for (plus = 0; plus <= 1; plus++) {
		x = tk_req_pct_decode(s, n, a, room, plus);
		y = ref_decode(s, n, b, room, plus);
		FUZZ_CHECK(x == y && (x < 0 || memcmp(a, b, (size_t)x + 1) == 0),
		    "tk_req_pct_decode(%.*s, room %zu, plus %d) = %ld, reference %ld", (int)n, s, room,
		    plus, x, y);
	}
}

static void
encode(const char *v, char *out)
{
	static const char hexd[] = "0123456789ABCDEF";

	for (; *v != '\0'; v++) {
		*out++ = '%';
		*out++ = hexd[(unsigned char)*v >> 4];
		*out++ = hexd[(unsigned char)*v & 15];
	}
	*out = '\0';
}

static void
check_route(enum tk_method m, const char *path)
{
	static struct tk_routing rt, again;
	char		 rebuilt[TK_SEG_MAX * (3 * TK_SEGLEN_MAX + 1) + 64], allow[64];
	const char	*pat, *end;
	size_t		 o = 0, n;
	int		 i, k = 0;

	tk_route_find(m, path, &rt);
	switch (rt.match) {
	case TK_MATCH_OK:
		FUZZ_CHECK(rt.route < TK_ROUTE__MAX && tk_routes[rt.route].path == rt.path &&
		    tk_routes[rt.route].method == m, "route %d for path %d", rt.route, rt.path);
		for (i = 0; i < rt.nvars; i++)
			FUZZ_CHECK(rt.fields[i] < TK_FIELD__MAX &&
			    strnlen(rt.values[i], TK_SEGLEN_MAX + 1) <= TK_SEGLEN_MAX,
			    "value %d of %s", i, path);
		/* The same route from the pattern with every value percent-encoded. */
		for (pat = tk_paths[rt.path]; *pat == '/'; pat = end) {
			pat++;
			end = strchr(pat, '/');
			if (end == NULL)
				end = pat + strlen(pat);
			n = (size_t)(end - pat);
			rebuilt[o++] = '/';
			if (pat[0] == '{') {
				encode(rt.values[k++], rebuilt + o);
				o += strlen(rebuilt + o);
			} else {
				memcpy(rebuilt + o, pat, n);
				o += n;
			}
		}
		rebuilt[o] = '\0';
		FUZZ_CHECK(k == rt.nvars, "%d values bound, %d in the pattern", rt.nvars, k);
		if (o < TK_PATH_MAX) {
			tk_route_find(m, rebuilt, &again);
			FUZZ_CHECK(again.match == TK_MATCH_OK && again.route == rt.route &&
			    again.nvars == rt.nvars, "%s matched route %d, rebuilt %s did not", path,
			    rt.route, rebuilt);
			for (i = 0; i < rt.nvars; i++)
				FUZZ_CHECK(strcmp(again.values[i], rt.values[i]) == 0, "value %d", i);
		}
		break;
	case TK_MATCH_BAD_METHOD:
		FUZZ_CHECK(rt.path < TK_PATH__MAX, "405 without a path");
		FUZZ_CHECK(tk_route_allow(rt.path, allow, sizeof(allow)) > 0, "405 with no Allow");
		for (i = 0; i < TK_ROUTE__MAX; i++)
			FUZZ_CHECK(!(tk_routes[i].path == rt.path && tk_routes[i].method == m),
			    "405 for a method the path has");
		FUZZ_CHECK(strstr(allow, "\r") == NULL && strstr(allow, "\n") == NULL, "Allow");
		break;
	case TK_MATCH_BAD_ESCAPE:
		FUZZ_CHECK(strchr(path, '%') != NULL, "bad escape without a %%");
		break;
	case TK_MATCH_NOT_FOUND:
		break;
	}
}

static void
check_int64(const char *s, size_t n)
{
	char		 copy[64], *end;
	int64_t		 v = 0;
	long long	 ref;
	int		 rc, canonical;
	size_t		 i = 0;

	rc = tk_valid_int64(s, n, &v);
	if (n >= sizeof(copy) - 1 || memchr(s, '\0', n) != NULL) {
		FUZZ_CHECK(rc != 0 || memchr(s, '\0', n) == NULL, "NUL inside a number");
		return;
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	if (copy[0] == '-')
		i = 1;
	canonical = copy[i] >= '1' && copy[i] <= '9';
	if (copy[i] == '0' && copy[i + 1] == '\0' && i == 0)
		canonical = 1;
	for (; copy[i] != '\0'; i++)
		if (copy[i] < '0' || copy[i] > '9')
			canonical = 0;
	if (!canonical) {
		/* Bad syntax; a run of digits past int64 before it may say "range" first. */
		FUZZ_CHECK(rc == -1 || rc == -2, "tk_valid_int64(%s) = %d, not canonical", copy, rc);
		return;
	}
	errno = 0;
	ref = strtoll(copy, &end, 10);
	if (errno == ERANGE)
		FUZZ_CHECK(rc == -2, "tk_valid_int64(%s) = %d, out of range", copy, rc);
	else
		FUZZ_CHECK(rc == 0 && v == ref, "tk_valid_int64(%s) = %d %lld, strtoll %lld", copy,
		    rc, (long long)v, ref);
}

static void
check_small_parsers(const char *s, size_t n)
{
	const char	*key;
	char		 out[TK_SEGLEN_MAX + 1];
	long		 chars, ref;
	int		 ctl, count, rc, ok;
	size_t		 i;

	check_int64(s, n);
	FUZZ_CHECK(tk_valid_date(s, n) == (memchr(s, '\0', n) == NULL && fuzz_is_date(s, n)),
	    "tk_valid_date(%.*s)", (int)n, s);

	chars = tk_valid_utf8(s, n);
	ref = fuzz_ref_utf8((const unsigned char *)s, n, &ctl);
	FUZZ_CHECK(chars == (ref < 0 || ctl ? -1 : ref), "tk_utf8_chars = %ld, reference %ld (controls %d)",
	    chars, ref, ctl);

	FUZZ_CHECK(tk_req_token_syntax(s, n) == fuzz_is_token68(s, n), "tk_req_token_syntax(%.*s)", (int)n, s);
	ok = n >= 1 && n <= TK_IDEM_MAX;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			ok = 0;
	if (memchr(s, '\0', n) == NULL)
		FUZZ_CHECK(tk_req_idem_syntax(s) == ok, "tk_req_idem_syntax(%s)", s);

	if (memchr(s, '\0', n) != NULL)
		return;
	key = tk_req_bearer(s);
	if (key != NULL)
		FUZZ_CHECK(key > s && key <= s + n && strncasecmp(s, "Bearer", 6) == 0 &&
		    fuzz_is_token68(key, strlen(key)), "tk_req_bearer(%s) = %s", s, key);
	else if (strncasecmp(s, "Bearer ", 7) == 0 && n > 7 && s[7] != ' ' && s[7] != '\t')
		FUZZ_CHECK(!fuzz_is_token68(s + 7, n - 7), "tk_bearer refused %s", s);
	if (tk_req_is_json_type(s))
		FUZZ_CHECK(strncasecmp(s + strspn(s, " \t"), "application/json", 16) == 0,
		    "tk_req_is_json_type(%s)", s);

	for (i = 0; i < 2; i++) {
		rc = tk_req_query_get(s, i ? "before" : "limit", out, sizeof(out), &count);
		FUZZ_CHECK(rc == 0 || rc == -1, "tk_query_get rc %d", rc);
		/* On -1 the caller answers 400 and does not read out. */
		if (rc == 0)
			FUZZ_CHECK(count >= 0 && strnlen(out, sizeof(out)) < sizeof(out),
			    "tk_query_get: a value that does not fit");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s;
	size_t		 n;
	enum tk_method	 m;

	if (size < 1)
		return 0;
	fuzz_init();
	n = size - 1;
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, data + 1, n);
	s[n] = '\0';
	m = (enum tk_method)(data[0] % (TK_METHOD__MAX + 1));

	check_small_parsers(s, n);
	check_decode(s, n, (size_t)(data[0] >> 2) + 1);
	check_decode(s, n, 3 * TK_SEGLEN_MAX + 1);
	if (strlen(s) < TK_PATH_MAX)
		check_route(m, s);
	free(s);
	return 0;
}
