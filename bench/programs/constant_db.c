/*
 * constant_db.c: what starting a CGI program that links libpq costs.
 * Connects with TICKET_DBURL (through pgbouncer, as the service's CGI
 * programs do), then answers a fixed JSON body; 503 when it cannot
 * connect, so a broken setup cannot pass for a fast one.
 */
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

int
main(void)
{
	const char	*dburl = getenv("TICKET_DBURL");
	PGconn		*conn = PQconnectdb(dburl != NULL ? dburl : "");
	int		 ok = PQstatus(conn) == CONNECTION_OK;

	PQfinish(conn);
	if (!ok) {
		fputs("Status: 503 Service Unavailable\r\n"
		    "Content-Type: application/json; charset=utf-8\r\n\r\n"
		    "{\"error\": {\"code\": \"DATABASE_UNAVAILABLE\", "
		    "\"message\": \"cannot connect\", \"details\": null, "
		    "\"hint\": null}}", stdout);
		return 0;
	}
	fputs("Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 16\r\n"
	    "\r\n"
	    "{\"status\": \"ok\"}", stdout);
	return 0;
}
