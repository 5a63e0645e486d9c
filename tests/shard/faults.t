#!/usr/bin/env python3
"""Faults of the sharded topology (scripts/topology.sh, docs/scale.md) during
payments, over real HTTP through lighttpd, the FastCGI programs and the proxy.

1. Each crash point of the payment saga, forced by hand (the proxy's own steps,
   route.*, called as its routing role): a payment left PAYING before its debit
   while its user's node is killed is released by recovery once the node is back,
   with no money taken, and a late debit of its reference is ABORTED; one left
   PAYING after its debit is confirmed, its seat SOLD and one debit taken.  While
   the node is down, recovery leaves the payment PAYING.
2. Rounds of concurrent clients that join the queue, hold a seat and pay, while
   the postmaster of a concert partition, a user partition or the proxy is killed
   with SIGKILL (one a round, in turn) and started again (topology.sh start).
   After each round admin.recover_payments('0 seconds') leaves nothing PAYING;
   every acknowledged payment (201) is CONFIRMED on its concert's partition with
   its seat SOLD and exactly one DEBITED debit of its amount on its user's; no
   debit is DEBITED without its CONFIRMED payment; every wallet's balance is its
   ledger's sum; admin.check_invariants() is empty; every failure answer is a
   4xx or the JSON 503 DATABASE_UNAVAILABLE (never a 500 nor silence); lighttpd
   and its FastCGI programs run on, the same processes.

Scale: FAULTS_ROUNDS (3: one of each fault; run-long.sh raises it),
FAULTS_CLIENTS (6), FAULTS_ACKS (acknowledged payments before and after each
fault, 8).  Ports: SHARD_FAULTS_PGPORT (55481, and the six after it),
SHARD_FAULTS_BOUNCER_PORT (18431, ...), SHARD_FAULTS_HTTP_PORT (18430).
"""
import atexit
import os
import subprocess
import sys
import threading
import time
import uuid

sys.dont_write_bytecode = True     # no __pycache__ in the tree
ROOT = os.environ.get("TICKET_ROOT")
if not ROOT or not os.environ.get("TICKET_VAR"):
    sys.exit("run through tests/harness (make test)")
SHARD = os.path.join(os.environ["TICKET_VAR"], "faults")
NODE_PORT = int(os.environ.get("SHARD_FAULTS_PGPORT") or 55481)
BOUNCER_PORT = int(os.environ.get("SHARD_FAULTS_BOUNCER_PORT") or 18431)
HTTP_PORT = int(os.environ.get("SHARD_FAULTS_HTTP_PORT") or 18430)
# The web side runs against the proxy node, with its folders (as topology.sh serve).
os.environ.update(TICKET_VAR=os.path.join(SHARD, "nodes", "proxy"), PGPORT=str(NODE_PORT))
sys.path.insert(0, os.path.join(ROOT, "tests", "stress"))
import lib  # noqa: E402

ROUNDS = lib.env_int("FAULTS_ROUNDS", 3)
CLIENTS = lib.env_int("FAULTS_CLIENTS", 6)
ACKS = lib.env_int("FAULTS_ACKS", 8)
PSQL = os.path.join(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"), "psql")
tap = lib.Tap()
lib.exit_on_signals()
t0 = time.time()

# ---------------------------------------------------------------- the nodes

TOPOLOGY_ENV = dict(os.environ, VAR=SHARD, TOPOLOGY_PGPORT=str(NODE_PORT),
                    TOPOLOGY_BOUNCER_PORT=str(BOUNCER_PORT))


def topology(*args):
    return subprocess.run([os.path.join(ROOT, "scripts", "topology.sh")] + list(args),
                          env=TOPOLOGY_ENV, capture_output=True, text=True)


def node_dir(name):
    return os.path.join(SHARD, "nodes", name)


def url(name):
    with open(os.path.join(node_dir(name), "node")) as f:
        return f.read().split()[3]


def psql(name, sql, check=True, role=None):
    """SQL on a node as its owner (or, with role, SET ROLE first); rows of tab-split fields."""
    if role:
        sql = "SET ROLE %s;\n%s" % (role, sql)
    p = subprocess.run([PSQL, "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", url(name)],
                       input=sql, capture_output=True, text=True, timeout=120,
                       env=dict(TOPOLOGY_ENV, PGOPTIONS="-c client_min_messages=error"))
    if check and p.returncode != 0:
        raise RuntimeError("psql on %s failed: %s\n%s" % (name, p.stderr.strip(), sql[:300]))
    rows = [line.split("\t") for line in p.stdout.splitlines() if line != ""]
    return rows if check else (p.returncode, rows, p.stderr.strip())


def one(name, sql, **kw):
    rows = psql(name, sql, **kw)
    return rows[0][0] if rows else None


def postmaster(name):
    try:
        with open(os.path.join(node_dir(name), "pg", "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def kill9(name):
    """kill -9 the node's postmaster; True once it and its children are gone
    (leftovers, such as pg_cron's launcher, ended as PostgreSQL's hint says)."""
    pm = postmaster(name)
    children = [int(c) for c in subprocess.run(["pgrep", "-P", str(pm)], capture_output=True,
                                                text=True).stdout.split()]
    os.kill(pm, 9)
    gone = lib.wait_until(lambda: not lib.alive(pm), 30)
    if not lib.wait_until(lambda: not any(lib.alive(c) for c in children), 5):
        for c in children:
            if lib.alive(c):
                os.kill(c, 9)
        lib.wait_until(lambda: not any(lib.alive(c) for c in children), 10)
    return gone


def restart(name):
    """topology.sh start NAME until it succeeds; its time in seconds, or None."""
    started = time.time()
    while True:
        p = topology("start", name)
        if p.returncode == 0:
            return time.time() - started
        if time.time() - started > 60:
            tap.diag("topology.sh start %s: %s%s" % (name, p.stdout, p.stderr))
            return None
        time.sleep(0.2)


def proxy_reaches_all():
    """The proxy's admin calls reach every partition again, as this test's role. After a
    restart pgbouncer turns away new clients of a pool whose last server login failed
    (during the outage) until its next try, server_login_retry later, whatever its
    other pools do: /api/health answering says nothing of the owner's pool."""
    return psql(PROXY, "SELECT count(*) FROM admin.books()", check=False)[0] == 0


def stop_topology():
    topology("down")


topology("down")    # left over by an interrupted run
subprocess.run(["rm", "-rf", "--", SHARD], check=True)
atexit.register(stop_topology)
p = topology("up")
if not tap.ok(p.returncode == 0, "topology up: every node started and migrated (%d s)" % (time.time() - t0),
              (p.stdout + p.stderr)[-3000:]):
    sys.exit(tap.done())
svc = lib.Service(HTTP_PORT).start()
PROXY, CONCERTS, USERS = "proxy", ["concerts-0", "concerts-1"], ["users-0", "users-1"]

# ---------------------------------------------------------------- data

# A concert on each concert partition (made in turn), seats enough for every round.
SEATS = 400 + 300 * ROUNDS
concerts = [int(one(PROXY, "SELECT admin.create_concert('Faults %d', 'Hall', ARRAY[now() + interval '9 days'], "
                           "%d, ARRAY[150000, 110000, 80000]::bigint[], 5, 4, 100000)" % (i, SEATS)))
            for i in range(2)]
tap.eq(sorted(c % 2 for c in concerts), [0, 1], "a concert on each concert partition (%s)" % concerts)
DATE = {c: one(CONCERTS[c % 2], "SELECT on_date FROM ticket.concert_dates WHERE concert_id = %d" % c) for c in concerts}
next_seat = {c: iter(range(1, SEATS + 1)) for c in concerts}


class User:
    def __init__(self, uid, key):
        self.id, self.key = uid, key


def make_users(prefix, n, charge):
    """n users made on the proxy (on the user partitions in turn), each charged."""
    rows = psql(PROXY, """
SELECT r.body->>'user_id', r.body->>'api_key', (api.charge_wallet(r.body->>'api_key', %d, NULL)).status
FROM generate_series(1, %d) n, LATERAL api.create_user(%s || n) r ORDER BY n""" % (charge, n, lib.sql_lit(prefix)))
    return [User(int(r[0]), r[1]) for r in rows if r[2] == "200"]


# ---------------------------------------------------------------- HTTP

lock = threading.Lock()
answers = {}        # (round, kind, status, code) -> count
bad = []            # answers that are neither a success, a 4xx nor the JSON 503
acked = {}          # reservation id -> (payment id, amount, user id): every 201 of a payment


def record(rnd, kind, r):
    with lock:
        key = (rnd, kind, r.status, r.code() if r.status >= 400 else None)
        answers[key] = answers.get(key, 0) + 1
        if r.status // 100 in (2, 4):
            return
        j = r.json()
        if r.status == 503 and r.code() == "DATABASE_UNAVAILABLE" and r.headers.get("retry-after") \
                and isinstance(j["error"].get("message"), str):
            return
        bad.append("round %s %s: %r" % (rnd, kind, r))


def count(rnd, kind=None, status=None):
    with lock:
        return sum(n for (r, k, s, _), n in answers.items()
                   if r == rnd and (kind is None or k == kind) and (status is None or s == status))


def buy(c, rnd, u, cid, token):
    """Join the queue (or keep the live token), hold the next seat, pay.  Returns
    (token, done): done when the user may hold no more of this concert."""
    if token is None:
        r = c.req("POST", "/api/concerts/%d/queue" % cid, key=u.key)
        record(rnd, "queue", r)
        if r.status not in (200, 201):
            return None, False
        token = r.json()["token"]
    with lock:
        seat = next(next_seat[cid])
    r = c.req("POST", "/api/reservations", {"concert_id": cid, "date": DATE[cid], "seat_nos": [seat]},
              key=u.key, token=token)
    record(rnd, "hold", r)
    if r.code() == "HOLD_LIMIT_REACHED":
        return None, True
    if r.code() == "QUEUE_NOT_ADMITTED":     # not its turn yet: it polls, as a page does
        record(rnd, "poll", c.req("GET", "/api/queue", token=token))
        time.sleep(0.1)
    if r.status != 201:
        return (None if r.status == 401 else token), False
    rid = int(r.json()["reservation_id"])
    r = c.req("POST", "/api/reservations/%d/payment" % rid, key=u.key, token=token, idem=str(uuid.uuid4()))
    record(rnd, "pay", r)
    if r.status == 201:
        b = r.json()
        with lock:
            acked[rid] = (int(b["payment_id"]), int(b["amount"]), u.id)
        return None, False      # the turn is over: join again
    return (None if r.status == 401 else token), False


def client(i, rnd, pairs, stop):
    """Buys in turn for each (user, concert) of its own, until stopped or none is left."""
    c = lib.Client(HTTP_PORT, timeout=30)
    tokens = {}
    k = 0
    while not stop.is_set() and pairs:
        u, cid = pairs[k % len(pairs)]
        answered = count(rnd, status=503)
        tokens[u.id, cid], done = buy(c, rnd, u, cid, tokens.get((u.id, cid)))
        if done:
            pairs.remove((u, cid))
        k += 1
        if count(rnd, status=503) > answered:
            stop.wait(0.05)     # a client backs off a little while a node is away
    c.close()


def programs():
    """pids of lighttpd and of the FastCGI programs it runs."""
    with open(os.path.join(lib.VAR, "serve-%d.pid" % HTTP_PORT)) as f:
        sid = f.read().strip()
    light = subprocess.run(["pgrep", "-s", sid, "-x", "lighttpd"], capture_output=True, text=True).stdout.split()
    progs = []
    for name in os.listdir(os.path.join(lib.VAR, "www", "build", "cgi-bin")):
        progs += svc.program_pids(name)
    return sorted(int(p) for p in light), progs


# ---------------------------------------------------------------- checks

def recover(what):
    """admin.recover_payments('0 seconds') on the proxy until nothing is PAYING;
    (confirmed, released) summed, or None when it could not finish."""
    confirmed = released = 0
    for _ in range(30):
        rc, rows, err = psql(PROXY, "SELECT confirmed, released, failed FROM admin.recover_payments('0 seconds')",
                             check=False)
        if rc == 0:
            confirmed += int(rows[0][0])
            released += int(rows[0][1])
        paying = sum(int(one(n, "SELECT count(*) FROM ticket.reservations WHERE status = 'PAYING'")) for n in CONCERTS)
        if rc == 0 and paying == 0:
            return confirmed, released
        time.sleep(0.2)
    tap.diag("%s: recovery did not finish: %s %s (the proxy's log says why)" % (what, rows, err))
    return None


def values(rows):
    return ", ".join("(%s)" % ", ".join(str(v) for v in r) for r in rows)


def check_books(what):
    """Every acknowledged payment kept, no money taken without a sale, the books."""
    lost = []
    refs = {}       # acknowledged reservation id -> its payment's reference
    with lock:
        acks = dict(acked)
    for p, n in enumerate(CONCERTS):
        mine = [(rid, pid, amount) for rid, (pid, amount, _) in acks.items() if rid % 2 == p]
        if not mine:
            continue
        for row in psql(n, """
SELECT a.rid, r.status, p.id, p.amount, p.ref,
       (SELECT count(*) FROM ticket.seats s WHERE s.reservation_id = a.rid AND s.sold),
       (SELECT count(*) FROM ticket.reservation_seats rs WHERE rs.reservation_id = a.rid)
FROM (VALUES %s) a(rid, pid, amount)
LEFT JOIN ticket.reservations r ON r.id = a.rid LEFT JOIN ticket.payments p ON p.reservation_id = a.rid
ORDER BY a.rid""" % values(mine)):
            rid, status, pid, amount, ref, sold, seats = row
            pid0, amount0, _ = acks[int(rid)]
            if status != "CONFIRMED" or pid != str(pid0) or amount != str(amount0) or sold != seats or seats == "0":
                lost.append("reservation %s: %s, payment %s of %s (acknowledged %s of %s), %s of %s seats sold"
                            % (rid, status, pid, amount, pid0, amount0, sold, seats))
            refs[int(rid)] = ref
    tap.ok(not lost, "%s: each of the %d acknowledged payments is CONFIRMED with its payment, seats SOLD"
           % (what, len(acks)), "\n".join(lost[:20]))

    debits = {}     # reference -> (user, reservation, amount, outcome) of every debit
    for n in USERS:
        for ref, uid, rid, amount, outcome in psql(n, "SELECT ref, user_id, reservation_id, amount, outcome FROM ticket.debits"):
            debits[ref] = (int(uid), int(rid), int(amount), outcome)
    wrong = []
    for rid, (pid, amount, uid) in acks.items():
        taken = [(ref, d) for ref, d in debits.items() if d[1] == rid and d[3] == "DEBITED"]
        if len(taken) != 1 or taken[0][0] != refs.get(rid) or taken[0][1][2] != amount or taken[0][1][0] != uid:
            wrong.append("reservation %s (user %s, %s won): debits %s" % (rid, uid, amount, taken))
    tap.ok(not wrong, "%s: each acknowledged payment has exactly one DEBITED debit, of its amount, under its reference"
           % what, "\n".join(wrong[:20]))

    sold = set()
    for n in CONCERTS:
        sold |= {r[0] for r in psql(n, "SELECT p.ref FROM ticket.payments p JOIN ticket.reservations r "
                                        "ON r.id = p.reservation_id WHERE r.status = 'CONFIRMED'")}
    orphans = ["%s %r" % (ref, d) for ref, d in debits.items() if d[3] == "DEBITED" and ref not in sold]
    tap.ok(not orphans, "%s: no DEBITED debit without its CONFIRMED payment (%d debited)"
           % (what, sum(d[3] == "DEBITED" for d in debits.values())), "\n".join(orphans[:20]))

    paying = [n + ": " + r[0] for n in CONCERTS for r in psql(n, "SELECT id FROM ticket.reservations WHERE status = 'PAYING'")]
    tap.eq(paying, [], "%s: no reservation is left PAYING" % what)

    unbalanced = [n + ": " + " ".join(r) for n in USERS for r in psql(n, """
SELECT w.user_id, w.balance, coalesce(sum(CASE l.type WHEN 'PAYMENT' THEN -l.amount ELSE l.amount END), 0)
FROM ticket.wallets w LEFT JOIN ticket.ledger l ON l.user_id = w.user_id
GROUP BY w.user_id, w.balance
HAVING w.balance <> coalesce(sum(CASE l.type WHEN 'PAYMENT' THEN -l.amount ELSE l.amount END), 0)""")]
    tap.eq(unbalanced, [], "%s: every wallet's balance is its ledger's sum" % what)

    tap.eq([": ".join(r) for r in psql(PROXY, "SELECT invariant, detail FROM admin.check_invariants()")], [],
           "%s: admin.check_invariants() on the proxy is empty" % what)


# ---------------------------------------------------------------- 1. each crash point by hand

def hold_by_hand(u, cid):
    """A queue token and a held seat over HTTP: (token, reservation id, amount)."""
    c = lib.Client(HTTP_PORT)
    r = c.req("POST", "/api/concerts/%d/queue" % cid, key=u.key)
    token = r.json()["token"]
    with lock:
        seat = next(next_seat[cid])
    r = c.req("POST", "/api/reservations", {"concert_id": cid, "date": DATE[cid], "seat_nos": [seat]}, key=u.key, token=token)
    c.close()
    b = r.json()
    return token, int(b["reservation_id"]), int(b["amount"])


def on_user(u, sql):
    return one(USERS[u.id % 2], sql)


def balance(u):
    return int(on_user(u, "SELECT balance FROM ticket.wallets WHERE user_id = %d" % u.id))


ROUTER = "ticket_router"     # the role api.* run as: it logs in to the partitions as ticket_proxy
hand = make_users("faults-hand-", 2, 1_000_000)

# (a) PAYING, not debited; the user's node killed: released, no money taken, a late debit refused.
ua = hand[0]
token, rid, amount = hold_by_hand(ua, concerts[0])
before = balance(ua)
got = one(PROXY, "SELECT route.pay_reserve(route.slot(%d), %d, %s, %s, %d, 'faults-a')"
          % (rid, ua.id, lib.sql_lit(ua.key), lib.sql_lit(token), rid), role=ROUTER)
tap.eq(got, str(amount), "crash point (a): step 1 by hand, reservation %d PAYING under faults-a" % rid)
tap.ok(kill9(USERS[ua.id % 2]), "crash point (a): %s killed before the debit" % USERS[ua.id % 2])
rc, rows, err = psql(PROXY, "SELECT confirmed, released, failed FROM admin.recover_payments('0 seconds')", check=False)
still = one(CONCERTS[rid % 2], "SELECT status FROM ticket.reservations WHERE id = %d" % rid)
tap.ok(rc == 0 and rows == [["0", "0", "1"]] and still == "PAYING",
       "crash point (a): recovery while the user's node is down leaves it PAYING, one failed",
       "recover_payments: %s %s %s; status %s" % (rc, rows, err, still))
tap.ok(restart(USERS[ua.id % 2]) is not None, "crash point (a): %s started again" % USERS[ua.id % 2])
tap.eq(recover("crash point (a)"), (0, 1), "crash point (a): recovery releases it (0 confirmed, 1 released)")
tap.eq(psql(CONCERTS[rid % 2], "SELECT status, payment_ref IS NULL FROM ticket.reservations WHERE id = %d" % rid),
       [["HELD", "t"]], "crash point (a): the reservation is HELD again")
tap.eq(psql(USERS[ua.id % 2], "SELECT outcome, ledger_id IS NULL FROM ticket.debits WHERE ref = 'faults-a'"),
       [["ABORTED", "t"]], "crash point (a): its reference is ABORTED on the user's side")
got = psql(PROXY, "SELECT outcome, ledger_id IS NULL FROM route.debit(route.slot(%d), %d, 'faults-a', %d, %d)"
           % (ua.id, ua.id, rid, amount), role=ROUTER)
tap.eq((got, balance(ua)), ([["ABORTED", "t"]], before),
       "crash point (a): a late debit of faults-a is ABORTED and takes no money")
c = lib.Client(HTTP_PORT)
r = c.req("POST", "/api/reservations/%d/payment" % rid, key=ua.key, token=token)
c.close()
tap.ok(r.status == 201 and balance(ua) == before - amount,
       "crash point (a): the hold is paid over HTTP afterwards (201), once", repr(r))
if r.status == 201:
    acked[rid] = (int(r.json()["payment_id"]), amount, ua.id)

# (b) PAYING and debited; the user's node killed before the answer is used: confirmed.
ub = hand[1]
token, rid, amount = hold_by_hand(ub, concerts[1])
before = balance(ub)
one(PROXY, "SELECT route.pay_reserve(route.slot(%d), %d, %s, %s, %d, 'faults-b')"
    % (rid, ub.id, lib.sql_lit(ub.key), lib.sql_lit(token), rid), role=ROUTER)
got = psql(PROXY, "SELECT outcome FROM route.debit(route.slot(%d), %d, 'faults-b', %d, %d)"
           % (ub.id, ub.id, rid, amount), role=ROUTER)
tap.eq(got, [["DEBITED"]], "crash point (b): steps 1 and 2 by hand, reservation %d PAYING and debited" % rid)
tap.ok(kill9(USERS[ub.id % 2]), "crash point (b): %s killed after the debit" % USERS[ub.id % 2])
rc, rows, err = psql(PROXY, "SELECT confirmed, released, failed FROM admin.recover_payments('0 seconds')", check=False)
tap.ok(rc == 0 and rows == [["0", "0", "1"]], "crash point (b): recovery while the user's node is down: one failed",
       "recover_payments: %s %s %s" % (rc, rows, err))
tap.ok(restart(USERS[ub.id % 2]) is not None and lib.wait_until(proxy_reaches_all, 30),
       "crash point (b): %s started again, the proxy reaches it" % USERS[ub.id % 2])
tap.eq(recover("crash point (b)"), (1, 0), "crash point (b): recovery confirms it (1 confirmed, 0 released)")
pid = one(CONCERTS[rid % 2], "SELECT p.id FROM ticket.payments p JOIN ticket.reservations r ON r.id = p.reservation_id "
                             "WHERE p.ref = 'faults-b' AND r.status = 'CONFIRMED'")
tap.ok(pid is not None and balance(ub) == before - amount,
       "crash point (b): CONFIRMED with its payment, the money taken once")
if pid is not None:
    acked[rid] = (int(pid), amount, ub.id)
check_books("crash points")

# ---------------------------------------------------------------- 2. kill -9 during payments

FAULTS = ["concerts", "users", "proxy"]
totals = dict(attempted=0, acked=0, answers_503=0, confirmed=0, released=0)
for rnd in range(1, ROUNDS + 1):
    kind = FAULTS[(rnd - 1) % 3]
    victim = PROXY if kind == "proxy" else "%s-%d" % (kind, (rnd - 1) // 3 % 2)
    what = "round %d (%s)" % (rnd, victim)
    # Every user may buy 4 seats of each concert; the clients take them in turn. Four
    # users a client: with two, the clients of the live partition could buy all their
    # seats before the dead one came back, and nothing was left to pay afterwards (a
    # round of 96 payments attempted of 96 possible, 7 acknowledged after the restart).
    users = make_users("faults-%d-" % rnd, CLIENTS * 4, 5_000_000)
    # Users made one after the other, so on both user partitions, and both concerts:
    # a client takes its pairs in turn, so each meets every node that fails.
    pairs = [[(u, cid) for u in users[4 * i:4 * i + 4] for cid in concerts] for i in range(CLIENTS)]
    light, progs = programs()
    acks0 = len(acked)
    stop = threading.Event()
    threads = [threading.Thread(target=client, args=(i, rnd, pairs[i], stop), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    lib.wait_until(lambda: len(acked) - acks0 >= ACKS, 60)
    before = len(acked) - acks0
    failed0 = count(rnd, status=503)
    gone = kill9(victim)
    met = lib.wait_until(lambda: count(rnd, status=503) > failed0, 10)
    took = restart(victim)
    back = took is not None and lib.wait_until(lambda: lib.health(HTTP_PORT).status == 200, 30) \
        and lib.wait_until(proxy_reaches_all, 30)
    tap.ok(gone and took is not None and back, "%s: %s killed mid-payments (%d acknowledged before), started "
           "again in %.1f s, /api/health answers 200, the proxy reaches every node" % (what, victim, before, took or 0))
    tap.ok(met, "%s: the clients met the dead node (%d answers 503)" % (what, count(rnd, status=503)))
    acks1 = len(acked)
    lib.wait_until(lambda: len(acked) - acks1 >= ACKS, 60)
    stop.set()
    for t in threads:
        t.join(60)
    tap.ok(len(acked) - acks1 >= ACKS, "%s: payments are acknowledged again after the restart (%d)"
           % (what, len(acked) - acks1))
    light1, progs1 = programs()
    tap.ok(light1 == light and light and set(progs) <= set(progs1) and progs,
           "%s: lighttpd and its %d FastCGI programs ran on, the same processes" % (what, len(progs)),
           "lighttpd %s -> %s, programs %s -> %s" % (light, light1, progs, progs1))
    with lock:
        mine = [b for b in bad if b.startswith("round %d " % rnd)]
    tap.ok(not mine, "%s: every failure answer was a 4xx or the JSON 503 DATABASE_UNAVAILABLE "
           "(no 500, no connection error)" % what, "\n".join(mine[:20]))
    rec = recover(what)
    tap.ok(rec is not None, "%s: recovery leaves nothing PAYING (%s confirmed, %s released)"
           % (what, *(rec or ("?", "?"))))
    check_books(what)
    attempted = count(rnd, "pay")
    totals["attempted"] += attempted
    totals["acked"] += len(acked) - acks0
    totals["answers_503"] += count(rnd, status=503)
    if rec:
        totals["confirmed"] += rec[0]
        totals["released"] += rec[1]
    with lock:
        spread = sorted("%s %s %s: %d" % (k, s, c or "", n) for (r, k, s, c), n in answers.items() if r == rnd)
    tap.diag("%s: %d payments attempted, %d acknowledged; answers: %s"
             % (what, attempted, len(acked) - acks0, "; ".join(spread)))

for name, v in totals.items():
    tap.figure("faults_" + name, v)
tap.diag("the whole run took %d s" % (time.time() - t0))
svc.stop()
sys.exit(tap.done())
