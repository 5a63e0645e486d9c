/*
 * constant.c: the HTTP stack's own cost (H of the bench).  Answers every
 * request with a fixed JSON body, as FastCGI under lighttpd or as CGI,
 * through the same libfcgi stdio layer the service's programs use; it
 * reads no input and touches no database.
 */
#include <fcgi_stdio.h>

int
main(void)
{
	/* Not const: FCGI_fwrite takes a non-const pointer; it only reads. */
	static char answer[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 16\r\n"
	    "\r\n"
	    "{\"status\": \"ok\"}";

	while (FCGI_Accept() >= 0)
		fwrite(answer, 1, sizeof(answer) - 1, stdout);
	return 0;
}
