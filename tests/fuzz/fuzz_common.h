/*
 * fuzz_common.h: what the libFuzzer harnesses share (fuzz_common.c).
 *
 * The harnesses link cgi-bin's plain-C modules (request, valid, route,
 * body, serve, errors, reply, log), with a stand-in for db.c that
 * records each call and checks what would have reached the database.
 * Every check that fails aborts, which libFuzzer reports as a crash.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "extern.h"

/* Aborts with a message when cond is false: a finding. */
#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);	\
} while (0)
void	 fuzz_fail(const char *, int, const char *, const char *, ...)
	    __attribute__((noreturn, format(printf, 4, 5)));

void	 fuzz_init(void);

/* What the stand-in database answers to the next call. */
enum fuzz_db_mode {
	FUZZ_DB_OK,		/* a 2xx reply row */
	FUZZ_DB_ERROR,		/* an error with fuzz_db_state, message, detail */
	FUZZ_DB_DOWN		/* no connection (08001) */
};
extern enum fuzz_db_mode fuzz_db_mode;
extern const char *fuzz_db_state, *fuzz_db_message, *fuzz_db_detail, *fuzz_db_hint;
extern int fuzz_db_calls;

/*
 * The CGI variables a request is made of.  fuzz_env_clear() gives the
 * process an environment of its own with none of them (as libfcgi gives
 * each request only its own variables); fuzz_env_set() adds or replaces one.
 */
enum fuzz_var {
	FV_METHOD, FV_URI, FV_CONTENT_TYPE, FV_CONTENT_LENGTH, FV_AUTHORIZATION,
	FV_QUEUE_TOKEN, FV_IDEMPOTENCY_KEY, FV_REDIRECT_STATUS, FV__MAX
};
void	 fuzz_env_clear(void);
void	 fuzz_env_set(enum fuzz_var, const char *, size_t);

/*
 * Runs the request in the environment with this body through the gate, as
 * the program lighttpd would pick and as main.c does (reading the body as io.c does), then checks
 * the answer: a known status, the docs/api.md error body, a header block that
 * fits and has no stray CR or LF, a 5xx only when the database failed.
 */
void	 fuzz_serve(const uint8_t *, size_t);

/* Checks on values (also used by the harnesses directly). */
int	 fuzz_is_id(const char *);
int	 fuzz_is_token68(const char *, size_t);
int	 fuzz_is_date(const char *, size_t);
int	 fuzz_is_seat_array(const char *, int64_t, int64_t);

#endif
