/*
 * ticket.h: the interface of the ticket service, as tables.
 *
 * Every program reads one request, checks it against the tables declared
 * here and calls exactly one api.* function.  Reading the tables tells
 * the whole HTTP interface:
 *
 *   route.c    tk_paths, tk_routes, tk_inputs, tk_stmts
 *              (what URL and method call what, with which arguments)
 *   valid.c    tk_fields   (what every argument must look like)
 *   errors.c   tk_codes    (what every failure answers)
 *
 * A program is one line, TK_PROGRAM(TK_PROG_...): it serves the routes of
 * its column in tk_routes.  What only the library's files share is in
 * extern.h.
 */
#ifndef TICKET_H
#define TICKET_H

#include <stdint.h>

#define TK_BODY_MAX	16384	/* request body limit, bytes (413 above) */
#define TK_CRED_MAX	256	/* API key and queue token, characters */
#define TK_IDEM_MAX	255	/* Idempotency-Key, characters */
#define TK_PARAMS_MAX	5	/* most parameters of any api.* function */

/* HTTP methods the service knows; anything else is TK_METHOD__MAX. */
enum tk_method {
	TK_GET,
	TK_POST,
	TK_DELETE,
	TK_METHOD__MAX
};

/* Machine codes of docs/api.md, with their HTTP status (errors.c). */
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
	TK_QUEUE_NOT_OPEN,
	TK_SALE_NOT_OPEN,
	TK_REFUND_NOT_ALLOWED,
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

/*
 * Arguments: every value an api.* function is passed.  Path segments,
 * query parameters and body members are checked by kind (valid.c); the
 * credentials come from their headers.
 */
enum tk_field {
	TK_FIELD_KEY,
	TK_FIELD_TOKEN,
	TK_FIELD_IDEM,
	TK_FIELD_NAME,
	TK_FIELD_AMOUNT,
	TK_FIELD_LIMIT,
	TK_FIELD_BEFORE,
	TK_FIELD_AFTER,
	TK_FIELD_ENTRIES_LIMIT,
	TK_FIELD_STATUSES,
	TK_FIELD_CONCERT_ID,
	TK_FIELD_RESERVATION_ID,
	TK_FIELD_DATE,
	TK_FIELD_SEAT_NOS,
	TK_FIELD_SEAT_NO,
	TK_FIELD_CODE,
	TK_FIELD__MAX
};
enum tk_kind {
	TK_KIND_KEY,	/* Authorization: Bearer <token68> (401 UNAUTHENTICATED) */
	TK_KIND_TOKEN,	/* X-Queue-Token: token68 (401 QUEUE_TOKEN_INVALID) */
	TK_KIND_IDEM,	/* Idempotency-Key: 1 to 255 printable ASCII */
	TK_KIND_ID,	/* positive int64; JSON integer or decimal string */
	TK_KIND_INT,	/* integer in [min, max]; JSON integer only */
	TK_KIND_DATE,	/* YYYY-MM-DD, a real calendar date */
	TK_KIND_TEXT,	/* string of min..max characters, no controls */
	TK_KIND_SEATS,	/* array of min..max distinct seat numbers */
	TK_KIND_SEAT,	/* one seat number, passed on as a one-element array */
	TK_KIND_STATUSES,	/* concert statuses, comma-separated, each once */
	TK_KIND_CODE	/* a name of tk_codes, set by the program itself */
};
struct tk_fielddef {
	const char	*name;		/* unique, but for a query name that two
					   routes read with two ranges ("limit") */
	enum tk_kind	 kind;
	int64_t		 min;
	int64_t		 max;
	enum tk_code	 refused;	/* out of [min, max], or a malformed credential */
};
extern const struct tk_fielddef tk_fields[TK_FIELD__MAX];

/* SQL functions, one prepared statement each, and their parameters. */
enum tk_stmt {
	TK_STMT_CREATE_USER,
	TK_STMT_GET_WALLET,
	TK_STMT_CHARGE_WALLET,
	TK_STMT_LIST_TRANSACTIONS,
	TK_STMT_LIST_CONCERTS,
	TK_STMT_GET_CONCERT,
	TK_STMT_SHUFFLE_PROOF,
	TK_STMT_SHUFFLE_ENTRIES,
	TK_STMT_ISSUE_TOKEN,
	TK_STMT_QUEUE_STATUS,
	TK_STMT_LEAVE_QUEUE,
	TK_STMT_AVAILABLE_DATES,
	TK_STMT_SEAT_MAP,
	TK_STMT_HOLD_SEAT,
	TK_STMT_GET_RESERVATION,
	TK_STMT_CANCEL_RESERVATION,
	TK_STMT_PAY_RESERVATION,
	TK_STMT_REFUND_RESERVATION,
	TK_STMT_HEALTH,
	TK_STMT_METRICS,
	TK_STMT_NOTE_ERROR,
	TK_STMT__MAX
};
struct tk_stmtdef {
	const char	*function;	/* in schema api */
	enum tk_field	 params[TK_PARAMS_MAX];	/* in order, all passed as text */
	int		 nparams;
};
/* The params and nparams of a statement from one list of fields. */
#define TK_ARGS(...) { __VA_ARGS__ }, \
	(int)(sizeof((enum tk_field []){ __VA_ARGS__ }) / sizeof(enum tk_field))
#define TK_NOARGS	{ 0 }, 0
extern const struct tk_stmtdef tk_stmts[TK_STMT__MAX];

/* URL paths; a "{field}" segment is that field's value. */
enum tk_path {
	TK_PATH_USERS,
	TK_PATH_WALLET,
	TK_PATH_WALLET_CHARGE,
	TK_PATH_WALLET_TRANSACTIONS,
	TK_PATH_CONCERTS,
	TK_PATH_CONCERT,
	TK_PATH_SHUFFLE,
	TK_PATH_SHUFFLE_ENTRIES,
	TK_PATH_CONCERT_QUEUE,
	TK_PATH_QUEUE,
	TK_PATH_CONCERT_DATES,
	TK_PATH_CONCERT_SEATS,
	TK_PATH_RESERVATIONS,
	TK_PATH_RESERVATION,
	TK_PATH_RESERVATION_PAYMENT,
	TK_PATH_RESERVATION_REFUND,
	TK_PATH_HEALTH,
	TK_PATH_METRICS,
	TK_PATH__MAX
};
extern const char *const tk_paths[TK_PATH__MAX];

/* The programs of cgi-bin/, one binary each. */
enum tk_program {
	TK_PROG_USERS,
	TK_PROG_WALLET,
	TK_PROG_CONCERTS,
	TK_PROG_QUEUE,
	TK_PROG_SEATS,
	TK_PROG_RESERVATIONS,
	TK_PROG_PAYMENT,
	TK_PROG_HEALTH,
	TK_PROG_METRICS,
	TK_PROG_NOTFOUND,	/* serves no route: the gate answers */
	TK_PROG__MAX
};

/* Route flags: what the gate reads besides the statement's arguments. */
#define TK_BODY		0x01	/* a JSON object body is required */
#define TK_BODY_OPT	0x02	/* an empty body or a JSON object */
#define TK_TEXT		0x04	/* the reply body is a JSON string sent as text/plain */

enum tk_route {
	TK_ROUTE_CREATE_USER,
	TK_ROUTE_GET_WALLET,
	TK_ROUTE_CHARGE_WALLET,
	TK_ROUTE_LIST_TRANSACTIONS,
	TK_ROUTE_LIST_CONCERTS,
	TK_ROUTE_GET_CONCERT,
	TK_ROUTE_SHUFFLE_PROOF,
	TK_ROUTE_SHUFFLE_ENTRIES,
	TK_ROUTE_ISSUE_TOKEN,
	TK_ROUTE_QUEUE_STATUS,
	TK_ROUTE_LEAVE_QUEUE,
	TK_ROUTE_AVAILABLE_DATES,
	TK_ROUTE_SEAT_MAP,
	TK_ROUTE_HOLD_SEAT,
	TK_ROUTE_GET_RESERVATION,
	TK_ROUTE_CANCEL_RESERVATION,
	TK_ROUTE_PAY_RESERVATION,
	TK_ROUTE_REFUND_RESERVATION,
	TK_ROUTE_HEALTH,
	TK_ROUTE_METRICS,
	TK_ROUTE__MAX
};
struct tk_routedef {
	enum tk_method	 method;
	enum tk_path	 path;
	enum tk_stmt	 stmt;
	enum tk_program	 program;
	unsigned int	 flags;
};
extern const struct tk_routedef tk_routes[TK_ROUTE__MAX];

/*
 * The query parameters and body members a route reads, in the order the
 * gate checks them (the credentials and path values come first).  The
 * table ends with a row of route TK_ROUTE__MAX.
 */
enum tk_from {
	TK_FROM_QUERY,
	TK_FROM_BODY
};
enum tk_presence {
	TK_OPTIONAL,	/* absent or null: dflt (may be NULL) */
	TK_REQUIRED,	/* absent or null: 400 "is required" */
	TK_EITHER,	/* required, unless the next row is given instead */
	TK_OR		/* instead of the row before, passed on as it; not both */
};
struct tk_inputdef {
	enum tk_route	 route;
	enum tk_field	 field;
	enum tk_from	 from;
	enum tk_presence presence;
	const char	*dflt;
};
extern const struct tk_inputdef tk_inputs[];

/* Serves requests, one after another, as program prog (main.c). */
int	 tk_main(enum tk_program prog);
#define TK_PROGRAM(prog) \
	int main(void) { return tk_main(prog); }

#endif /* TICKET_H */
