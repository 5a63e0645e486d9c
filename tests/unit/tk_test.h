/*
 * tk_test.h: what the Check suites of cgi-bin share: a fake database
 * (fake_db.c) that records the one call a request makes and answers as
 * scripted, and helpers to run a request through the gate (testutil.c).
 */
#ifndef TK_TEST_H
#define TK_TEST_H

#include <check.h>

#include "ticket.h"

/* The programs' handler tables (TK_PROGRAM with TK_UNIT_TEST). */
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

/* fake_db.c: the last call, and what the next call answers. */
struct fake_call {
	int		 calls;
	enum tk_stmt	 stmt;
	int		 nparams;
	char		*params[TK_PARAMS_MAX];	/* NULL for SQL NULL */
};
extern struct fake_call fake_last;
void	 fake_db_reset(void);
void	 fake_db_reply(int, const char *, int);
void	 fake_db_error(const char *, const char *, const char *, const char *);
const char *fake_param(int);

/* testutil.c */
extern struct tk_req test_req;
void	 env_clear(void);
void	 env_request(const char *, const char *);
struct tk_req *run_request(const tk_handler *, const char *, size_t);
struct tk_req *run(const tk_handler *, const char *, const char *,
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
