/*
 * extern.h: what only the library's files share.  The programs see
 * ticket.h alone.
 *
 * One file, one job, one prefix:
 *   request.c  tk_req_     the CGI environment; syntax of headers and query
 *   valid.c    tk_valid_   every field's check (tk_fields)
 *   route.c    tk_route_   path and method to route (tk_paths, tk_routes)
 *   body.c     tk_body_    the JSON body: size, type, syntax, an object
 *   serve.c    tk_serve    the gate, then the one call of the route
 *   errors.c   tk_error_   error answers (tk_codes, the SQLSTATE table)
 *   reply.c    tk_reply_   success answers and the CGI header text
 *   db.c       tk_db_      libpq: the connection and one call
 *   io.c       tk_io_      FastCGI/CGI stdio, the only user of fcgi_stdio.h
 *   main.c     tk_main     the accept loop
 *   log.c      tk_log      one line to stderr
 * Everything but db.c, io.c and main.c is plain C with no I/O, covered by
 * the Check tests in tests/unit.
 */
#ifndef EXTERN_H
#define EXTERN_H

#include <stddef.h>

#include <jansson.h>

#include "ticket.h"

#define TK_OK		 0
#define TK_REPLIED	(-1)	/* a check failed and has set the error answer */

#define TK_PATH_MAX	512	/* longer paths match no route (404) */
#define TK_SEG_MAX	8	/* path segments kept */
#define TK_SEGLEN_MAX	64	/* bytes of one decoded path segment */
#define TK_ARG_MAX	4096	/* bytes of checked argument text per request */

/* A number as text, for messages built at compile time. */
#define TK_STR(x)	TK_STR_(x)
#define TK_STR_(x)	#x

extern const char *const tk_methods[TK_METHOD__MAX];	/* request.c */

#define TK_JSON_TYPE	"application/json; charset=utf-8"
#define TK_TEXT_TYPE	"text/plain; version=0.0.4; charset=utf-8"	/* metrics */

/* Outcome of routing a method and a path (route.c). */
enum tk_match {
	TK_MATCH_OK,
	TK_MATCH_NOT_FOUND,	/* 404 */
	TK_MATCH_BAD_METHOD,	/* 405, Allow lists the path's methods */
	TK_MATCH_BAD_ESCAPE	/* 400, bad percent-encoding in the path */
};
struct tk_routing {
	enum tk_match	 match;
	enum tk_path	 path;
	enum tk_route	 route;
	int		 nvars;		/* "{field}" segments bound */
	enum tk_field	 fields[TK_SEG_MAX];
	char		 values[TK_SEG_MAX][TK_SEGLEN_MAX + 1];
};

/* The answer being built; sent by io.c, formatted by tk_reply_head(). */
struct tk_reply {
	int		 status;	/* 0 until an answer is chosen */
	enum tk_code	 code;		/* when status >= 400 */
	int		 retry_after;	/* seconds, or -1 for no header */
	const char	*content_type;	/* NULL: no body */
	const char	*body;
	size_t		 bodylen;
	char		*owned;		/* body storage freed with the reply */
	char		 allow[32];	/* Allow header on 405 */
};

/* One database answer: a reply row, or an error (sqlstate set). */
struct tk_dbres {
	void		*pg;		/* PGresult, cleared by tk_dbres_clear */
	int		 status;	/* reply row */
	const char	*body;		/* NULL when SQL NULL */
	int		 retry_after;	/* -1 when SQL NULL */
	char		 sqlstate[6];	/* "" when a reply row came back */
	const char	*message;
	const char	*detail;
	const char	*hint;
	const char	*constraint;	/* of an integrity error, or NULL */
};

struct tk_db;

struct tk_req {
	struct tk_db	*db;
	/* From the environment (request.c). */
	enum tk_method	 method;
	const char	*method_name;
	char		 path[TK_PATH_MAX];	/* "" when too long: no route */
	const char	*query;		/* "" when none */
	const char	*content_type;	/* NULL when absent */
	long long	 content_length; /* -1 when malformed */
	const char	*authorization;	/* raw header values or NULL */
	const char	*queue_token;
	const char	*idempotency_key;
	char		*body;		/* NULL until read */
	size_t		 bodylen;
	int		 body_too_large;
	int		 redirect_status; /* lighttpd's error handler: its status */
	/* Decided by the gate (serve.c, body.c, valid.c). */
	enum tk_route	 route;
	json_t		*json;		/* parsed body object, or NULL */
	const char	*args[TK_FIELD__MAX];	/* checked values as text, or NULL */
	char		 argbuf[TK_ARG_MAX];
	size_t		 arglen;
	/* The database call and the answer. */
	struct tk_dbres	 dbres;
	struct tk_reply	 reply;
	char		 bodybuf[TK_BODY_MAX + 1];
};

/* request.c */
void		 tk_req_init(struct tk_req *, struct tk_db *);
void		 tk_req_from_env(struct tk_req *);
void		 tk_req_free(struct tk_req *);
enum tk_method	 tk_req_method(const char *);
long		 tk_req_pct_decode(const char *, size_t, char *, size_t, int);
int		 tk_req_query_get(const char *, const char *, char *, size_t,
		    int *);
int		 tk_req_is_json_type(const char *);
const char	*tk_req_bearer(const char *);
int		 tk_req_token_syntax(const char *, size_t);
int		 tk_req_idem_syntax(const char *);

/* valid.c */
int		 tk_valid_int64(const char *, size_t, int64_t *);
int		 tk_valid_date(const char *, size_t);
long		 tk_valid_utf8(const char *, size_t);
enum tk_field	 tk_valid_field(const char *, size_t);
int		 tk_valid_text(struct tk_req *, enum tk_field, const char *);
int		 tk_valid_json(struct tk_req *, enum tk_field, const json_t *);
int		 tk_valid_header(struct tk_req *, enum tk_field, const char *);
int		 tk_valid_range(struct tk_req *, enum tk_field);
const char	*tk_valid_printf(struct tk_req *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* route.c */
void		 tk_route_find(enum tk_method, const char *, struct tk_routing *);
size_t		 tk_route_allow(enum tk_path, char *, size_t);
int		 tk_route_takes(enum tk_stmt, enum tk_field);

/* body.c */
int		 tk_body_parse(struct tk_req *, int);

/* serve.c: the gate, then the call. */
void		 tk_serve(struct tk_req *, enum tk_program);

/* errors.c */
enum tk_code	 tk_error_for_sqlstate(const char *, const char *);
enum tk_code	 tk_error_for_status(int);
void		 tk_error_reply(struct tk_req *, enum tk_code, const char *,
		    json_t *, const char *);
void		 tk_error_field(struct tk_req *, enum tk_code, const char *,
		    const char *);
void		 tk_error_db(struct tk_req *, const struct tk_dbres *);
char		*tk_error_file(size_t, int *);

/* reply.c */
void		 tk_reply_init(struct tk_reply *);
void		 tk_reply_free(struct tk_reply *);
void		 tk_reply_db(struct tk_req *, const struct tk_dbres *);
size_t		 tk_reply_head(const struct tk_reply *, char *, size_t);
const char	*tk_reply_status_text(int);

/* db.c (libpq) */
struct tk_db	*tk_db_new(const char *, int, int);
void		 tk_db_free(struct tk_db *);
int		 tk_db_call(struct tk_db *, enum tk_stmt, const char *const *,
		    struct tk_dbres *);
void		 tk_dbres_clear(struct tk_dbres *);

/* io.c (fcgi_stdio) */
int		 tk_io_accept(void);
int		 tk_io_is_cgi(void);
void		 tk_io_read_body(struct tk_req *);
int		 tk_io_send(const struct tk_reply *);
void		 tk_io_finish(void);

/* log.c: one line to stderr, which lighttpd keeps in its error log. */
void		 tk_log(const char *, ...) __attribute__((format(printf, 1, 2)));
extern int	 tk_log_quiet;

#endif /* EXTERN_H */
