/*
 * tk_test.h: what the Check suites of cgi-bin share: helpers to run a
 * request through the gate as a program (testutil.c).  There is no
 * database in the unit tests, real or fake: the programs' own db.c
 * is linked in with a connection string that reaches no server, so a
 * request that gets through the gate to its call is answered 503 by
 * db.c's real no-connection path (08001).  What the calls pass and what
 * the database answers is tested end to end in tests/http/.
 */
#ifndef TK_TEST_H
#define TK_TEST_H

#include <check.h>

#include "extern.h"

/* A libpq connection string that reaches no server (testutil.c). */
#define TEST_DB_NOWHERE \
	"host=/nonexistent/tk-unit-no-database port=1 dbname=none connect_timeout=1"

/* testutil.c */
extern struct tk_req test_req;
extern struct tk_db *test_db;
void	 env_clear(void);
void	 env_request(const char *, const char *);
struct tk_req *run_request(enum tk_program, const char *, size_t);
struct tk_req *run(enum tk_program, const char *, const char *,
	    const char *);
json_t	*reply_json(const struct tk_req *);
const char *reply_code(const struct tk_req *);
const char *reply_field(const struct tk_req *);
void	 test_setup(void);
void	 test_teardown(void);
int	 tk_test_run(Suite *);

/* An error answer with this status and code, made without the database. */
#define ck_error(r, st, cd) do {					\
	ck_assert_int_eq((r)->reply.status, (st));			\
	ck_assert_str_eq(reply_code(r), (cd));				\
} while (0)

#endif
