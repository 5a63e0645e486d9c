/*
 * io.c: the only file that sees libfcgi's stdio layer, so the same
 * binary serves one request as CGI or many as FastCGI.  fcgi_stdio.h
 * redefines FILE, stdin, stdout and printf, and must come last.
 */
#include "extern.h"

#include <fcgiapp.h>
#include <fcgi_stdio.h>

int
tk_io_accept(void)
{
	return FCGI_Accept();
}

int
tk_io_is_cgi(void)
{
	return FCGX_IsCGI();
}

/* Reads the body into r->bodybuf; a body over the limit is drained. */
void
tk_io_read_body(struct tk_req *r)
{
	char	 sink[4096];
	size_t	 want, got = 0, n;

	if (r->body_too_large) {
		/* Read it all so the server is not left writing to us. */
		while (fread(sink, 1, sizeof(sink), stdin) > 0)
			continue;
		return;
	}
	if (r->content_length <= 0)
		return;
	want = (size_t)r->content_length;
	while (got < want) {
		n = fread(r->bodybuf + got, 1, want - got, stdin);
		if (n == 0)
			break;
		got += n;
	}
	r->bodybuf[got] = '\0';
	r->body = r->bodybuf;
	r->bodylen = got;
}

int
tk_io_send(const struct tk_reply *p)
{
	char	 head[512];
	size_t	 n;

	if ((n = tk_reply_head(p, head, sizeof(head))) == 0)
		return -1;
	if (fwrite(head, 1, n, stdout) != n)
		return -1;
	/* FCGI_fwrite takes a non-const pointer; it only reads. */
	if (p->content_type != NULL && p->bodylen > 0 &&
	    fwrite((char *)p->body, 1, p->bodylen, stdout) != p->bodylen)
		return -1;
	if (FCGX_IsCGI())
		return fflush(stdout) == 0 ? 0 : -1;
	/*
	 * The answer, the end of its stream and the end of the request in
	 * one write: lighttpd has the whole answer by its Content-Length and
	 * closes the connection at once, so a second write of the end
	 * records would only meet EPIPE.  The last stream closed sends
	 * FCGI_END_REQUEST; stderr (never written) goes first.
	 */
	FCGX_FClose(FCGI_stderr->fcgx_stream);
	return FCGX_FClose(FCGI_stdout->fcgx_stream) == 0 ? 0 : -1;
}

/*
 * Ends the answer so the client has it while we note an error.  As CGI
 * closing stdout ends the response; FCGI_Accept will not run again.
 * As FastCGI it closes the connection (the streams are closed already).
 */
void
tk_io_finish(void)
{
	if (FCGX_IsCGI())
		fclose(stdout);
	else
		FCGI_Finish();
}
