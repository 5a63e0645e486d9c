/*
 * db.c: the one database connection of a process and the call of one
 * api.* function.  Every value is a text parameter; no SQL is ever made
 * from request text.  As FastCGI the connection lives across requests:
 * statements are prepared once per connection, a connection the server
 * closed is replaced before the next call, and a call that meets a dead
 * connection fails with a class 08 SQLSTATE (503), never retried.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "extern.h"

#define SQL_MAX		160

struct tk_db {
	PGconn		*conn;
	char		*conninfo;
	int		 prepare;	/* named prepared statements (not via pgbouncer) */
	int		 timeout_ms;	/* statement_timeout, 0 to leave it */
	unsigned char	 prepared[TK_STMT__MAX];
	char		 sql[TK_STMT__MAX][SQL_MAX];
	char		 name[TK_STMT__MAX][32];
};

static void
notice(void *arg, const char *message)
{
	(void)arg;
	tk_log("database notice: %s", message);
}

struct tk_db *
tk_db_new(const char *conninfo, int prepare, int timeout_ms)
{
	struct tk_db	*db;
	size_t		 len;
	int		 s, i;

	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->conninfo = strdup(conninfo != NULL ? conninfo : "")) == NULL) {
		free(db);
		return NULL;
	}
	db->prepare = prepare;
	db->timeout_ms = timeout_ms;
	/* SELECT status, body::text, retry_after FROM api.f($1, $2) */
	for (s = 0; s < TK_STMT__MAX; s++) {
		len = (size_t)snprintf(db->sql[s], SQL_MAX, "SELECT status, "
		    "body::text, retry_after FROM api.%s(", tk_stmts[s].function);
		for (i = 1; i <= tk_stmts[s].nparams; i++)
			len += (size_t)snprintf(db->sql[s] + len, SQL_MAX - len,
			    "%s$%d", i > 1 ? ", " : "", i);
		snprintf(db->sql[s] + len, SQL_MAX - len, ")");
		snprintf(db->name[s], sizeof(db->name[s]), "tk_%s",
		    tk_stmts[s].function);
	}
	return db;
}

void
tk_db_free(struct tk_db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

/*
 * Is the idle connection still there?  A server that shut down has sent
 * a FATAL message and closed the socket: reading shows it.
 */
static int
idle_alive(PGconn *conn)
{
	struct pollfd	 pfd;
	int		 i;

	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	for (i = 0; i < 4; i++) {
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) <= 0)
			break;
		if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK)
			return 0;
	}
	return PQstatus(conn) == CONNECTION_OK;
}

static int
connect_db(struct tk_db *db)
{
	static const char *const keys[] = { "connect_timeout",
	    "client_encoding", "fallback_application_name", "dbname", NULL };
	const char	*vals[] = { "5", "UTF8", "ticket-cgi", db->conninfo, NULL };
	const char	*timeout[1];
	char		 ms[32];
	PGresult	*res;

	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
		if (idle_alive(db->conn))
			return 1;
		tk_log("database connection lost, reconnecting");
	}
	PQfinish(db->conn);
	memset(db->prepared, 0, sizeof(db->prepared));
	/* The connection string may override the three before it. */
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(db->conn) != CONNECTION_OK)
		return 0;
	PQsetNoticeProcessor(db->conn, notice, NULL);
	if (db->timeout_ms > 0) {
		/* An overload answers 503 instead of hanging. */
		snprintf(ms, sizeof(ms), "%d", db->timeout_ms);
		timeout[0] = ms;
		res = PQexecParams(db->conn, "SELECT set_config("
		    "'statement_timeout', $1, false)", 1, NULL, timeout,
		    NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			tk_log("statement_timeout: %s", PQerrorMessage(db->conn));
		PQclear(res);
	}
	return PQstatus(db->conn) == CONNECTION_OK;
}

/* An error without a result: SQLSTATE and message of our own. */
static int
fail(struct tk_db *db, struct tk_dbres *res, const char *state,
    const char *what)
{
	static char	 msg[256];
	const char	*why = db != NULL && db->conn != NULL ?
			    PQerrorMessage(db->conn) : "";
	size_t		 n;

	snprintf(msg, sizeof(msg), "%s%s%s", what, *why ? ": " : "", why);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	snprintf(res->sqlstate, sizeof(res->sqlstate), "%s", state);
	res->message = msg;
	return -1;
}

/* An error result: its fields stay valid until tk_dbres_clear. */
static int
failed(struct tk_db *db, struct tk_dbres *res, PGresult *pg)
{
	const char	*state;

	if (pg == NULL)
		return fail(db, res, "08006", "no result");
	state = PQresultErrorField(pg, PG_DIAG_SQLSTATE);
	if (state == NULL) {
		PQclear(pg);
		return fail(db, res, PQstatus(db->conn) == CONNECTION_BAD ?
		    "08006" : "XX000", "query failed");
	}
	res->pg = pg;
	snprintf(res->sqlstate, sizeof(res->sqlstate), "%s", state);
	res->message = PQresultErrorField(pg, PG_DIAG_MESSAGE_PRIMARY);
	res->detail = PQresultErrorField(pg, PG_DIAG_MESSAGE_DETAIL);
	res->hint = PQresultErrorField(pg, PG_DIAG_MESSAGE_HINT);
	res->constraint = PQresultErrorField(pg, PG_DIAG_CONSTRAINT_NAME);
	return -1;
}

/*
 * Calls api.<function>(params...).  Returns 0 with the reply row in res,
 * or -1 with res->sqlstate set.  res is cleared first.
 */
int
tk_db_call(struct tk_db *db, enum tk_stmt s, const char *const *params,
    struct tk_dbres *res)
{
	PGresult	*pg;
	int		 n = tk_stmts[s].nparams;

	tk_dbres_clear(res);
	if (db == NULL)
		return fail(db, res, "08001", "no database handle");
	if (!connect_db(db))
		return fail(db, res, "08001", "cannot connect to the database");
	if (db->prepare && !db->prepared[s]) {
		pg = PQprepare(db->conn, db->name[s], db->sql[s], n, NULL);
		if (PQresultStatus(pg) != PGRES_COMMAND_OK)
			return failed(db, res, pg);
		PQclear(pg);
		db->prepared[s] = 1;
	}
	if (db->prepare)
		pg = PQexecPrepared(db->conn, db->name[s], n, params, NULL,
		    NULL, 0);
	else
		pg = PQexecParams(db->conn, db->sql[s], n, NULL, params, NULL,
		    NULL, 0);
	if (PQresultStatus(pg) != PGRES_TUPLES_OK)
		return failed(db, res, pg);
	res->pg = pg;
	if (PQntuples(pg) != 1 || PQnfields(pg) != 3 || PQgetisnull(pg, 0, 0)) {
		snprintf(res->sqlstate, sizeof(res->sqlstate), "XX000");
		res->message = "api function did not return one api.reply row";
		return -1;
	}
	res->status = atoi(PQgetvalue(pg, 0, 0));
	res->body = PQgetisnull(pg, 0, 1) ? NULL : PQgetvalue(pg, 0, 1);
	res->retry_after = PQgetisnull(pg, 0, 2) ? -1 :
	    atoi(PQgetvalue(pg, 0, 2));
	return 0;
}

void
tk_dbres_clear(struct tk_dbres *res)
{
	PQclear(res->pg);
	memset(res, 0, sizeof(*res));
	res->retry_after = -1;
}
