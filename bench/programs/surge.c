/*
 * surge.c: the sale-open surge benchmark.
 *
 * N virtual users arrive within a few seconds at one concert's waiting
 * room, poll it at the pace the server asks (Retry-After), and once
 * admitted list the dates, look at a seat map, take --think seconds on
 * average (3) to choose, hold one seat and pay.  After the sell-out the
 * waiting room is a waiting list: users told SOLD_OUT keep polling.
 *
 * With --refunds F, the sale ends with a refund wave: once it is sold out
 * and nobody is admitted any more, a share F of the buyers refund, at
 * random moments over --refund-spread seconds (10), while the waiting
 * list polls; the run ends when every refunded seat is sold again (to
 * whoever the server admits: the waiting list, in order, is the server's
 * promise, checked in SQL afterwards).  Without it, the run ends at the
 * sell-out, once nobody is admitted.
 *
 * With --opens-at T (the sale's opening, seconds since the epoch), the
 * users may arrive before it: they join a pre-queue (PRE_QUEUE, no
 * position) and come back at the Retry-After the server gives, which
 * should be shortly after the opening.  The driver reports when each of
 * them first saw a place in line, counted from the opening, and the
 * run does not end before every one of them has.
 * It measures what those users see: a latency counts from the moment
 * the request was due, so time spent waiting for a free connection in
 * the driver is part of it (no coordinated omission), and the driver's
 * own wait is reported beside it so a saturated driver shows.
 *
 * One thread: libcurl's multi interface over kept-alive HTTP/1.1
 * connections, at most --connections requests in flight; requests that
 * fall due while all are busy wait in due order.  Joins take at most
 * --join-connections of them (half by default): a browser already in
 * line polls on a connection of its own, and newcomers' joins cannot
 * hold it up in the driver, only at the server.  JSON with jansson.
 * Prints one JSON report on stdout and a progress line on stderr every
 * second.  Exit 0 when the run completed (the caller judges the errors),
 * 2 on a usage error, 1 when it could not run or was interrupted.
 *
 *   surge --url http://127.0.0.1:8080 --concert 1 --users keys.txt \
 *       [--count N] [--arrive S] [--connections N] [--join-connections N]
 *       [--seats N] [--max-seconds S] [--think S]
 *       [--refunds F] [--refund-spread S] [--opens-at EPOCH]
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#define SURGE_TIMEOUT_S		30	/* per request: beyond it, an error */
#define SURGE_CRED_MAX		256	/* API key and queue token (docs/api.md) */
#define SURGE_BODY_MAX		(4 << 20)	/* an answer larger is an error */
#define SURGE_CONFLICTS_MAX	5	/* 409s in a row before a new date */
#define SURGE_SHOW_MAX		5	/* unexpected answers printed in full */
#define SURGE_STATUS_MAX	600	/* HTTP statuses counted one by one */
#define SURGE_ST_TIMEOUT	SURGE_STATUS_MAX	/* slot: timed out */
#define SURGE_ST_TRANSPORT	(SURGE_STATUS_MAX + 1)	/* slot: other failure */
#define SURGE_ST__MAX		(SURGE_STATUS_MAX + 2)

/* The calls a user makes, in the order of a purchase. */
enum call {
	CALL_JOIN,	/* POST /api/concerts/{id}/queue */
	CALL_POLL,	/* GET /api/queue */
	CALL_DATES,	/* GET /api/concerts/{id}/dates */
	CALL_SEATS,	/* GET /api/concerts/{id}/dates/{date}/seats */
	CALL_HOLD,	/* POST /api/reservations */
	CALL_PAY,	/* POST /api/reservations/{id}/payment */
	CALL_LEAVE,	/* DELETE /api/queue */
	CALL_REFUND,	/* POST /api/reservations/{id}/refund */
	CALL__MAX
};

struct calldef {
	const char	*name;		/* in the report */
	const char	*method;
	int		 key;		/* sends Authorization */
	int		 token;		/* sends X-Queue-Token */
};

static const struct calldef calls[CALL__MAX] = {
	{ "join",  "POST",   1, 0 },	/* CALL_JOIN */
	{ "poll",  "GET",    0, 1 },	/* CALL_POLL */
	{ "dates", "GET",    1, 1 },	/* CALL_DATES */
	{ "seats", "GET",    1, 1 },	/* CALL_SEATS */
	{ "hold",  "POST",   1, 1 },	/* CALL_HOLD */
	{ "pay",   "POST",   1, 1 },	/* CALL_PAY */
	{ "leave", "DELETE", 0, 1 },	/* CALL_LEAVE */
	{ "refund", "POST",  1, 0 },	/* CALL_REFUND */
};

/* How a user's visit ended; OUT_NONE at the end is "unfinished". */
enum outcome {
	OUT_NONE,
	OUT_BOUGHT,		/* holds a seat at the end */
	OUT_REFUNDED,		/* bought, then refunded in the wave */
	OUT_WAITING_LIST,	/* still on the waiting list at the end */
	OUT_SOLD_OUT,		/* admitted, found no seat left, left */
	OUT_LOST_TURN,
	OUT_ERROR,
	OUT__MAX
};

static const char *const outcomes[OUT__MAX] = {
	"unfinished", "bought", "refunded", "waiting_list", "sold_out",
	"lost_turn", "error",
};

/* Where a user is, for the progress line. */
enum phase {
	PHASE_ARRIVING,		/* join not answered yet */
	PHASE_WAITING,		/* in line or on the waiting list */
	PHASE_ADMITTED,
	PHASE_DONE,
	PHASE__MAX
};

/* Command-line options, all `--name value`. */
enum opt {
	OPT_URL,
	OPT_CONCERT,
	OPT_USERS,
	OPT_COUNT,
	OPT_ARRIVE,
	OPT_CONNECTIONS,
	OPT_JOIN_CONNECTIONS,
	OPT_SEATS,
	OPT_MAX_SECONDS,
	OPT_THINK,
	OPT_REFUNDS,
	OPT_REFUND_SPREAD,
	OPT_OPENS_AT,
	OPT__MAX
};

static const char *const opts[OPT__MAX] = {
	"url", "concert", "users", "count", "arrive", "connections",
	"join-connections", "seats", "max-seconds", "think", "refunds",
	"refund-spread", "opens-at",
};

struct user {
	char		*key;
	char		*token;		/* once joined */
	char		 date[16];	/* the date being looked at */
	char		 resid[32];	/* the reservation being paid */
	json_int_t	 seat;		/* the seat being held */
	enum call	 next;		/* what it does when due */
	double		 due;		/* seconds since the start */
	enum phase	 phase;
	enum outcome	 outcome;
	int		 conflicts;	/* 409s in a row on hold */
	int		 listed;	/* its last answer was SOLD_OUT */
	int		 was_listed;	/* was ever told SOLD_OUT */
	int		 pre_queue;	/* was told PRE_QUEUE */
	int		 placed;	/* ... and has seen a place in line since */
};

/* A seat refunded in the wave, until it is sold again. */
enum refund_state {
	REFUND_ASKED,		/* the refund is due or in flight */
	REFUND_DONE,		/* the seat is back on sale */
	REFUND_FAILED,		/* an unexpected answer: no seat came back */
	REFUND_RESOLD
};

struct refund {
	char		 date[16];
	json_int_t	 seat;
	double		 due;		/* when the user asked */
	enum refund_state state;
};

/* A growable array of samples in milliseconds, sorted for the report. */
struct samples {
	double		*v;
	size_t		 n, cap;
};

struct callstat {
	struct samples	 latency;	/* answer - due */
	struct samples	 wait;		/* handed to curl - due */
	struct samples	 flight;	/* answer - handed to curl */
	unsigned long	 status[SURGE_ST__MAX];
	unsigned long	 count;
	unsigned long	 unexpected;
};

/* A user due at a time; ties keep the order they were scheduled in. */
struct due {
	double		 at;
	unsigned long	 seq;
	size_t		 user;
};

struct heap {
	struct due	*v;
	size_t		 n, cap;
};

struct buf {
	char		*v;
	size_t		 n, cap;
};

/* One request slot: an easy handle and what its request is about. */
struct xfer {
	CURL			*easy;
	struct curl_slist	*headers;
	char			*send;		/* request body, if any */
	struct buf		 in;		/* answer body */
	size_t			 user;
	enum call		 call;
	double			 due;
	double			 handed;	/* to curl */
	int			 busy;
	char			 err[CURL_ERROR_SIZE];
};

struct surge {
	/* settings */
	const char	*url;		/* no trailing slash */
	const char	*concert;
	json_int_t	 concert_id;
	double		 arrive;
	long		 conns;
	long		 join_conns;	/* of conns, the most joins may use */
	long		 seats;		/* 0: not given */
	double		 max_s;
	double		 think;		/* mean seconds from seat map to hold */
	double		 refund_share;	/* of the buyers, 0: no wave */
	double		 refund_spread;	/* seconds the refunds are spread over */
	int		 opens;		/* --opens-at was given */
	double		 opening;	/* the sale's opening, s since the start */
	/* state */
	struct user	*users;
	size_t		 nusers;
	struct heap	 heap;		/* due calls of users in line */
	struct heap	 arrivals;	/* due joins */
	long		 joins_busy;	/* joins in flight */
	struct xfer	*xfers;
	size_t		*idle;		/* free request slots */
	size_t		 nidle;
	CURLM		*multi;
	double		 t0;		/* monotonic seconds at the start */
	double		 r0;		/* and the same moment in epoch seconds */
	unsigned long	 seq;
	uint64_t	 rng;
	/* results */
	struct callstat	 stats[CALL__MAX];
	size_t		 phases[PHASE__MAX];
	size_t		 outcomes[OUT__MAX];
	size_t		 joined;	/* joins answered with a token */
	unsigned long	 requests;
	unsigned long	 unexpected;
	size_t		 sale_paid;	/* payments before the wave */
	double		 first_pay, last_pay;	/* -1 before any, before the wave */
	double		 sold_out_seen;	/* first SOLD_OUT answer, -1 before */
	size_t		 listed;	/* users whose last answer was SOLD_OUT */
	/* the opening (--opens-at) */
	size_t		 pre_queued;	/* users told PRE_QUEUE */
	size_t		 unplaced;	/* ... not placed yet and not done */
	size_t		 joined_open;	/* joins answered after the opening */
	struct samples	 placed;	/* opening -> first place seen, s */
	struct samples	 open_polls;	/* latency of polls due after the opening */
	/* the refund wave */
	double		 wave_at;	/* -1 before it starts */
	size_t		 wave_list;	/* users waiting when it started */
	struct refund	*refunds;
	size_t		 nrefunds;
	size_t		 refunded;	/* refunds answered 200 */
	size_t		 resold;	/* refunded seats sold again */
	size_t		 resold_by_list;	/* ... to users told SOLD_OUT before */
	size_t		 other_sales;	/* wave sales of seats nobody refunded */
	double		 last_resale;
	struct samples	 resale;	/* refund asked -> seat paid again, s */
	struct samples	 wave_polls;	/* latency of polls due in the wave */
};

static volatile sig_atomic_t stop_signal;

/* ---------------------------------------------------------- helpers */

static _Noreturn void
die(const char *what)
{
	fprintf(stderr, "surge: %s\n", what);
	exit(1);
}

static void *
xrealloc(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		die("out of memory");
	if ((p = realloc(p, n * size)) == NULL && n * size != 0)
		die("out of memory");
	return p;
}

static char *
xstrdup(const char *s)
{
	char	*p = strdup(s);

	if (p == NULL)
		die("out of memory");
	return p;
}

static double
monotonic(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Epoch seconds: only to place --opens-at on the run's own clock. */
static double
realtime(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds since the start: every time in the run is one of these. */
static double
elapsed(const struct surge *s)
{
	return monotonic() - s->t0;
}

/* splitmix64 from a fixed seed: two runs draw the same arrivals. */
static uint64_t
rng_next(uint64_t *st)
{
	uint64_t	 z = (*st += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
rng_unit(uint64_t *st)
{
	return (double)(rng_next(st) >> 11) / 9007199254740992.0;
}

/* Uniform in [0, n), n > 0. */
static size_t
rng_below(uint64_t *st, size_t n)
{
	size_t	 i = (size_t)(rng_unit(st) * (double)n);

	return i < n ? i : n - 1;
}

static void
samples_add(struct samples *sm, double v)
{
	if (sm->n == sm->cap) {
		sm->cap = sm->cap ? sm->cap * 2 : 1024;
		sm->v = xrealloc(sm->v, sm->cap, sizeof(*sm->v));
	}
	sm->v[sm->n++] = v;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
samples_sort(struct samples *sm)
{
	if (sm->n > 1)
		qsort(sm->v, sm->n, sizeof(*sm->v), cmp_double);
}

/* Nearest rank on sorted samples: the value p of them are at or under. */
static double
samples_pct(const struct samples *sm, double p)
{
	double	 rank = p * (double)sm->n;
	size_t	 i = (size_t)rank;

	if ((double)i < rank)
		i++;
	return sm->v[i > 0 ? i - 1 : 0];
}

static int
due_before(const struct due *a, const struct due *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
heap_push(struct heap *h, struct due d)
{
	struct due	 t;
	size_t		 i, up;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->v = xrealloc(h->v, h->cap, sizeof(*h->v));
	}
	for (i = h->n++, h->v[i] = d; i > 0; i = up) {
		up = (i - 1) / 2;
		if (!due_before(&h->v[i], &h->v[up]))
			break;
		t = h->v[i], h->v[i] = h->v[up], h->v[up] = t;
	}
}

static struct due
heap_pop(struct heap *h)
{
	struct due	 top = h->v[0], t;
	size_t		 i = 0, c;

	h->v[0] = h->v[--h->n];
	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && due_before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!due_before(&h->v[c], &h->v[i]))
			break;
		t = h->v[i], h->v[i] = h->v[c], h->v[c] = t;
		i = c;
	}
	return top;
}

/* A path segment the server gave us, safe to put back into a URL. */
static int
copy_segment(char *dst, size_t size, const char *src)
{
	size_t	 i;

	if (src == NULL || *src == '\0' || strlen(src) >= size)
		return -1;
	for (i = 0; src[i] != '\0'; i++)
		if (strchr("0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_", src[i]) == NULL)
			return -1;
	memcpy(dst, src, i + 1);
	return 0;
}

/* ---------------------------------------------------- the users' side */

static void
set_phase(struct surge *s, struct user *u, enum phase p)
{
	s->phases[u->phase]--;
	s->phases[p]++;
	u->phase = p;
}

static void
schedule(struct surge *s, size_t ui, enum call c, double at)
{
	struct due	 d = { at, s->seq++, ui };

	s->users[ui].next = c;
	s->users[ui].due = at;
	heap_push(c == CALL_JOIN ? &s->arrivals : &s->heap, d);
}

/* A refund changes the outcome of a user who had finished. */
static void
finish(struct surge *s, size_t ui, enum outcome o)
{
	struct user	*u = &s->users[ui];

	if (u->phase == PHASE_DONE)
		s->outcomes[u->outcome]--;
	else if (u->pre_queue && !u->placed)
		s->unplaced--;
	set_phase(s, u, PHASE_DONE);
	u->outcome = o;
	s->outcomes[o]++;
}

static void
set_listed(struct surge *s, struct user *u, int listed)
{
	s->listed += (size_t)listed - (size_t)u->listed;
	u->listed = listed;
	u->was_listed |= listed;
}

/*
 * Seconds to wait, as the server said: the Retry-After header, else the
 * retry_after of a 429's details, else 1 (never busy-loop on a server
 * that forgot to say).
 */
static double
retry_after(CURL *easy, json_t *body)
{
	struct curl_header	*h;
	json_t			*v;
	char			*end;
	long			 n;

	if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1,
	    &h) == CURLHE_OK) {
		n = strtol(h->value, &end, 10);
		if (end != h->value && n >= 0 && n <= 3600)
			return (double)n;
	}
	v = json_object_get(json_object_get(json_object_get(body, "error"),
	    "details"), "retry_after");
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= 3600)
		return (double)json_integer_value(v);
	return 1.0;
}

/* Join or poll: where the user stands in the waiting room. */
static int
on_queue(struct surge *s, struct xfer *x, json_t *body, double now)
{
	struct user	*u = &s->users[x->user];
	const char	*st, *token;

	st = json_string_value(json_object_get(body, "status"));
	token = json_string_value(json_object_get(body, "token"));
	if (st == NULL)
		return -1;
	if (u->token == NULL) {
		if (token == NULL || *token == '\0' ||
		    strlen(token) > SURGE_CRED_MAX)
			return -1;
		u->token = xstrdup(token);
		s->joined++;
	}
	if (strcmp(st, "PRE_QUEUE") == 0) {
		/* Before the opening: back when the server says. */
		if (!u->pre_queue) {
			u->pre_queue = 1;
			s->pre_queued++;
			s->unplaced++;
		}
		set_phase(s, u, PHASE_WAITING);
		schedule(s, x->user, CALL_POLL,
		    now + retry_after(x->easy, body));
		return 0;
	}
	if (u->pre_queue && !u->placed) {
		u->placed = 1;
		s->unplaced--;
		samples_add(&s->placed, now - s->opening);
	} else if (x->call == CALL_JOIN && s->opens &&
	    now >= s->opening)
		s->joined_open++;
	set_listed(s, u, strcmp(st, "SOLD_OUT") == 0);
	/* On the waiting list the token is live: it polls on, slowly. */
	if (strcmp(st, "WAITING") == 0 || strcmp(st, "SOLD_OUT") == 0) {
		if (u->listed && s->sold_out_seen < 0)
			s->sold_out_seen = now;
		set_phase(s, u, PHASE_WAITING);
		schedule(s, x->user, CALL_POLL,
		    now + retry_after(x->easy, body));
	} else if (strcmp(st, "ACTIVE") == 0) {
		set_phase(s, u, PHASE_ADMITTED);
		schedule(s, x->user, CALL_DATES, now);
	} else if (strcmp(st, "EXPIRED") == 0 || strcmp(st, "LEFT") == 0 ||
	    strcmp(st, "DONE") == 0)
		finish(s, x->user, OUT_LOST_TURN);
	else
		return -1;
	return 0;
}

/* No date left: give the turn back, as a polite browser would. */
static int
on_dates(struct surge *s, struct xfer *x, json_t *body, double now)
{
	struct user	*u = &s->users[x->user];
	json_t		*dates = json_object_get(body, "dates"), *d;

	if (!json_is_array(dates))
		return -1;
	if (json_array_size(dates) == 0) {
		schedule(s, x->user, CALL_LEAVE, now);
		return 0;
	}
	d = json_array_get(dates, rng_below(&s->rng, json_array_size(dates)));
	if (copy_segment(u->date, sizeof(u->date),
	    json_string_value(json_object_get(d, "date"))) == -1)
		return -1;
	schedule(s, x->user, CALL_SEATS, now);
	return 0;
}

static int
available(json_t *seat)
{
	const char	*st = json_string_value(json_object_get(seat, "status"));

	return st != NULL && strcmp(st, "AVAILABLE") == 0;
}

/* A random AVAILABLE seat; none (others were faster): the dates again. */
static int
on_seats(struct surge *s, struct xfer *x, json_t *body, double now)
{
	struct user	*u = &s->users[x->user];
	json_t		*seats = json_object_get(body, "seats"), *seat;
	json_t		*no = NULL;
	size_t		 i, navail = 0, pick;

	if (!json_is_array(seats))
		return -1;
	json_array_foreach(seats, i, seat)
		navail += available(seat);
	if (navail == 0) {
		schedule(s, x->user, CALL_DATES, now);
		return 0;
	}
	pick = rng_below(&s->rng, navail);
	json_array_foreach(seats, i, seat)
		if (available(seat) && pick-- == 0) {
			no = json_object_get(seat, "seat_no");
			break;
		}
	if (!json_is_integer(no))
		return -1;
	u->seat = json_integer_value(no);
	/* A person takes a moment to choose: its turn, and the slot, last that long. */
	schedule(s, x->user, CALL_HOLD, now + 2.0 * s->think * rng_unit(&s->rng));
	return 0;
}

static int
on_hold(struct surge *s, struct xfer *x, json_t *body, double now)
{
	struct user	*u = &s->users[x->user];
	json_t		*id = json_object_get(body, "reservation_id");
	char		 num[32];

	/* IDs are opaque: a number or a string, passed back as given. */
	if (json_is_integer(id)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(id));
		if (copy_segment(u->resid, sizeof(u->resid), num) == -1)
			return -1;
	} else if (copy_segment(u->resid, sizeof(u->resid),
	    json_string_value(id)) == -1)
		return -1;
	u->conflicts = 0;
	schedule(s, x->user, CALL_PAY, now);
	return 0;
}

/* 409 on a hold: someone was faster; after a few, try another date. */
static void
on_conflict(struct surge *s, struct xfer *x, double now)
{
	struct user	*u = &s->users[x->user];

	if (++u->conflicts >= SURGE_CONFLICTS_MAX) {
		u->conflicts = 0;
		schedule(s, x->user, CALL_DATES, now);
	} else
		schedule(s, x->user, CALL_SEATS, now);
}

/* The wave's refund of this seat, if it was refunded and not sold again. */
static struct refund *
refunded_seat(struct surge *s, const struct user *u)
{
	size_t	 i;

	for (i = 0; i < s->nrefunds; i++)
		if ((s->refunds[i].state == REFUND_ASKED ||
		    s->refunds[i].state == REFUND_DONE) &&
		    s->refunds[i].seat == u->seat &&
		    strcmp(s->refunds[i].date, u->date) == 0)
			return &s->refunds[i];
	return NULL;
}

/* In the wave, a sale is a refunded seat sold again. */
static int
on_pay(struct surge *s, struct xfer *x, json_t *body, double now)
{
	struct user	*u = &s->users[x->user];
	struct refund	*r;

	(void)body;
	if (s->wave_at < 0) {
		if (s->first_pay < 0)
			s->first_pay = now;
		s->last_pay = now;
		s->sale_paid++;
	} else if ((r = refunded_seat(s, u)) != NULL) {
		r->state = REFUND_RESOLD;
		samples_add(&s->resale, now - r->due);
		s->resold++;
		s->resold_by_list += u->was_listed;
		s->last_resale = now;
	} else
		s->other_sales++;
	finish(s, x->user, OUT_BOUGHT);
	return 0;
}

static int
on_refund(struct surge *s, struct xfer *x, json_t *body, double now)
{
	struct user	*u = &s->users[x->user];
	struct refund	*r = refunded_seat(s, u);
	const char	*st = json_string_value(json_object_get(body, "status"));

	(void)now;
	if (r == NULL || r->state != REFUND_ASKED || st == NULL ||
	    strcmp(st, "REFUNDED") != 0)
		return -1;
	r->state = REFUND_DONE;
	s->refunded++;
	finish(s, x->user, OUT_REFUNDED);
	return 0;
}

static int
on_leave(struct surge *s, struct xfer *x, json_t *body, double now)
{
	(void)body;
	(void)now;
	finish(s, x->user, OUT_SOLD_OUT);
	return 0;
}

typedef int (*on_answer)(struct surge *, struct xfer *, json_t *, double);

/* What a 2xx answer to each call leads to; -1 means its body was wrong. */
static const on_answer handlers[CALL__MAX] = {
	[CALL_JOIN] = on_queue,
	[CALL_POLL] = on_queue,
	[CALL_DATES] = on_dates,
	[CALL_SEATS] = on_seats,
	[CALL_HOLD] = on_hold,
	[CALL_PAY] = on_pay,
	[CALL_LEAVE] = on_leave,
	[CALL_REFUND] = on_refund,
};

/* Counted and shown, and the user stops: retrying forever hides a bug. */
static void
unexpected(struct surge *s, struct xfer *x, const char *what)
{
	struct refund	*r;

	s->stats[x->call].unexpected++;
	if (x->call == CALL_REFUND &&
	    (r = refunded_seat(s, &s->users[x->user])) != NULL)
		r->state = REFUND_FAILED;
	if (s->unexpected++ < SURGE_SHOW_MAX)
		fprintf(stderr, "surge: unexpected answer to %s of user %zu: "
		    "%s%s%.*s\n", calls[x->call].name, x->user, what,
		    x->in.n > 0 ? ": " : "",
		    (int)(x->in.n < 2000 ? x->in.n : 2000),
		    x->in.n > 0 ? x->in.v : "");
	finish(s, x->user, OUT_ERROR);
}

/* An HTTP answer: 2xx, 409 on a hold and 429 are expected. */
static void
answer(struct surge *s, struct xfer *x, long status, double now)
{
	json_t	*body = NULL;
	char	 what[64];

	if (x->in.n > 0)
		body = json_loadb(x->in.v, x->in.n, 0, NULL);
	snprintf(what, sizeof(what), "HTTP %ld", status);
	if (status == 429)
		schedule(s, x->user, x->call, now + retry_after(x->easy, body));
	else if (status == 409 && x->call == CALL_HOLD)
		on_conflict(s, x, now);
	else if (status < 200 || status > 299)
		unexpected(s, x, what);
	else if (handlers[x->call](s, x, body, now) == -1) {
		strncat(what, ", body not understood",
		    sizeof(what) - strlen(what) - 1);
		unexpected(s, x, what);
	}
	json_decref(body);
}

/* ---------------------------------------------------- the driver's side */

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct buf	*b = arg;

	n *= size;
	if (b->n + n + 1 > SURGE_BODY_MAX)
		return 0;	/* curl fails the transfer: an error */
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->v = xrealloc(b->v, b->cap, 1);
	}
	memcpy(b->v + b->n, data, n);
	b->n += n;
	b->v[b->n] = '\0';
	return n;
}

static void
add_header(struct xfer *x, const char *fmt, const char *value)
{
	char			 line[SURGE_CRED_MAX + 64];
	struct curl_slist	*l;

	snprintf(line, sizeof(line), fmt, value);
	if ((l = curl_slist_append(x->headers, line)) == NULL)
		die("out of memory");
	x->headers = l;
}

static char *
hold_body(const struct surge *s, const struct user *u)
{
	json_t	*j;
	char	*text;

	j = json_pack("{s:I, s:s, s:[I]}", "concert_id", s->concert_id,
	    "date", u->date, "seat_nos", u->seat);
	if (j == NULL || (text = json_dumps(j, JSON_COMPACT)) == NULL)
		die("out of memory");
	json_decref(j);
	return text;
}

/* The path, headers and body of the user's next call. */
static void
build(struct surge *s, struct xfer *x, char *url, size_t size)
{
	struct user	*u = &s->users[x->user];
	char		 idem[64];

	if (calls[x->call].key)
		add_header(x, "Authorization: Bearer %s", u->key);
	if (calls[x->call].token)
		add_header(x, "X-Queue-Token: %s", u->token);
	switch (x->call) {
	case CALL_JOIN:
		snprintf(url, size, "%s/api/concerts/%s/queue", s->url,
		    s->concert);
		break;
	case CALL_POLL:
	case CALL_LEAVE:
		snprintf(url, size, "%s/api/queue", s->url);
		break;
	case CALL_DATES:
		snprintf(url, size, "%s/api/concerts/%s/dates", s->url,
		    s->concert);
		break;
	case CALL_SEATS:
		snprintf(url, size, "%s/api/concerts/%s/dates/%s/seats",
		    s->url, s->concert, u->date);
		break;
	case CALL_HOLD:
		snprintf(url, size, "%s/api/reservations", s->url);
		x->send = hold_body(s, u);
		add_header(x, "Content-Type: %s", "application/json");
		break;
	case CALL_PAY:
		snprintf(url, size, "%s/api/reservations/%s/payment", s->url,
		    u->resid);
		/* Per concert: the same users buy again in the next sale. */
		snprintf(idem, sizeof(idem), "surge-%s-%zu", s->concert,
		    x->user);
		add_header(x, "Idempotency-Key: %s", idem);
		break;
	case CALL_REFUND:
		snprintf(url, size, "%s/api/reservations/%s/refund", s->url,
		    u->resid);
		snprintf(idem, sizeof(idem), "surge-refund-%s-%zu",
		    s->concert, x->user);
		add_header(x, "Idempotency-Key: %s", idem);
		break;
	case CALL__MAX:
		break;
	}
}

static void
set_method(struct xfer *x)
{
	const char	*m = calls[x->call].method;

	if (strcmp(m, "POST") == 0) {
		/* An empty POST must still say Content-Length: 0 (else 411). */
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS,
		    x->send != NULL ? x->send : "");
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE,
		    (long)(x->send != NULL ? strlen(x->send) : 0));
		/* Not curl's default form type on an empty body. */
		if (x->send == NULL)
			add_header(x, "%s", "Content-Type:");
	} else if (strcmp(m, "GET") != 0)
		curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, m);
}

static void
set_options(struct xfer *x, const char *url)
{
	CURL	*e = x->easy;

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)&x->in);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->err);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)SURGE_TIMEOUT_S);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* A proxy from the environment would measure the proxy. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "surge");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
}

/* Hands the user's due call to curl on a free slot. */
static void
start(struct surge *s, size_t ui, double now)
{
	struct user	*u = &s->users[ui];
	struct xfer	*x = &s->xfers[s->idle[--s->nidle]];
	char		 url[1024];

	x->busy = 1;
	x->user = ui;
	x->call = u->next;
	if (x->call == CALL_JOIN)
		s->joins_busy++;
	x->due = u->due;
	x->handed = now;
	x->in.n = 0;
	x->err[0] = '\0';
	samples_add(&s->stats[x->call].wait, (now - u->due) * 1000.0);
	curl_easy_reset(x->easy);
	build(s, x, url, sizeof(url));
	set_method(x);
	set_options(x, url);
	if (curl_multi_add_handle(s->multi, x->easy) != CURLM_OK)
		die("curl_multi_add_handle failed");
}

/* A join may start when due and under its share of the slots. */
static int
join_ready(const struct surge *s, double before)
{
	return s->arrivals.n > 0 && s->arrivals.v[0].at <= before &&
	    s->joins_busy < s->join_conns;
}

/* Due calls, earliest first, while a slot is free; users in line first. */
static void
dispatch(struct surge *s)
{
	double	 now = elapsed(s);

	while (s->nidle > 0) {
		if (s->heap.n > 0 && s->heap.v[0].at <= now)
			start(s, heap_pop(&s->heap).user, now);
		else if (join_ready(s, now))
			start(s, heap_pop(&s->arrivals).user, now);
		else
			break;
	}
}

static void
release(struct surge *s, struct xfer *x)
{
	curl_multi_remove_handle(s->multi, x->easy);
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	free(x->send);
	x->send = NULL;
	x->busy = 0;
	if (x->call == CALL_JOIN)
		s->joins_busy--;
	s->idle[s->nidle++] = (size_t)(x - s->xfers);
}

/* Which status slot a finished transfer counts under. */
static int
status_slot(CURLcode rc, long status)
{
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return SURGE_ST_TIMEOUT;
	if (rc != CURLE_OK || status < 100 || status >= SURGE_STATUS_MAX)
		return SURGE_ST_TRANSPORT;
	return (int)status;
}

static void
complete(struct surge *s, CURL *easy, CURLcode rc)
{
	struct xfer	*x;
	char		*priv;
	long		 status = 0;
	int		 slot;
	double		 now = elapsed(s);

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	x = (struct xfer *)(void *)priv;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	slot = status_slot(rc, status);
	s->requests++;
	s->stats[x->call].count++;
	s->stats[x->call].status[slot]++;
	samples_add(&s->stats[x->call].latency, (now - x->due) * 1000.0);
	samples_add(&s->stats[x->call].flight, (now - x->handed) * 1000.0);
	if (x->call == CALL_POLL && s->wave_at >= 0 && x->due >= s->wave_at)
		samples_add(&s->wave_polls, (now - x->due) * 1000.0);
	if (x->call == CALL_POLL && s->opens && x->due >= s->opening)
		samples_add(&s->open_polls, (now - x->due) * 1000.0);
	if (slot >= SURGE_STATUS_MAX)
		unexpected(s, x, x->err[0] != '\0' ? x->err :
		    curl_easy_strerror(rc));
	else
		answer(s, x, status, now);
	release(s, x);
}

static void
reap(struct surge *s)
{
	CURLMsg	*m;
	CURL	*easy;
	int	 left;

	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		/* m does not outlive the removal of its handle. */
		easy = m->easy_handle;
		complete(s, easy, m->data.result);
	}
}

struct ticker {
	double		 at;		/* next progress line */
	double		 last;		/* time of the previous one */
	unsigned long	 requests;	/* requests then */
};

static void
progress(struct surge *s, struct ticker *t, double now)
{
	double	 dt = now - t->last;

	fprintf(stderr, "[surge %.1fs] joined %zu/%zu waiting %zu (listed %zu) "
	    "admitted %zu bought %zu refunded %zu resold %zu done %zu "
	    "req/s %.0f unexpected %lu\n", now,
	    s->joined, s->nusers,
	    s->phases[PHASE_WAITING], s->listed, s->phases[PHASE_ADMITTED],
	    s->outcomes[OUT_BOUGHT], s->refunded, s->resold,
	    s->phases[PHASE_DONE],
	    dt > 0 ? (double)(s->requests - t->requests) / dt : 0.0,
	    s->unexpected);
	t->last = now;
	t->requests = s->requests;
	while (t->at <= now)
		t->at += 1.0;
}

/* How long curl may sleep: until the next due call, line or the end. */
static int
sleep_ms(const struct surge *s, const struct ticker *t, double now)
{
	double	 until = t->at, ms;

	if (s->nidle > 0 && s->heap.n > 0 && s->heap.v[0].at < until)
		until = s->heap.v[0].at;
	if (s->nidle > 0 && join_ready(s, until))
		until = s->arrivals.v[0].at;
	if (s->max_s < until)
		until = s->max_s;
	if ((ms = (until - now) * 1000.0) <= 0)
		return 0;
	return (int)ms + 1;	/* round up: waking early would spin */
}

/*
 * The wave: a share of the buyers, drawn at random, each refunds at a
 * random moment of the spread.
 */
static void
start_wave(struct surge *s, double now)
{
	size_t	*buyers, nbuyers = 0, want, i, j, t;

	buyers = xrealloc(NULL, s->nusers, sizeof(*buyers));
	for (i = 0; i < s->nusers; i++)
		if (s->users[i].outcome == OUT_BOUGHT)
			buyers[nbuyers++] = i;
	want = (size_t)(s->refund_share * (double)nbuyers + 0.5);
	s->refunds = xrealloc(NULL, want > 0 ? want : 1, sizeof(*s->refunds));
	s->wave_at = now;
	s->wave_list = s->phases[PHASE_WAITING];
	for (i = 0; i < want; i++) {
		/* A partial Fisher-Yates shuffle: buyers[i] is the i-th drawn. */
		j = i + rng_below(&s->rng, nbuyers - i);
		t = buyers[j], buyers[j] = buyers[i], buyers[i] = t;
		memcpy(s->refunds[i].date, s->users[t].date,
		    sizeof(s->refunds[i].date));
		s->refunds[i].seat = s->users[t].seat;
		s->refunds[i].state = REFUND_ASKED;
		s->refunds[i].due = now + s->refund_spread *
		    rng_unit(&s->rng);
		schedule(s, t, CALL_REFUND, s->refunds[i].due);
	}
	s->nrefunds = want;
	free(buyers);
}

/* Every refund answered, and every seat that came back sold again. */
static int
wave_over(const struct surge *s)
{
	size_t	 i;

	for (i = 0; i < s->nrefunds; i++)
		if (s->refunds[i].state == REFUND_ASKED ||
		    s->refunds[i].state == REFUND_DONE)
			return 0;
	return 1;
}

/*
 * The sale is over when the server said SOLD_OUT, every join was
 * answered and nobody is admitted any more: every seat is paid for.
 * Then the wave starts, or (without one) the run ends.
 */
static const char *
sale_state(struct surge *s, double now)
{
	if (s->wave_at >= 0)
		return wave_over(s) ? "refunds_resold" : NULL;
	if (s->sold_out_seen < 0 || s->phases[PHASE_ARRIVING] > 0 ||
	    s->phases[PHASE_ADMITTED] > 0 || s->unplaced > 0)
		return s->phases[PHASE_DONE] == s->nusers ? "done" : NULL;
	if (s->refund_share <= 0)
		return "sold_out";
	start_wave(s, now);
	return NULL;
}

/* The event loop; returns why it ended. */
static const char *
run(struct surge *s)
{
	struct ticker	 t = { 1.0, 0.0, 0 };
	int		 running;
	double		 now;
	const char	*over;

	for (;;) {
		dispatch(s);
		if (curl_multi_perform(s->multi, &running) != CURLM_OK)
			die("curl_multi_perform failed");
		reap(s);
		now = elapsed(s);
		if ((over = sale_state(s, now)) != NULL)
			return over;
		if (now >= s->max_s)
			return "max_seconds";
		if (stop_signal)
			return "signal";
		/* The next steps of answered users are due now. */
		dispatch(s);
		if (now >= t.at)
			progress(s, &t, now);
		if (curl_multi_poll(s->multi, NULL, 0, sleep_ms(s, &t, now),
		    NULL) != CURLM_OK)
			die("curl_multi_poll failed");
	}
}

/* ---------------------------------------------------------- the report */

/* Three decimals (ms to the microsecond, s to the ms): more are noise. */
static json_t *
num3(double v)
{
	return json_real((double)(long long)(v * 1000.0 + 0.5) / 1000.0);
}

/* A percentile of sorted samples, null when there are none. */
static json_t *
pct(const struct samples *sm, double p)
{
	return sm->n > 0 ? num3(samples_pct(sm, p)) : json_null();
}

static json_t *
call_report(struct callstat *c)
{
	json_t	*o, *st;
	char	 name[16];
	int	 i;

	samples_sort(&c->latency);
	samples_sort(&c->wait);
	samples_sort(&c->flight);
	st = json_object();
	for (i = 0; i < SURGE_ST__MAX; i++) {
		if (c->status[i] == 0)
			continue;
		if (i == SURGE_ST_TIMEOUT)
			strcpy(name, "timeout");
		else if (i == SURGE_ST_TRANSPORT)
			strcpy(name, "transport");
		else
			snprintf(name, sizeof(name), "%d", i);
		json_object_set_new(st, name, json_integer(
		    (json_int_t)c->status[i]));
	}
	o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o}",
	    "count", (json_int_t)c->count,
	    "p50_ms", pct(&c->latency, 0.50),
	    "p99_ms", pct(&c->latency, 0.99),
	    "max_ms", pct(&c->latency, 1.0),
	    "driver_wait_p99_ms", pct(&c->wait, 0.99),
	    "in_flight_p50_ms", pct(&c->flight, 0.50),
	    "in_flight_p99_ms", pct(&c->flight, 0.99),
	    "unexpected", (json_int_t)c->unexpected,
	    "status", st);
	if (o == NULL)
		die("out of memory");
	return o;
}

/* Sales rate between the first and the last payment of the sale. */
static json_t *
sales(const struct surge *s, json_t **sold_out_after)
{
	size_t	 bought = s->sale_paid;

	*sold_out_after = s->seats > 0 && bought == (size_t)s->seats ?
	    num3(s->last_pay) : json_null();
	if (bought < 2 || s->last_pay <= s->first_pay)
		return json_null();
	return num3((double)bought / (s->last_pay - s->first_pay));
}

/* The refund wave: null when there was none. */
static json_t *
wave_report(struct surge *s)
{
	json_t	*o;

	if (s->wave_at < 0)
		return json_null();
	samples_sort(&s->resale);
	samples_sort(&s->wave_polls);
	o = json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o,"
	    " s:I, s:o, s:o}",
	    "refund_share", num3(s->refund_share),
	    "started_s", num3(s->wave_at),
	    "waiting_list_at_start", (json_int_t)s->wave_list,
	    "refunds", (json_int_t)s->nrefunds,
	    "refunded", (json_int_t)s->refunded,
	    "resold", (json_int_t)s->resold,
	    "resold_to_waiting_list", (json_int_t)s->resold_by_list,
	    "other_sales", (json_int_t)s->other_sales,
	    "last_resale_s", s->resold > 0 ? num3(s->last_resale) :
	    json_null(),
	    "resale_p50_s", pct(&s->resale, 0.50),
	    "resale_p99_s", pct(&s->resale, 0.99),
	    "polls", (json_int_t)s->wave_polls.n,
	    "poll_p50_ms", pct(&s->wave_polls, 0.50),
	    "poll_p99_ms", pct(&s->wave_polls, 0.99));
	if (o == NULL)
		die("out of memory");
	return o;
}

/* The opening: null without --opens-at. */
static json_t *
opening_report(struct surge *s)
{
	json_t	*o;

	if (!s->opens)
		return json_null();
	samples_sort(&s->placed);
	samples_sort(&s->open_polls);
	o = json_pack("{s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:o, s:o}",
	    "opens_at_s", num3(s->opening),
	    "pre_queued", (json_int_t)s->pre_queued,
	    "placed", (json_int_t)s->placed.n,
	    "joined_after_opening", (json_int_t)s->joined_open,
	    "placed_p50_s", pct(&s->placed, 0.50),
	    "placed_p99_s", pct(&s->placed, 0.99),
	    "placed_max_s", pct(&s->placed, 1.0),
	    "sold_out_after_opening_s", s->seats > 0 &&
	    s->sale_paid == (size_t)s->seats ?
	    num3(s->last_pay - s->opening) : json_null(),
	    "polls", (json_int_t)s->open_polls.n,
	    "poll_p50_ms", pct(&s->open_polls, 0.50),
	    "poll_p99_ms", pct(&s->open_polls, 0.99));
	if (o == NULL)
		die("out of memory");
	return o;
}

static json_t *
report(struct surge *s, double end, const char *why)
{
	json_t	*o, *out, *cs, *sold_out_after, *rate;
	int	 i;

	out = json_object();
	for (i = OUT_NONE + 1; i < OUT__MAX; i++)
		json_object_set_new(out, outcomes[i],
		    json_integer((json_int_t)s->outcomes[i]));
	json_object_set_new(out, outcomes[OUT_NONE], json_integer(
	    (json_int_t)(s->nusers - s->phases[PHASE_DONE])));
	cs = json_object();
	for (i = 0; i < CALL__MAX; i++)
		json_object_set_new(cs, calls[i].name,
		    call_report(&s->stats[i]));
	rate = sales(s, &sold_out_after);
	o = json_pack("{s:I, s:I, s:o, s:o, s:I, s:I, s:o, s:o, s:s, s:o, s:I, s:o,"
	    " s:o, s:o, s:o, s:I, s:o, s:o, s:o}",
	    "users", (json_int_t)s->nusers,
	    "joined", (json_int_t)s->joined,
	    "arrive_s", num3(s->arrive),
	    "think_s", num3(s->think),
	    "connections", (json_int_t)s->conns,
	    "join_connections", (json_int_t)s->join_conns,
	    "seats", s->seats > 0 ? json_integer(s->seats) : json_null(),
	    "duration_s", num3(end),
	    "stopped_by", why,
	    "outcomes", out,
	    "unexpected_errors", (json_int_t)s->unexpected,
	    "seats_per_second", rate,
	    "sold_out_after_s", sold_out_after,
	    "first_payment_s", s->first_pay >= 0 ?
	    num3(s->first_pay) : json_null(),
	    "last_payment_s", s->first_pay >= 0 ?
	    num3(s->last_pay) : json_null(),
	    "requests", (json_int_t)s->requests,
	    "calls", cs,
	    "refund_wave", wave_report(s),
	    "opening", opening_report(s));
	if (o == NULL)
		die("out of memory");
	return o;
}

/* ------------------------------------------------------ setting it up */

static void
usage(FILE *f)
{
	fprintf(f, "usage: surge --url http://HOST:PORT --concert ID --users FILE"
	    " [--count N]\n"
	    "             [--arrive SECONDS] [--connections N]"
	    " [--join-connections N]\n"
	    "             [--seats N] [--max-seconds S] [--think S]\n"
	    "             [--refunds FRACTION] [--refund-spread S]"
	    " [--opens-at EPOCH]\n");
}

static _Noreturn void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "surge: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(2);
}

/* `--name value` or `--name=value`, every option once. */
static void
parse_args(int argc, char **argv, const char *vals[OPT__MAX])
{
	const char	*arg, *eq;
	size_t		 len;
	int		 i, o;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strncmp(arg, "--", 2) != 0)
			usage_error("unexpected argument: %s", arg);
		arg += 2;
		len = (eq = strchr(arg, '=')) != NULL ? (size_t)(eq - arg) :
		    strlen(arg);
		for (o = 0; o < OPT__MAX; o++)
			if (strlen(opts[o]) == len &&
			    strncmp(opts[o], arg, len) == 0)
				break;
		if (o == OPT__MAX)
			usage_error("unknown option: %s", argv[i]);
		if (vals[o] != NULL)
			usage_error("option given twice: %s", argv[i]);
		if (eq != NULL)
			vals[o] = eq + 1;
		else if (++i < argc)
			vals[o] = argv[i];
		else
			usage_error("option needs a value: %s", argv[i - 1]);
	}
}

static double
num_arg(const char *vals[OPT__MAX], enum opt o, double dflt, double min,
    double max)
{
	char	*end;
	double	 v;

	if (vals[o] == NULL)
		return dflt;
	v = strtod(vals[o], &end);
	if (end == vals[o] || *end != '\0' || !(v >= min && v <= max))
		usage_error("bad value for --%s", opts[o]);
	return v;
}

static long
int_arg(const char *vals[OPT__MAX], enum opt o, long dflt, long min, long max)
{
	char	*end;
	long	 v;

	if (vals[o] == NULL)
		return dflt;
	v = strtol(vals[o], &end, 10);
	if (end == vals[o] || *end != '\0' || v < min || v > max)
		usage_error("bad value for --%s", opts[o]);
	return v;
}

/* The concert ID goes into paths: canonical positive decimal only. */
static json_int_t
concert_arg(const char *v)
{
	json_int_t	 id = 0;
	const char	*p;

	if (v == NULL || *v == '\0' || *v == '0' || strlen(v) > 18)
		usage_error("bad value for --%s", opts[OPT_CONCERT]);
	for (p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			usage_error("bad value for --%s", opts[OPT_CONCERT]);
		id = id * 10 + (*p - '0');
	}
	return id;
}

static void
settings(struct surge *s, const char *vals[OPT__MAX])
{
	static char	 url[512];
	size_t		 n;

	if (vals[OPT_URL] == NULL || vals[OPT_CONCERT] == NULL ||
	    vals[OPT_USERS] == NULL)
		usage_error("%s", "--url, --concert and --users are needed");
	if ((n = strlen(vals[OPT_URL])) == 0 || n >= sizeof(url))
		usage_error("bad value for --%s", opts[OPT_URL]);
	/* Paths are appended with their own slash. */
	memcpy(url, vals[OPT_URL], n + 1);
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	s->url = url;
	s->concert = vals[OPT_CONCERT];
	s->concert_id = concert_arg(vals[OPT_CONCERT]);
	s->arrive = num_arg(vals, OPT_ARRIVE, 5.0, 0.0, 86400.0);
	s->conns = int_arg(vals, OPT_CONNECTIONS, 128, 1, 10000);
	s->join_conns = int_arg(vals, OPT_JOIN_CONNECTIONS,
	    s->conns > 1 ? s->conns / 2 : 1, 1, s->conns);
	s->seats = int_arg(vals, OPT_SEATS, 0, 1, 100000000);
	s->max_s = num_arg(vals, OPT_MAX_SECONDS, 180.0, 0.001, 86400.0);
	s->think = num_arg(vals, OPT_THINK, 3.0, 0.0, 60.0);
	s->refund_share = num_arg(vals, OPT_REFUNDS, 0.0, 0.0, 1.0);
	s->refund_spread = num_arg(vals, OPT_REFUND_SPREAD, 10.0, 0.0, 3600.0);
	/* Made relative to the start in main, once the clocks are read. */
	s->opens = vals[OPT_OPENS_AT] != NULL;
	s->opening = num_arg(vals, OPT_OPENS_AT, 0.0, 0.0, 1e11);
}

/* Strips the line ending and blanks around the key; 0 if none is left. */
static size_t
trim(char *line)
{
	size_t	 start = strspn(line, " \t"), n = strlen(line);

	while (n > start && strchr(" \t\r\n", line[n - 1]) != NULL)
		n--;
	memmove(line, line + start, n - start);
	line[n - start] = '\0';
	return n - start;
}

/* The first `want` keys of the file (0: all), one a line. */
static int
read_keys(struct surge *s, const char *path, size_t want)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0, len, have = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "surge: ");
		perror(path);
		return -1;
	}
	while ((want == 0 || s->nusers < want) &&
	    getline(&line, &cap, f) != -1) {
		if ((len = trim(line)) == 0)
			continue;	/* a blank line is no user */
		if (len > SURGE_CRED_MAX) {
			fprintf(stderr, "surge: %s: a key is over %d "
			    "characters\n", path, SURGE_CRED_MAX);
			break;
		}
		if (s->nusers == have) {
			have = have ? have * 2 : 1024;
			s->users = xrealloc(s->users, have, sizeof(*s->users));
		}
		memset(&s->users[s->nusers], 0, sizeof(*s->users));
		s->users[s->nusers++].key = xstrdup(line);
	}
	free(line);
	if (ferror(f) || fclose(f) != 0) {
		fprintf(stderr, "surge: ");
		perror(path);
		return -1;
	}
	if (s->nusers == 0 || (want != 0 && s->nusers < want)) {
		fprintf(stderr, "surge: %s: %zu keys, %zu wanted\n", path,
		    s->nusers, want);
		return -1;
	}
	return 0;
}

/* Arrivals first, from their own stream, so runs are comparable. */
static void
arrivals(struct surge *s)
{
	uint64_t	 rng = 1;
	size_t		 i;

	s->phases[PHASE_ARRIVING] = s->nusers;
	for (i = 0; i < s->nusers; i++)
		schedule(s, i, CALL_JOIN, rng_unit(&rng) * s->arrive);
	s->rng = 2;
}

static void
open_slots(struct surge *s)
{
	size_t	 i, n = (size_t)s->conns;

	if ((s->multi = curl_multi_init()) == NULL)
		die("curl_multi_init failed");
	/* curl never queues: the FIFO and its wait are ours, and measured. */
	curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, s->conns);
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, s->conns);
	s->xfers = xrealloc(NULL, n, sizeof(*s->xfers));
	s->idle = xrealloc(NULL, n, sizeof(*s->idle));
	memset(s->xfers, 0, n * sizeof(*s->xfers));
	for (i = 0; i < n; i++) {
		if ((s->xfers[i].easy = curl_easy_init()) == NULL)
			die("curl_easy_init failed");
		s->idle[n - 1 - i] = i;
	}
	s->nidle = n;
}

static void
close_slots(struct surge *s)
{
	size_t	 i;

	for (i = 0; i < (size_t)s->conns; i++) {
		if (s->xfers[i].busy)
			release(s, &s->xfers[i]);
		curl_easy_cleanup(s->xfers[i].easy);
		free(s->xfers[i].in.v);
	}
	curl_multi_cleanup(s->multi);
	free(s->xfers);
	free(s->idle);
}

static void
free_all(struct surge *s)
{
	size_t	 i;

	for (i = 0; i < s->nusers; i++) {
		free(s->users[i].key);
		free(s->users[i].token);
	}
	free(s->users);
	free(s->heap.v);
	free(s->arrivals.v);
	free(s->refunds);
	free(s->resale.v);
	free(s->wave_polls.v);
	free(s->placed.v);
	free(s->open_polls.v);
	for (i = 0; i < CALL__MAX; i++) {
		free(s->stats[i].latency.v);
		free(s->stats[i].wait.v);
		free(s->stats[i].flight.v);
	}
}

/* After the sale, whoever is still in line is on the waiting list. */
static void
waiting_list(struct surge *s, const char *why)
{
	size_t	 i;

	if (strcmp(why, "sold_out") != 0 && strcmp(why, "refunds_resold") != 0)
		return;
	for (i = 0; i < s->nusers; i++)
		if (s->users[i].phase == PHASE_WAITING)
			finish(s, i, OUT_WAITING_LIST);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static void
catch_signals(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int
main(int argc, char **argv)
{
	static struct surge	 s;	/* large: not on the stack */
	const char		*vals[OPT__MAX] = { NULL };
	const char		*why;
	json_t			*rep;
	double			 end;
	int			 rc = 1;

	parse_args(argc, argv, vals);
	settings(&s, vals);
	if (read_keys(&s, vals[OPT_USERS],
	    (size_t)int_arg(vals, OPT_COUNT, 0, 1, 100000000)) == -1)
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
	catch_signals();
	open_slots(&s);
	s.first_pay = s.last_pay = s.sold_out_seen = s.wave_at = -1;
	arrivals(&s);
	s.t0 = monotonic();
	s.r0 = realtime();
	s.opening -= s.r0;
	why = run(&s);
	end = elapsed(&s);
	waiting_list(&s, why);
	fprintf(stderr, "[surge %.1fs] stopped: %s; joined %zu/%zu bought %zu"
	    " refunded %zu resold %zu waiting list %zu done %zu"
	    " unexpected %lu\n", end, why,
	    s.joined, s.nusers, s.outcomes[OUT_BOUGHT], s.refunded, s.resold,
	    s.outcomes[OUT_WAITING_LIST], s.phases[PHASE_DONE], s.unexpected);
	close_slots(&s);
	rep = report(&s, end, why);
	if (json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12))
	    == 0 && fputc('\n', stdout) != EOF && fflush(stdout) == 0)
		rc = strcmp(why, "signal") == 0 ? 1 : 0;
	json_decref(rep);
	curl_global_cleanup();
out:
	free_all(&s);
	return rc;
}
