/*
 * ticket.h: what the HTTP programs of the ticket service share.
 *
 * Every program reads one request from the CGI environment, checks it
 * against the tables below (routes, fields), calls exactly one api.*
 * function and writes its answer.  The tables are the whole interface:
 *
 *   route.c    tk_paths, tk_routes, tk_stmts  (what URL and method call what)
 *   valid.c    tk_fields                      (what every input must look like)
 *   errors.c   tk_codes, SQLSTATE table       (what every failure answers)
 *
 * Modules: request.c (CGI environment, percent-decoding, query string),
 * valid.c (field checks), route.c (routing), errors.c (error answers),
 * reply.c (success answers, header text), serve.c (the gate and the
 * "validate or reply" helpers handlers use), db.c (libpq), io.c (the
 * FastCGI/CGI stdio layer, the only file that includes fcgi_stdio.h),
 * main.c (the accept loop), log.c.  Everything but db.c, io.c and main.c
 * is plain C with no I/O and is covered by the Check tests in tests/unit.
 */
#ifndef TICKET_H
#define TICKET_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define TK_OK		 0
#define TK_REPLIED	(-1)	/* a helper failed and has set the error answer */

#define TK_BODY_MAX	16384	/* request body limit, bytes (413 above) */
#define TK_PATH_MAX	512	/* longer paths match no route (404) */
#define TK_SEG_MAX	8	/* path segments kept */
#define TK_SEGLEN_MAX	64	/* bytes of one decoded path segment */
#define TK_CRED_MAX	256	/* API key and queue token, characters */
#define TK_IDEM_MAX	255	/* Idempotency-Key, characters */
#define TK_ARG_MAX	4096	/* bytes of checked argument text per request */
#define TK_PARAMS_MAX	5	/* most parameters of any api.* function */

#define TK_JSON_TYPE	"application/json; charset=utf-8"
#define TK_TEXT_TYPE	"text/plain; version=0.0.4; charset=utf-8"	/* metrics */

/* HTTP methods the service knows; anything else is TK_METHOD__MAX. */
enum tk_method {
	TK_GET,
	TK_POST,
	TK_DELETE,
	TK_METHOD__MAX
};
extern const char *const tk_methods[TK_METHOD__MAX];

/* Machine codes of API.md, with their HTTP status (errors.c). */
enum tk_code {
	TK_INVALID_JSON,
	TK_INVALID_ARGUMENT,
	TK_INVALID_AMOUNT,
	TK_UNAUTHENTICATED,
	TK_QUEUE_TOKEN_INVALID,
	TK_QUEUE_TOKEN_EXPIRED,
	TK_INSUFFICIENT_BALANCE,
	TK_QUEUE_TOKEN_MISMATCH,
	TK_NOT_FOUND,
	TK_METHOD_NOT_ALLOWED,
	TK_SEAT_UNAVAILABLE,
	TK_HOLD_LIMIT_REACHED,
	TK_RESERVATION_NOT_HELD,
	TK_IDEMPOTENCY_IN_PROGRESS,
	TK_HOLD_EXPIRED,
	TK_PAYLOAD_TOO_LARGE,
	TK_UNSUPPORTED_MEDIA_TYPE,
	TK_IDEMPOTENCY_KEY_REUSED,
	TK_QUEUE_NOT_ADMITTED,
	TK_INTERNAL,
	TK_DATABASE_UNAVAILABLE,
	TK_CODE__MAX
};
struct tk_codedef {
	int		 status;
	const char	*name;
	const char	*message;	/* default text for people */
};
extern const struct tk_codedef tk_codes[TK_CODE__MAX];

/* Inputs: path segments, query parameters and JSON body members (valid.c). */
enum tk_field {
	TK_FIELD_NAME,
	TK_FIELD_AMOUNT,
	TK_FIELD_LIMIT,
	TK_FIELD_BEFORE,
	TK_FIELD_CONCERT_ID,
	TK_FIELD_RESERVATION_ID,
	TK_FIELD_DATE,
	TK_FIELD_SEAT_NOS,
	TK_FIELD_SEAT_NO,
	TK_FIELD__MAX
};
enum tk_kind {
	TK_KIND_ID,	/* positive int64; JSON integer or decimal string */
	TK_KIND_INT,	/* integer in [min, max]; JSON integer only */
	TK_KIND_DATE,	/* YYYY-MM-DD, a real calendar date */
	TK_KIND_TEXT,	/* string of min..max characters, no controls */
	TK_KIND_SEATS,	/* array of min..max distinct seat numbers */
	TK_KIND_SEAT	/* one seat number, passed on as a one-element array */
};
struct tk_fielddef {
	const char	*name;
	enum tk_kind	 kind;
	int64_t		 min;
	int64_t		 max;
	enum tk_code	 range_code;	/* answered when out of [min, max] */
};
extern const struct tk_fielddef tk_fields[TK_FIELD__MAX];

/* SQL functions, one prepared statement each (route.c). */
enum tk_stmt {
	TK_STMT_CREATE_USER,
	TK_STMT_GET_WALLET,
	TK_STMT_CHARGE_WALLET,
	TK_STMT_LIST_TRANSACTIONS,
	TK_STMT_LIST_CONCERTS,
	TK_STMT_ISSUE_TOKEN,
	TK_STMT_QUEUE_STATUS,
	TK_STMT_LEAVE_QUEUE,
	TK_STMT_AVAILABLE_DATES,
	TK_STMT_SEAT_MAP,
	TK_STMT_HOLD_SEAT,
	TK_STMT_GET_RESERVATION,
	TK_STMT_CANCEL_RESERVATION,
	TK_STMT_PAY_RESERVATION,
	TK_STMT_HEALTH,
	TK_STMT_METRICS,
	TK_STMT_NOTE_ERROR,
	TK_STMT__MAX
};
struct tk_stmtdef {
	const char	*function;	/* in schema api */
	int		 nparams;	/* all passed as text */
};
extern const struct tk_stmtdef tk_stmts[TK_STMT__MAX];

/* URL paths; "{field}" segments are checked with tk_fields. */
enum tk_path {
	TK_PATH_USERS,
	TK_PATH_WALLET,
	TK_PATH_WALLET_CHARGE,
	TK_PATH_WALLET_TRANSACTIONS,
	TK_PATH_CONCERTS,
	TK_PATH_CONCERT_QUEUE,
	TK_PATH_QUEUE,
	TK_PATH_CONCERT_DATES,
	TK_PATH_CONCERT_SEATS,
	TK_PATH_RESERVATIONS,
	TK_PATH_RESERVATION,
	TK_PATH_RESERVATION_PAYMENT,
	TK_PATH_HEALTH,
	TK_PATH_METRICS,
	TK_PATH__MAX
};
extern const char *const tk_paths[TK_PATH__MAX];

/* Route flags: what the gate reads and checks before the handler runs. */
#define TK_KEY		0x01	/* Authorization: Bearer <api key> */
#define TK_TOKEN	0x02	/* X-Queue-Token */
#define TK_IDEM		0x04	/* Idempotency-Key (optional) */
#define TK_BODY		0x08	/* a JSON object body is required */
#define TK_BODY_OPT	0x10	/* an empty body or a JSON object */
#define TK_TEXT		0x20	/* the reply body is a JSON string sent as text/plain */

enum tk_route {
	TK_ROUTE_CREATE_USER,
	TK_ROUTE_GET_WALLET,
	TK_ROUTE_CHARGE_WALLET,
	TK_ROUTE_LIST_TRANSACTIONS,
	TK_ROUTE_LIST_CONCERTS,
	TK_ROUTE_ISSUE_TOKEN,
	TK_ROUTE_QUEUE_STATUS,
	TK_ROUTE_LEAVE_QUEUE,
	TK_ROUTE_AVAILABLE_DATES,
	TK_ROUTE_SEAT_MAP,
	TK_ROUTE_HOLD_SEAT,
	TK_ROUTE_GET_RESERVATION,
	TK_ROUTE_CANCEL_RESERVATION,
	TK_ROUTE_PAY_RESERVATION,
	TK_ROUTE_HEALTH,
	TK_ROUTE_METRICS,
	TK_ROUTE__MAX
};
struct tk_routedef {
	enum tk_method	 method;
	enum tk_path	 path;
	enum tk_stmt	 stmt;
	unsigned int	 flags;
};
extern const struct tk_routedef tk_routes[TK_ROUTE__MAX];

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
	/* Decided by the gate (serve.c). */
	enum tk_route	 route;
	const char	*key;		/* credentials passed on, NULL when absent */
	const char	*token;
	const char	*idem;
	json_t		*json;		/* parsed body object, or NULL */
	int		 json_overflow;	/* json was re-read with big ints as reals */
	const char	*args[TK_FIELD__MAX];	/* checked values as text */
	char		 argbuf[TK_ARG_MAX];
	size_t		 arglen;
	/* The database call and the answer. */
	struct tk_dbres	 dbres;
	struct tk_reply	 reply;
	char		 bodybuf[TK_BODY_MAX + 1];
};

typedef void (*tk_handler)(struct tk_req *);

/* request.c */
void		 tk_req_init(struct tk_req *, struct tk_db *);
void		 tk_req_from_env(struct tk_req *);
void		 tk_req_free(struct tk_req *);
enum tk_method	 tk_method_parse(const char *);
long		 tk_pct_decode(const char *, size_t, char *, size_t, int);
int		 tk_query_get(const char *, const char *, char *, size_t, int *);
int		 tk_is_json_type(const char *);
const char	*tk_bearer(const char *);
int		 tk_token_syntax(const char *, size_t);
int		 tk_idem_syntax(const char *);

/* valid.c */
int		 tk_parse_int64(const char *, size_t, int64_t *);
int		 tk_date_syntax(const char *, size_t);
long		 tk_utf8_chars(const char *, size_t);
int		 tk_valid_text(struct tk_req *, enum tk_field, const char *);
int		 tk_valid_json(struct tk_req *, enum tk_field, const json_t *);
int		 tk_reply_range(struct tk_req *, enum tk_field);
const char	*tk_arg_printf(struct tk_req *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* route.c */
void		 tk_route_find(enum tk_method, const char *, struct tk_routing *);
size_t		 tk_route_allow(enum tk_path, char *, size_t);
enum tk_field	 tk_field_by_name(const char *, size_t);

/* errors.c */
enum tk_code	 tk_code_for_sqlstate(const char *);
enum tk_code	 tk_code_for_status(int);
void		 tk_reply_error(struct tk_req *, enum tk_code, const char *,
		    json_t *, const char *);
void		 tk_reply_field(struct tk_req *, enum tk_code, const char *,
		    const char *);
void		 tk_reply_db_error(struct tk_req *, const struct tk_dbres *);

/* reply.c */
void		 tk_reply_init(struct tk_reply *);
void		 tk_reply_free(struct tk_reply *);
void		 tk_reply_db(struct tk_req *, const struct tk_dbres *);
size_t		 tk_reply_head(const struct tk_reply *, char *, size_t);
const char	*tk_status_text(int);

/* serve.c: the gate and the helpers handlers use. */
void		 tk_serve(struct tk_req *, const tk_handler *);
int		 tk_body_or_reply(struct tk_req *, enum tk_field, int);
int		 tk_query_or_reply(struct tk_req *, enum tk_field, const char *);
void		 tk_call(struct tk_req *, const char *const *, int);
#define TK_REQUIRED	1
#define TK_OPTIONAL	0
/* tk_call(r, TK_PARAMS(a, b)) passes an array and its length. */
#define TK_PARAMS(...) \
	(const char *const []){ __VA_ARGS__ }, \
	(int)(sizeof((const char *const []){ __VA_ARGS__ }) / sizeof(const char *))

/* db.c (libpq) */
struct tk_db	*tk_db_new(const char *, int, int);
void		 tk_db_free(struct tk_db *);
int		 tk_db_call(struct tk_db *, enum tk_stmt, const char *const *,
		    struct tk_dbres *);
void		 tk_dbres_clear(struct tk_dbres *);

/* io.c (fcgi_stdio) and main.c */
int		 tk_io_accept(void);
int		 tk_io_is_cgi(void);
void		 tk_io_read_body(struct tk_req *);
int		 tk_io_send(const struct tk_reply *);
void		 tk_io_finish(void);
int		 tk_main(const tk_handler *);

/* log.c: one line to stderr, which lighttpd keeps in its error log. */
void		 tk_log(const char *, ...) __attribute__((format(printf, 1, 2)));
extern int	 tk_log_quiet;

/*
 * Each program ends with TK_PROGRAM(name, handlers): its main(), or, in
 * the unit tests, a pointer to its handler table.
 */
/* The handler tables, defined only by programs built with TK_UNIT_TEST. */
extern const tk_handler *const tk_program_users;
extern const tk_handler *const tk_program_wallet;
extern const tk_handler *const tk_program_concerts;
extern const tk_handler *const tk_program_queue;
extern const tk_handler *const tk_program_seats;
extern const tk_handler *const tk_program_reservations;
extern const tk_handler *const tk_program_payment;
extern const tk_handler *const tk_program_health;
extern const tk_handler *const tk_program_metrics;
extern const tk_handler *const tk_program_notfound;

#ifdef TK_UNIT_TEST
#define TK_PROGRAM(name, table) \
	const tk_handler *const tk_program_##name = (table);
#else
#define TK_PROGRAM(name, table) \
	int main(void) { return tk_main(table); }
#endif

#endif /* TICKET_H */
