/*
 * fuzz_request: a whole request from the CGI environment and a body.
 *
 * Input: one byte choosing what the stand-in database answers, then the
 * CGI variables REQUEST_METHOD, REQUEST_URI, CONTENT_TYPE, CONTENT_LENGTH,
 * HTTP_AUTHORIZATION, HTTP_X_QUEUE_TOKEN, HTTP_IDEMPOTENCY_KEY and
 * REDIRECT_STATUS, each ended by a NUL byte (an empty one is unset, as
 * lighttpd drops empty headers, and so is one the input stops before),
 * then the body (any bytes).  The request goes through the gate to the
 * call of its route (fuzz_serve checks the answer and what reached the
 * database).
 */
#include <string.h>

#include "fuzz_common.h"

static const char *const states[] = {
	"T400A", "T400B", "T401A", "T401B", "T401C", "T402A", "T403A", "T404A",
	"T409A", "T409B", "T409C", "T409D", "T409F", "T409G", "T410A", "T422A",
	"T429A", "23505", "23P01", "22P02", "22003", "08006", "40001", "40P01",
	"53300", "55P03", "57014", "XX000", "42883", "", "T4", "T999Z",
};
static const char *const details[] = {
	NULL, "{\"retry_after\": 7, \"position\": 3}", "{\"retry_after\": -1}",
	"{\"retry_after\": 99999999999}", "{\"retry_after\": \"7\"}", "not json",
	"[1, 2]", "{\"a\":", "\"x\"", "{\"seat_nos\": [7]}", "\xff\xfe",
};

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*p, *nul;
	size_t		 left;
	int		 v;

	if (size < 1)
		return 0;
	fuzz_env_clear();
	if (data[0] < 160)
		fuzz_db_mode = FUZZ_DB_OK;
	else if (data[0] < 240) {
		fuzz_db_mode = FUZZ_DB_ERROR;
		fuzz_db_state = states[data[0] % (sizeof(states) / sizeof(states[0]))];
		fuzz_db_message = data[0] & 1 ? "refused: \xe2\x9c\x97" : "bad \xff text";
		fuzz_db_detail = details[data[0] % (sizeof(details) / sizeof(details[0]))];
		fuzz_db_hint = data[0] & 2 ? "try again" : NULL;
	} else
		fuzz_db_mode = FUZZ_DB_DOWN;
	p = data + 1;
	left = size - 1;
	for (v = 0; v < FV__MAX; v++) {
		if ((nul = memchr(p, '\0', left)) == NULL)
			break;
		if (nul > p)
			fuzz_env_set((enum fuzz_var)v, (const char *)p, (size_t)(nul - p));
		left -= (size_t)(nul - p) + 1;
		p = nul + 1;
	}
	fuzz_serve(v == FV__MAX ? p : (const uint8_t *)"", v == FV__MAX ? left : 0);
	return 0;
}
