/*
 * fake_db.c: stands in for db.c in the unit tests.  It records the call
 * and returns the scripted reply row or error, by default 200 {"ok": true}.
 */
#include <stdlib.h>
#include <string.h>

#include "tk_test.h"

struct tk_db {
	int	 unused;
};

struct fake_call fake_last;

static struct {
	int		 error;
	int		 status;
	const char	*body;
	int		 retry_after;
	const char	*sqlstate, *message, *detail, *hint;
} script;

void
fake_db_reset(void)
{
	int	 i;

	for (i = 0; i < TK_PARAMS_MAX; i++)
		free(fake_last.params[i]);
	memset(&fake_last, 0, sizeof(fake_last));
	memset(&script, 0, sizeof(script));
	fake_db_reply(200, "{\"ok\": true}", -1);
}

void
fake_db_reply(int status, const char *body, int retry_after)
{
	script.error = 0;
	script.status = status;
	script.body = body;
	script.retry_after = retry_after;
}

void
fake_db_error(const char *sqlstate, const char *message, const char *detail,
    const char *hint)
{
	script.error = 1;
	script.sqlstate = sqlstate;
	script.message = message;
	script.detail = detail;
	script.hint = hint;
}

const char *
fake_param(int i)
{
	return fake_last.params[i];
}

struct tk_db *
tk_db_new(const char *conninfo, int prepare, int timeout_ms)
{
	(void)conninfo;
	(void)prepare;
	(void)timeout_ms;
	return calloc(1, sizeof(struct tk_db));
}

void
tk_db_free(struct tk_db *db)
{
	free(db);
}

int
tk_db_call(struct tk_db *db, enum tk_stmt s, const char *const *params,
    struct tk_dbres *res)
{
	int	 i;

	(void)db;
	tk_dbres_clear(res);
	for (i = 0; i < TK_PARAMS_MAX; i++) {
		free(fake_last.params[i]);
		fake_last.params[i] = NULL;
	}
	fake_last.calls++;
	fake_last.stmt = s;
	fake_last.nparams = tk_stmts[s].nparams;
	for (i = 0; i < tk_stmts[s].nparams && i < TK_PARAMS_MAX; i++)
		if (params[i] != NULL)
			fake_last.params[i] = strdup(params[i]);
	if (script.error) {
		strcpy(res->sqlstate, script.sqlstate);
		res->message = script.message;
		res->detail = script.detail;
		res->hint = script.hint;
		return -1;
	}
	res->status = script.status;
	res->body = script.body;
	res->retry_after = script.retry_after;
	return 0;
}

void
tk_dbres_clear(struct tk_dbres *res)
{
	memset(res, 0, sizeof(*res));
	res->retry_after = -1;
}
