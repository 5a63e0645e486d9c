/*
 * request.c: the request as the CGI environment gives it, and the syntax
 * of what arrives in headers and the query string.  Nothing here judges
 * a value for a field (valid.c) or answers (serve.c).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extern.h"

const char *const tk_methods[TK_METHOD__MAX] = {
	[TK_GET] = "GET",
	[TK_POST] = "POST",
	[TK_DELETE] = "DELETE",
};

void
tk_req_init(struct tk_req *r, struct tk_db *db)
{
	/* The body buffer is large and written before it is read. */
	memset(r, 0, offsetof(struct tk_req, bodybuf));
	r->db = db;
	r->method = TK_METHOD__MAX;
	r->method_name = "";
	r->query = "";
	r->route = TK_ROUTE__MAX;
	r->dbres.retry_after = -1;
	tk_reply_init(&r->reply);
}

void
tk_req_free(struct tk_req *r)
{
	json_decref(r->json);
	r->json = NULL;
	tk_dbres_clear(&r->dbres);
	tk_reply_free(&r->reply);
}

enum tk_method
tk_req_method(const char *s)
{
	int	 i;

	for (i = 0; i < TK_METHOD__MAX; i++)
		if (s != NULL && strcmp(s, tk_methods[i]) == 0)
			return (enum tk_method)i;
	return TK_METHOD__MAX;
}

/* An empty header is taken as no header. */
static const char *
header(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* CONTENT_LENGTH: absent is 0, malformed is -1, huge is capped. */
static long long
content_length(const char *s)
{
	long long	 n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (n <= TK_BODY_MAX)
			n = n * 10 + (*s - '0');
	}
	return n;
}

void
tk_req_from_env(struct tk_req *r)
{
	const char	*uri, *q, *script, *info, *v;
	size_t		 n, m;

	r->method_name = getenv("REQUEST_METHOD");
	if (r->method_name == NULL)
		r->method_name = "";
	r->method = tk_req_method(r->method_name);

	/*
	 * REQUEST_URI is what the client asked for, before any rewrite by
	 * the server; without it, SCRIPT_NAME + PATH_INFO and QUERY_STRING.
	 */
	if ((uri = getenv("REQUEST_URI")) != NULL && uri[0] == '/') {
		q = strchr(uri, '?');
		n = q != NULL ? (size_t)(q - uri) : strlen(uri);
		r->query = q != NULL ? q + 1 : "";
		if (n < sizeof(r->path)) {
			memcpy(r->path, uri, n);
			r->path[n] = '\0';
		}
	} else {
		script = getenv("SCRIPT_NAME");
		info = getenv("PATH_INFO");
		n = script != NULL ? strlen(script) : 0;
		m = info != NULL ? strlen(info) : 0;
		if (n + m < sizeof(r->path)) {
			if (n > 0)
				memcpy(r->path, script, n);
			if (m > 0)
				memcpy(r->path + n, info, m);
			r->path[n + m] = '\0';
		}
		q = getenv("QUERY_STRING");
		r->query = q != NULL ? q : "";
	}

	r->content_type = header("CONTENT_TYPE");
	r->content_length = content_length(getenv("CONTENT_LENGTH"));
	r->body_too_large = r->content_length > TK_BODY_MAX;
	r->authorization = header("HTTP_AUTHORIZATION");
	r->queue_token = header("HTTP_X_QUEUE_TOKEN");
	/* Present but empty is a client mistake here, not an absent key. */
	r->idempotency_key = getenv("HTTP_IDEMPOTENCY_KEY");
	/*
	 * lighttpd's server.error-handler runs a program with the status
	 * of the error it met; otherwise REDIRECT_STATUS is 200 or absent.
	 */
	if ((v = getenv("REDIRECT_STATUS")) != NULL && strlen(v) == 3 &&
	    v[0] >= '1' && v[0] <= '5' && v[1] >= '0' && v[1] <= '9' &&
	    v[2] >= '0' && v[2] <= '9')
		r->redirect_status = atoi(v);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes n bytes of percent-encoding into out (NUL-terminated).  With
 * plus, '+' is a space (query strings).  Returns the decoded length, or
 * -1 on a bad escape, a NUL byte (raw or encoded), or no room.
 */
long
tk_req_pct_decode(const char *in, size_t n, char *out, size_t outsize, int plus)
{
	size_t	 i, o = 0;
	int	 hi, lo;
	char	 c;

	for (i = 0; i < n; i++) {
		c = in[i];
		if (c == '%') {
			if (n - i < 3)
				return -1;
			if ((hi = hexval(in[i + 1])) < 0 ||
			    (lo = hexval(in[i + 2])) < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == '\0' || o + 1 >= outsize)
			return -1;
		out[o++] = c;
	}
	if (o >= outsize)
		return -1;
	out[o] = '\0';
	return (long)o;
}

/*
 * Looks for parameter name in a query string and decodes its value into
 * out.  *count is how many times it is given.  Returns -1 when the query
 * cannot be read (a bad escape in a name, or in or too long a value of
 * this name), else 0.
 */
int
tk_req_query_get(const char *query, const char *name, char *out, size_t outsize,
    int *count)
{
	const char	*p, *end, *eq;
	char		 key[TK_SEGLEN_MAX + 1];
	long		 klen;

	*count = 0;
	if (outsize > 0)
		out[0] = '\0';
	for (p = query; p != NULL && *p != '\0'; p = *end == '&' ? end + 1 : end) {
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p)
			continue;
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL)
			eq = end;
		klen = tk_req_pct_decode(p, (size_t)(eq - p), key, sizeof(key), 1);
		if (klen < 0) {
			/* A name too long to be ours is not ours. */
			if ((size_t)(eq - p) > 3 * TK_SEGLEN_MAX)
				continue;
			return -1;
		}
		if (strcmp(key, name) != 0)
			continue;
		if (++*count > 1)
			continue;
		if (eq == end)
			continue;	/* "name" alone: an empty value */
		if (tk_req_pct_decode(eq + 1, (size_t)(end - eq - 1), out,
		    outsize, 1) < 0)
			return -1;
	}
	return 0;
}

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * Content-Type is application/json, with no charset parameter or
 * charset=utf-8 (any case, quoted or not); other parameters are allowed.
 */
int
tk_req_is_json_type(const char *ct)
{
	const char	*p, *name, *val;
	size_t		 nlen, vlen;
	int		 quoted;

	if (ct == NULL)
		return 0;
	p = skip_ows(ct);
	if (strncasecmp(p, "application/json", 16) != 0)
		return 0;
	p = skip_ows(p + 16);
	while (*p != '\0') {
		if (*p != ';')
			return 0;
		p = skip_ows(p + 1);
		for (name = p; is_tchar(*p); p++)
			continue;
		nlen = (size_t)(p - name);
		if (nlen == 0 || *p != '=')
			return 0;
		p++;
		quoted = *p == '"';
		if (quoted) {
			for (val = ++p; *p != '"' && *p != '\0'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p != '"')
				return 0;
			vlen = (size_t)(p - val);
			p++;
		} else {
			for (val = p; is_tchar(*p); p++)
				continue;
			vlen = (size_t)(p - val);
			if (vlen == 0)
				return 0;
		}
		if (nlen == 7 && strncasecmp(name, "charset", 7) == 0 &&
		    !(vlen == 5 && strncasecmp(val, "utf-8", 5) == 0))
			return 0;
		p = skip_ows(p);
	}
	return 1;
}

/* token68 of RFC 7235, 1 to TK_CRED_MAX characters. */
int
tk_req_token_syntax(const char *s, size_t n)
{
	size_t	 i;
	char	 c;

	if (n == 0 || n > TK_CRED_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || c == '+' || c == '/')
			continue;
		break;
	}
	if (i == 0)
		return 0;
	for (; i < n; i++)
		if (s[i] != '=')
			return 0;
	return 1;
}

/*
 * The API key of "Authorization: Bearer <key>", or NULL when the header
 * is of another scheme or the key is not token68.
 */
const char *
tk_req_bearer(const char *h)
{
	const char	*key;

	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 ||
	    (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	key = skip_ows(h + 6);
	return tk_req_token_syntax(key, strlen(key)) ? key : NULL;
}

/* Idempotency-Key: 1 to 255 printable ASCII characters. */
int
tk_req_idem_syntax(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; u[i] != '\0'; i++)
		if (u[i] < 0x20 || u[i] > 0x7e || i >= TK_IDEM_MAX)
			return 0;
	return i > 0;
}
