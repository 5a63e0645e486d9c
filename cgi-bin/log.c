/*
 * log.c: one line to the real stderr, which lighttpd keeps in its
 * server.breakagelog in both modes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "extern.h"

int	 tk_log_quiet;	/* set by the unit tests, whose failures say enough */

void
tk_log(const char *fmt, ...)
{
	char	 line[1024], *p;
	va_list	 ap;
	int	 n;

	if (tk_log_quiet)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* libpq's messages span lines: keep one entry on one line. */
	for (p = line; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	fprintf(stderr, "ticket[%d]: %s\n", (int)getpid(), line);
	fflush(stderr);
}
