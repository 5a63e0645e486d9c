"""Shared code of the stress tests (tests/stress/*.t): TAP output, psql,
the real web side (tests/lib/service.sh), a keep-alive HTTP client, raw
socket requests, and the set-up of concerts, users and tokens.

Standard library only.  The tests get their database and folders from the
environment that tests/harness (make test) or run-long.sh (make stress) set:
PGHOST, PGPORT, PGDATABASE, PGUSER, TICKET_ROOT, TICKET_VAR.
"""
import atexit
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.environ.get("TICKET_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
VAR = os.environ.get("TICKET_VAR", "")
SERVICE = os.path.join(ROOT, "tests", "lib", "service.sh")


def env_int(name, default):
    """An integer setting from the environment (run-long.sh scales with them)."""
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


# ---------------------------------------------------------------- TAP

class Tap:
    """TAP on stdout, plan at the end unless given first (plan()); figures
    as '# figure: name value'."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        self.planned = None
        self.lock = threading.Lock()

    def plan(self, n):
        """Announces n points before the first: a file that stops short fails."""
        self.planned = n
        print("1..%d" % n, flush=True)

    def ok(self, cond, desc, diag=None):
        with self.lock:
            self.n += 1
            if cond:
                print("ok %d - %s" % (self.n, desc), flush=True)
            else:
                self.failed += 1
                print("not ok %d - %s" % (self.n, desc), flush=True)
                if diag:
                    for line in str(diag).splitlines()[:40]:
                        print("#   " + line, flush=True)
        return cond

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, "got:  %r\nwant: %r" % (got, want))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def figure(self, name, value):
        print("# figure: %s %s" % (name, value), flush=True)

    def bail(self, msg):
        print("Bail out! " + msg, flush=True)
        sys.exit(255)

    def done(self):
        if self.planned is None:
            print("1..%d" % self.n, flush=True)
        elif self.planned != self.n:
            self.diag("planned %d points, ran %d" % (self.planned, self.n))
            return 1
        return 0 if self.failed == 0 else 1


def exit_on_signals():
    """SIGTERM/SIGINT/SIGHUP run the atexit clean-ups too."""
    def handler(signum, _frame):
        sys.exit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, handler)


# ---------------------------------------------------------------- psql

def psql(sql, check=True, timeout=120):
    """Runs SQL (on stdin) as the owner; returns stdout lines, fields split on tabs."""
    p = subprocess.run(
        ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1"],
        input=sql, capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))
    if check and p.returncode != 0:
        raise RuntimeError("psql failed: %s\n%s" % (p.stderr.strip(), sql[:500]))
    return [line.split("\t") for line in p.stdout.splitlines() if line != ""]


def psql_one(sql, check=True):
    rows = psql(sql, check=check)
    return rows[0][0] if rows else None


def sql_lit(s):
    return "'" + str(s).replace("'", "''") + "'"


# ---------------------------------------------------------------- crashes

PGDATA = os.path.join(VAR, "pg")
MAKE_CLUSTER = ["make", "-s", "-C", ROOT, "VAR=" + VAR, "PGPORT=" + os.environ.get("PGPORT", "")]


def postmaster_pid():
    try:
        with open(os.path.join(PGDATA, "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def alive(pid):
    """Running, and not a zombie waiting for its parent (or init) to reap it."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def crash_postmaster(tap):
    """kill -9 the postmaster; True once it and its children are gone."""
    pm = postmaster_pid()
    children = [int(c) for c in subprocess.run(["pgrep", "-P", str(pm)], capture_output=True,
                                                text=True).stdout.split()]
    os.kill(pm, 9)
    gone = wait_until(lambda: not alive(pm), 30)
    # Backends leave when they notice the postmaster is gone, but pg_cron's launcher
    # may run on: as PostgreSQL's own hint says, an operator ends what is left of the
    # old server before starting it again (its shared memory must be free).
    if not wait_until(lambda: not any(alive(c) for c in children), 5):
        left = [c for c in children if alive(c)]
        tap.diag("ending %d leftover processes of the killed server" % len(left))
        for c in left:
            try:
                os.kill(c, 9)
            except OSError:
                pass
        wait_until(lambda: not any(alive(c) for c in children), 10)
    return gone


def cluster_up(tap=None, timeout=60):
    """make cluster-up until it succeeds: the killed postmaster's backends must go first."""
    deadline = time.time() + timeout
    while True:
        p = subprocess.run(MAKE_CLUSTER + ["cluster-up"], capture_output=True, text=True)
        if p.returncode == 0 and psql("SELECT 1", check=False):
            return True
        if time.time() > deadline:
            if tap:
                tap.diag("cluster-up: " + p.stdout + p.stderr)
            return False
        time.sleep(0.2)


def restore_cluster():
    """At exit: a test that dies between a crash and the restart leaves the cluster up."""
    if postmaster_pid() is None or not alive(postmaster_pid()):
        cluster_up()


def invariants():
    """admin.check_invariants() rows as 'invariant: detail' strings."""
    return [": ".join(r) for r in psql("SELECT invariant, detail FROM admin.check_invariants()")]


def books_difference():
    return int(psql_one("SELECT difference FROM admin.books()"))


def table_checksums(exclude=("request_errors", "error_counts")):
    """{table: md5 of all its rows in key order} for every table of schema ticket."""
    tables = [r[0] for r in psql(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'ticket' AND c.relkind = 'r' ORDER BY 1")]
    parts = []
    for t in tables:
        if t in exclude:
            continue
        parts.append("SELECT %s, coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '-') "
                     "FROM ticket.%s x" % (sql_lit(t), t))
    return dict((r[0], r[1]) for r in psql(" UNION ALL ".join(parts) + ";"))


class CronPaused:
    """pg_cron's jobs paused (admin.tick would change rows as time passes),
    settled by one tick of our own; resumed however the test ends."""

    def __enter__(self):
        psql("UPDATE cron.job SET active = false WHERE jobname LIKE 'ticket-%';")
        atexit.register(self.resume)
        # A tick the scheduler started before the pause runs to its end.
        deadline = time.time() + 30
        while time.time() < deadline:
            busy = psql_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND query ~ 'admin\\.(tick|record_invariants)' AND state = 'active'")
            if busy == "0":
                break
            time.sleep(0.1)
        psql("CALL admin.tick();")
        return self

    def resume(self):
        psql("UPDATE cron.job SET active = true WHERE jobname LIKE 'ticket-%';", check=False)

    def __exit__(self, *exc):
        self.resume()
        return False


# ---------------------------------------------------------------- the web side

class Service:
    """lighttpd + FastCGI programs on a port, via tests/lib/service.sh."""

    def __init__(self, port, mode="fastcgi"):
        self.port = port
        self.mode = mode
        self.started = False

    def start(self):
        atexit.register(self.stop)
        subprocess.run([SERVICE, "start", self.mode, str(self.port)], check=True,
                       stdout=sys.stderr)
        self.started = True
        return self

    def stop(self):
        if self.started:
            subprocess.run([SERVICE, "stop", str(self.port)], check=False, stdout=sys.stderr)
            self.started = False

    def program_pids(self, name):
        """pids of the FastCGI program `name` that lighttpd runs (by /proc/*/exe)."""
        want = os.path.join(VAR, "www", "build", "cgi-bin", name)
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if os.readlink("/proc/%s/exe" % d) == want:
                    pids.append(int(d))
            except OSError:
                pass
        return sorted(pids)


class Resp:
    __slots__ = ("status", "headers", "body", "error")

    def __init__(self, status, headers, body, error=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.error = error

    def json(self):
        try:
            return json.loads(self.body)
        except (ValueError, TypeError):
            return None

    def code(self):
        j = self.json()
        if isinstance(j, dict) and isinstance(j.get("error"), dict):
            return j["error"].get("code")
        return None

    def __repr__(self):
        return "<%s %r%s>" % (self.status, self.body[:200],
                              " " + self.error if self.error else "")


class Client:
    """One keep-alive HTTP/1.1 connection.  A request that gets no answer
    (connection refused, reset, timed out) returns status 0 and is not
    retried: whether it happened is unknown."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def req(self, method, path, body=None, key=None, token=None, idem=None,
            headers=None, ctype="application/json"):
        h = {}
        if key is not None:
            h["Authorization"] = "Bearer " + key
        if token is not None:
            h["X-Queue-Token"] = token
        if idem is not None:
            h["Idempotency-Key"] = idem
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        if body is None and method == "POST":
            body = b""
        if body:
            h["Content-Type"] = ctype
        if headers:
            h.update(headers)
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            self.conn.request(method, path, body=body, headers=h)
            r = self.conn.getresponse()
            data = r.read()
            hdrs = dict((k.lower(), v) for k, v in r.getheaders())
            if hdrs.get("connection", "").lower() == "close":
                self.close()
            return Resp(r.status, hdrs, data)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return Resp(0, {}, b"", "%s: %s" % (type(e).__name__, e))


def wait_until(pred, timeout, interval=0.05):
    """Polls pred() until true or timeout seconds pass; returns its last value."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() >= deadline:
            return v
        time.sleep(interval)


def health(port):
    c = Client(port, timeout=5)
    r = c.req("GET", "/api/health")
    c.close()
    return r


# ---------------------------------------------------------------- raw requests

def raw_request(port, data, timeout=10):
    """Sends bytes as they are; returns Resp parsed from what comes back
    (status 0 when nothing or no HTTP status line comes back)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    buf = b""
    try:
        try:
            s.sendall(data)
        except OSError as e:
            return Resp(0, {}, b"", "send: %s" % e)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                cl = None
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        cl = int(v.strip())
                if cl is not None and len(rest) >= cl:
                    break
    finally:
        s.close()
    head, sep, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if not sep or len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return Resp(0, {}, buf, "no HTTP answer")
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    if "content-length" in hdrs:
        rest = rest[:int(hdrs["content-length"])]
    return Resp(int(parts[1]), hdrs, rest)


# ---------------------------------------------------------------- set-up

def create_concert(title, seats=50, hold_minutes=5, max_seats=1, max_active=1000,
                   days=(7,)):
    """A concert with one date per entry of days (days from now); returns
    (concert_id, [date text ...]) with dates ascending."""
    starts = ",".join("now() + interval '%d days'" % d for d in days)
    cid = int(psql_one(
        "SELECT admin.create_concert(%s, 'Hall', ARRAY[%s], %d, "
        "ARRAY[150000,110000,80000]::bigint[], %d, %d, %d)"
        % (sql_lit(title), starts, seats, hold_minutes, max_seats, max_active)))
    dates = [r[0] for r in psql(
        "SELECT on_date FROM ticket.concert_dates WHERE concert_id = %d ORDER BY on_date" % cid)]
    return cid, dates


class User:
    __slots__ = ("n", "id", "key", "token", "lock")

    def __init__(self, n, uid, key, token):
        self.n = n
        self.id = uid
        self.key = key
        self.token = token
        self.lock = threading.Lock()

    def __repr__(self):
        return "<user %s id %s>" % (self.n, self.id)


def create_users(prefix, count, concert_id=None, charge=0):
    """count users made by api.create_user (as POST /api/users does), each
    charged `charge` won and, with concert_id, holding an issued token."""
    sql = ("CREATE TEMP TABLE u AS SELECT n, r.body AS b FROM generate_series(1, %d) n, "
           "LATERAL api.create_user(%s || n) r;\n" % (count, sql_lit(prefix)))
    if charge:
        sql += "SELECT count(api.charge_wallet(b->>'api_key', %d, NULL)) FROM u;\n" % charge
    if concert_id is not None:
        sql += ("SELECT n, b->>'user_id', b->>'api_key', t.body->>'token', t.body->>'status' "
                "FROM u, LATERAL api.issue_token(b->>'api_key', %d) t ORDER BY n;\n" % concert_id)
    else:
        sql += "SELECT n, b->>'user_id', b->>'api_key', '', '' FROM u ORDER BY n;\n"
    rows = psql(sql)
    rows = [r for r in rows if len(r) == 5]
    return [User(int(r[0]), int(r[1]), r[2], r[3] or None) for r in rows]


def run_threads(n, target, *args):
    """Runs target(i, *args) in n threads; returns the threads' exceptions."""
    errors = []

    def wrap(i):
        try:
            target(i, *args)
        except BaseException as e:  # noqa: B902 - reported as a test failure
            import traceback
            errors.append("thread %d: %s\n%s" % (i, e, traceback.format_exc()))
    ts = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


def expire_holds(where):
    """Moves the holds of reservations matching `where` (SQL on r) into the
    past, as if their time had run out; returns the ids."""
    rows = psql("""
WITH r AS (UPDATE ticket.reservations r SET expires_at = now()
           WHERE r.status = 'HELD' AND r.expires_at > now() AND (%s) RETURNING r.id),
c AS (UPDATE ticket.reservation_seats rs
      SET claim = tstzrange(lower(claim), greatest(lower(claim), now()))
      FROM r WHERE rs.reservation_id = r.id),
s AS (UPDATE ticket.seats s SET held_until = now() FROM r
      WHERE s.reservation_id = r.id AND NOT s.sold)
SELECT id FROM r;""" % where)
    return [int(r[0]) for r in rows]
