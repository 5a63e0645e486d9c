"""Forced interleavings: several PostgreSQL sessions, one step at a time.

PostgreSQL's own isolation tester is not packaged in Debian; this is the small part
of it these tests need. A Session sends one statement and does not wait for it;
the test then waits until the session is seen blocked in pg_locks (by whom it
expects), lets another session act, and reads each outcome. Time rules move the
rows' timestamps; nothing here sleeps to let the clock run.

The database comes from libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER),
as tests/harness sets it. pg_cron's jobs are paused while a test runs.
"""
import atexit
import select
import sys
import time

import psycopg2
import psycopg2.extensions
import psycopg2.extras

TIMEOUT = 15  # seconds a step may take before the test calls it stuck


class Tap:
    """TAP on stdout with the plan at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=None):
        self.n += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, desc), flush=True)
        if not cond:
            self.failed += 1
            for line in str(diag or "").splitlines()[:30]:
                print("#   " + line, flush=True)
        return cond

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, "got:  %r\nwant: %r" % (got, want))

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


class Outcome:
    """What a statement ended with: its rows, or its SQLSTATE and message."""

    def __init__(self, rows=None, state=None, message=None):
        self.rows, self.state, self.message = rows, state, message

    @property
    def ok(self):
        return self.state is None

    def __repr__(self):
        return "Outcome(rows=%r)" % (self.rows,) if self.ok else "Outcome(%s: %s)" % (self.state, self.message)


def _wait(conn, timeout=TIMEOUT):
    """Drive an asynchronous connection until its statement is done (or raise)."""
    deadline = time.time() + timeout
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        left = deadline - time.time()
        if left <= 0:
            raise TimeoutError("statement still running after %s s" % timeout)
        if state == psycopg2.extensions.POLL_READ:
            select.select([conn.fileno()], [], [], left)
        elif state == psycopg2.extensions.POLL_WRITE:
            select.select([], [conn.fileno()], [], left)


class Session:
    """One connection; send() starts a statement, outcome() waits for its end."""

    def __init__(self, name):
        self.name = name
        self.conn = psycopg2.connect("", async_=1, application_name="interleave " + name)
        _wait(self.conn)
        self.pid = self.conn.get_backend_pid()
        self.cur = self.conn.cursor()
        self.busy = False

    def send(self, sql, args=None):
        assert not self.busy, "%s is still running a statement" % self.name
        self.cur.execute(sql, args)
        self.busy = True
        return self

    def outcome(self, timeout=TIMEOUT):
        assert self.busy, "%s has nothing running" % self.name
        self.busy = False
        try:
            _wait(self.conn, timeout)
        except psycopg2.Error as e:
            return Outcome(state=e.pgcode, message=(e.pgerror or str(e)).strip())
        rows = self.cur.fetchall() if self.cur.description else []
        return Outcome(rows=rows)

    def run(self, sql, args=None):
        return self.send(sql, args).outcome()

    def finished(self):
        """True once the running statement is done (without consuming its outcome)."""
        try:
            return self.conn.poll() == psycopg2.extensions.POLL_OK
        except psycopg2.Error:
            return True

    def close(self):
        try:
            self.conn.cancel()
        except psycopg2.Error:
            pass
        self.conn.close()


class Db:
    """The test's own view of the database: set-up, time moves, checks (autocommit)."""

    def __init__(self):
        self.conn = psycopg2.connect("", application_name="interleave monitor")
        self.conn.autocommit = True
        self.sessions = []
        self._pause_cron()

    def q(self, sql, args=None):
        with self.conn.cursor() as c:
            c.execute(sql, args)
            return c.fetchall() if c.description else []

    def one(self, sql, args=None):
        rows = self.q(sql, args)
        return rows[0][0] if rows else None

    def error_of(self, sql, args=None):
        """The SQLSTATE a statement raises, or None."""
        try:
            self.q(sql, args)
        except psycopg2.Error as e:
            return e.pgcode
        return None

    def session(self, name):
        s = Session(name)
        self.sessions.append(s)
        return s

    def _pause_cron(self):
        # The minute's tick would change rows under a scenario; it runs to its end first.
        self.q("UPDATE cron.job SET active = false WHERE jobname LIKE 'ticket-%'")
        atexit.register(self._resume_cron)
        deadline = time.time() + 60
        while self.one("SELECT count(*) FROM pg_stat_activity WHERE query ~ 'admin\\.(tick|record_invariants)' "
                       "AND state = 'active' AND application_name NOT LIKE 'interleave%%'") > 0:
            if time.time() > deadline:
                break
            time.sleep(0.05)

    def _resume_cron(self):
        for s in self.sessions:
            s.close()
        try:
            self.q("UPDATE cron.job SET active = true WHERE jobname LIKE 'ticket-%'")
        except psycopg2.Error:
            pass

    # ---- what blocks whom

    def blockers(self, s):
        return set(self.one("SELECT pg_blocking_pids(%s)", (s.pid,)) or [])

    def wait_blocked(self, s, by=None, timeout=TIMEOUT):
        """Wait until session s waits for a lock (held or queued for by `by`, if named).
        Returns True, or False if it finished or never blocked so."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            b = self.blockers(s)
            if b and (by is None or by.pid in b):
                return True
            if s.finished():
                return False
            time.sleep(0.01)
        return False

    def row_locked(self, table, row_id):
        """Whether another transaction holds a row lock on ticket.<table> row id."""
        with self.conn.cursor() as c:
            c.execute("BEGIN")
            try:
                c.execute("SELECT 1 FROM ticket.%s WHERE id = %%s FOR UPDATE NOWAIT" % table, (row_id,))
                return False
            except psycopg2.errors.LockNotAvailable:
                return True
            finally:
                c.execute("ROLLBACK")

    # ---- the world of a scenario

    def concert(self, title, seats=10, max_active=1, max_seats=1, hold_minutes=5):
        cid = self.one("SELECT admin.create_concert(%s, 'Hall', ARRAY[now() + interval '7 days'], "
                       "p_seats => %s, p_max_active => %s, p_max_seats_per_user => %s, p_hold_minutes => %s)",
                       (title, seats, max_active, max_seats, hold_minutes))
        on_date = self.one("SELECT on_date::text FROM ticket.concert_dates WHERE concert_id = %s", (cid,))
        return cid, on_date

    def user(self, name, balance=1000000):
        key = self.one("SELECT (api.create_user(%s)).body->>'api_key'", (name,))
        if balance:
            self.q("SELECT api.charge_wallet(%s, %s, NULL)", (key, balance))
        return key

    def join(self, key, concert):
        return self.one("SELECT (api.issue_token(%s, %s)).body->>'token'", (key, concert))

    def token(self, token):
        """The token's row, with named fields."""
        with self.conn.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor) as c:
            c.execute("SELECT * FROM ticket.queue_tokens WHERE token_hash = sha256(convert_to(%s, 'UTF8'))", (token,))
            return c.fetchone()

    def token_status(self, token):
        return self.one("SELECT status FROM ticket.queue_tokens WHERE token_hash = sha256(convert_to(%s, 'UTF8'))",
                        (token,))

    def poll(self, token):
        return self.one("SELECT (api.queue_status(%s)).body->>'status'", (token,))

    def hold(self, key, token, concert, on_date, seats):
        r = self.q("SELECT status, body FROM api.hold_seat(%s, %s, %s, %s, %s)", (key, token, concert, on_date, seats))
        return int(r[0][1]["reservation_id"])

    def seat_id(self, concert, seat_no):
        return self.one("SELECT s.id FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id "
                        "WHERE d.concert_id = %s AND s.seat_no = %s", (concert, seat_no))

    def seat_status(self, concert, seat_no):
        return self.one("SELECT ticket.seat_status(s.sold, s.held_until) FROM ticket.seats s "
                        "JOIN ticket.concert_dates d ON d.id = s.date_id WHERE d.concert_id = %s AND s.seat_no = %s",
                        (concert, seat_no))

    def reservation_status(self, rid):
        return self.one("SELECT status FROM ticket.reservations WHERE id = %s", (rid,))

    def move_seat_row_last(self, concert, seat_no, via_reservation):
        """Give a seat row a new place in the heap and the reservation index (two
        non-HOT updates of reservation_id), so that scans return it after the seats
        with higher numbers: no lock order may rest on the order rows happen to be in."""
        sid = self.seat_id(concert, seat_no)
        mine = self.one("SELECT reservation_id FROM ticket.seats WHERE id = %s", (sid,))
        self.q("UPDATE ticket.seats SET reservation_id = %s WHERE id = %s", (via_reservation, sid))
        self.q("UPDATE ticket.seats SET reservation_id = %s WHERE id = %s", (mine, sid))

    def shift_turn(self, token, seconds):
        """As if `seconds` had passed for a turn: its times move back together."""
        self.q("UPDATE ticket.queue_tokens SET created_at = created_at - make_interval(secs => %s), "
               "last_seen_at = last_seen_at - make_interval(secs => %s), "
               "activated_at = activated_at - make_interval(secs => %s), "
               "expires_at = expires_at - make_interval(secs => %s) "
               "WHERE token_hash = sha256(convert_to(%s, 'UTF8'))", (seconds,) * 4 + (token,))

    def shift_holds(self, key, seconds):
        """As if `seconds` had passed for every hold of a user: expiry, claims, seats."""
        self.q("""
          WITH r AS (UPDATE ticket.reservations SET created_at = created_at - make_interval(secs => %(s)s),
                            expires_at = expires_at - make_interval(secs => %(s)s)
                     WHERE user_id = (SELECT id FROM ticket.users WHERE api_key_hash = sha256(convert_to(%(k)s, 'UTF8')))
                       AND status = 'HELD' RETURNING id),
          s AS (UPDATE ticket.seats SET held_until = held_until - make_interval(secs => %(s)s)
                WHERE reservation_id IN (SELECT id FROM r) AND held_until IS NOT NULL)
          UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim) - make_interval(secs => %(s)s),
                                                                upper(claim) - make_interval(secs => %(s)s))
          WHERE reservation_id IN (SELECT id FROM r)""", {"s": seconds, "k": key})

    def invariants(self):
        return ["%s: %s" % r for r in self.q("SELECT invariant, detail FROM admin.check_invariants()")]

    def live_active(self, concert):
        return self.one("SELECT count(*) FROM ticket.queue_tokens WHERE concert_id = %s "
                        "AND status = 'ACTIVE' AND expires_at > now()", (concert,))


psycopg2.extras.register_default_json(loads=__import__("json").loads)
