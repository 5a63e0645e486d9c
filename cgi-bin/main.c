/*
 * main.c: the accept loop every program runs.  As CGI it serves one
 * request; as FastCGI, one after another on one database connection.
 * Per request: read, serve (gate, one call), send, then note an
 * error answer for the metrics, then free everything the request made.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* Settings come from the process environment, before FCGI_Accept. */
static int
env_int(const char *name, int dflt)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? atoi(v) : dflt;
}

/* Counts error answers in the database; its failure is ignored. */
static void
note_error(struct tk_db *db, enum tk_code code)
{
	struct tk_dbres	 res;
	const char	*params[1] = { tk_codes[code].name };

	memset(&res, 0, sizeof(res));
	tk_db_call(db, TK_STMT_NOTE_ERROR, params, &res);
	tk_dbres_clear(&res);
}

int
tk_main(enum tk_program prog)
{
	static struct tk_req	 r;	/* 20 KiB: not on the stack */
	struct tk_db		*db;

	signal(SIGPIPE, SIG_IGN);
	/*
	 * TICKET_DB_PREPARE=0 turns off named prepared statements, which
	 * pgbouncer's transaction pooling cannot keep; as CGI a statement
	 * is used once and is never worth preparing.
	 */
	/*
	 * TICKET_STATEMENT_TIMEOUT (ms) is set on each connection of a
	 * FastCGI program.  As CGI, through pgbouncer, a session setting
	 * would outlive the request on a pooled server connection: the
	 * database role's own statement_timeout holds there (0: leave it).
	 */
	db = tk_db_new(getenv("TICKET_DBURL"),
	    env_int("TICKET_DB_PREPARE", !tk_io_is_cgi()),
	    env_int("TICKET_STATEMENT_TIMEOUT", tk_io_is_cgi() ? 0 : 5000));
	if (db == NULL) {
		tk_log("out of memory");
		return 1;
	}
	while (tk_io_accept() >= 0) {
		tk_req_init(&r, db);
		tk_req_from_env(&r);
		if (r.method == TK_POST)
			tk_io_read_body(&r);
		tk_serve(&r, prog);
		if (tk_io_send(&r.reply) != 0)
			tk_log("%s %s: answer not sent", r.method_name, r.path);
		tk_io_finish();
		if (r.reply.status >= 400 && r.reply.code < TK_CODE__MAX &&
		    r.reply.code != TK_DATABASE_UNAVAILABLE)
			note_error(db, r.reply.code);
		tk_req_free(&r);
	}
	tk_db_free(db);
	return 0;
}
