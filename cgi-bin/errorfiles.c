/*
 * ticket-errorfiles DIR: writes DIR/api-error-NNN.html, the JSON error
 * bodies lighttpd serves for the errors it answers itself before any
 * program runs (server.errorfile-prefix = "DIR/api-error-").  They come
 * from the table the programs answer with (errors.c), so both say the
 * same.  Each file is written beside its place and renamed into it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "extern.h"

static int
write_file(const char *dir, int status, const char *body)
{
	char	 path[4096], tmp[4096 + 8];
	FILE	*f;
	int	 n;

	n = snprintf(path, sizeof(path), "%s/api-error-%d.html", dir, status);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "ticket-errorfiles: %s: path too long\n", dir);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		fprintf(stderr, "ticket-errorfiles: %s: %s\n", tmp,
		    strerror(errno));
		return -1;
	}
	n = fwrite(body, 1, strlen(body), f) == strlen(body);
	if (fclose(f) != 0 || !n || rename(tmp, path) != 0) {
		fprintf(stderr, "ticket-errorfiles: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	char	*body;
	size_t	 i;
	int	 status;

	if (argc != 2 || argv[1][0] == '\0') {
		fprintf(stderr, "usage: ticket-errorfiles DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "ticket-errorfiles: %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	for (i = 0; (body = tk_error_file(i, &status)) != NULL; i++) {
		if (write_file(argv[1], status, body) != 0) {
			free(body);
			return 1;
		}
		free(body);
	}
	if (status != 0) {
		fprintf(stderr, "ticket-errorfiles: out of memory\n");
		return 1;
	}
	return 0;
}
