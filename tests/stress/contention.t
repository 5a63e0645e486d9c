#!/usr/bin/env python3
"""Contention over HTTP (FastCGI): many clients race for the seats of one
date, round after round, with payments, cancels and expiries in between.

Holds are of 2 to 4 seats (max_seats_per_user 4), asked in a random order,
so that they overlap between clients.  Each round: CLIENTS users (of USERS
admitted ones) start together, try a few of the hot seats, then follow the
seat map until no seat is left.  The winners then pay (each payment sent
twice at once with one Idempotency-Key, as a double click does), cancel or
keep their hold; while the payments are in flight another session moves
holds into the past (expiry under load), some losers ask for the very seats
being paid and the others grab whatever comes free.  Afterwards every seat
has at most one live holder and one sale, every 201 is exactly one row,
every payment either succeeded with its hold valid or got 410 for a hold
that had run out and moved no money, no reservation was paid twice, no
wallet lost or made a won, admin.check_invariants() is empty, and the
database log shows no deadlock (40P01, "deadlock detected").

Scale: STRESS_USERS (500), STRESS_CLIENTS (200), STRESS_ROUNDS (4),
STRESS_PORT (18310); run-long.sh raises them.
"""
import os
import random
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

USERS = lib.env_int("STRESS_USERS", 500)
CLIENTS = min(lib.env_int("STRESS_CLIENTS", 200), USERS)
ROUNDS = lib.env_int("STRESS_ROUNDS", 4)
PORT = lib.env_int("STRESS_PORT", 18310)
SEATS = 50
MAX_SEATS = 4                 # max_seats_per_user: holds of 2 to 4 seats
BALANCE = 10_000_000          # enough for every payment a user can make here
HOT = 8                       # everybody's first try is among these seats
PGLOG = os.path.join(lib.VAR, "log", "postgresql.log")

tap = lib.Tap()
lib.exit_on_signals()
t0 = time.time()

# Where this file's part of the database log begins (deadlocks are counted in it).
log_start = os.path.getsize(PGLOG) if os.path.exists(PGLOG) else 0
svc = lib.Service(PORT).start()
cid, dates = lib.create_concert("Stress", seats=SEATS, max_seats=MAX_SEATS, max_active=max(1000, USERS))
users = lib.create_users("stress", USERS, cid, charge=BALANCE)
tap.eq(len(users), USERS, "%d users made, each with a token" % USERS)
tap.eq(lib.psql_one("SELECT count(*) FROM ticket.queue_tokens WHERE concert_id = %d AND status = 'ACTIVE'" % cid),
       str(USERS), "all %d tokens are ACTIVE (max_active %d)" % (USERS, max(1000, USERS)))

lock = threading.Lock()
answers = {}            # (kind, status, code) -> count
holds = {}              # reservation_id -> (user_id, date, (seat_no, ...)), from every 201 of a hold
payments = {}           # reservation_id -> (payment_id, amount, user_id), from every 201 of a payment
pay_answers = {}        # reservation_id -> [(status, body), ...] of the payment sent twice
gone = set()            # reservation ids whose payment answered 410
cancelled = []          # reservation ids cancelled with 204
oddities = []           # any answer this test does not expect
requests = [0]


def note(kind, r, expected):
    key = (kind, r.status, r.code())
    with lock:
        requests[0] += 1
        answers[key] = answers.get(key, 0) + 1
        if (r.status, r.code()) not in expected:
            oddities.append("%s: %r" % (kind, r))


def renew_token(c, u):
    """A paid user's token is DONE: join again. With free slots that is a turn at
    once, unless another join ahead in line is still committing: then WAITING, and
    the poll after Retry-After (1 s) is admitted, as a page would do it."""
    r = c.req("POST", "/api/concerts/%d/queue" % cid, key=u.key)
    note("queue", r, {(201, None), (200, None)})
    if r.status not in (200, 201):
        return
    u.token = r.json()["token"]
    for _ in range(10):
        if r.json().get("status") != "WAITING":
            return
        time.sleep(int(r.headers.get("retry-after", "1")))
        r = c.req("GET", "/api/queue", token=u.token)
        note("poll", r, {(200, None)})
        if r.status != 200:
            return


def seat_map(c, u, date):
    for _ in range(3):
        r = c.req("GET", "/api/concerts/%d/dates/%s/seats" % (cid, date), key=u.key, token=u.token)
        note("seat map", r, {(200, None), (401, "QUEUE_TOKEN_EXPIRED")})
        if r.status == 200:
            return [s["seat_no"] for s in r.json()["seats"] if s["status"] == "AVAILABLE"]
        if r.code() == "QUEUE_TOKEN_EXPIRED":
            renew_token(c, u)
        else:
            return []
    return []


def hold(c, u, date, seats):
    """One hold of these seats (asked in this order): the reservation id when
    won, False when lost, None to stop."""
    r = c.req("POST", "/api/reservations", {"concert_id": cid, "date": date, "seat_nos": seats},
              key=u.key, token=u.token)
    note("hold", r, {(201, None), (409, "SEAT_UNAVAILABLE"), (409, "HOLD_LIMIT_REACHED"),
                     (401, "QUEUE_TOKEN_EXPIRED")})
    if r.status == 201:
        b = r.json()
        with lock:
            holds[int(b["reservation_id"])] = (u.id, date, tuple(sorted(seats)))
        ok = b["seat_nos"] == sorted(seats) and b["status"] == "HELD" and b["date"] == date
        if not ok:
            with lock:
                oddities.append("hold body: %r" % b)
        return int(b["reservation_id"])
    if r.code() == "QUEUE_TOKEN_EXPIRED":
        renew_token(c, u)
        return False
    if r.code() == "SEAT_UNAVAILABLE":
        return False
    return None


def some(seats, k):
    """k of these seats (all if fewer) in a random order: holds overlap and
    lock requests come in every order."""
    return random.sample(seats, min(k, len(seats)))


def race(i, racers, date, barrier, won):
    """Client i: 2 to 4 hot seats at the start signal, then the seat map until it wins or none is left."""
    u = racers[i]
    want = random.randint(2, MAX_SEATS)
    c = lib.Client(PORT)
    c.req("GET", "/api/health")           # connect before the start
    barrier.wait()
    seats = some(list(range(1, HOT + 1)), want)
    for _ in range(SEATS * 2):
        rid = hold(c, u, date, seats)
        if rid:
            with lock:
                won.append((u, rid, seats))
            break
        if rid is None:
            break
        free = seat_map(c, u, date)
        if not free:
            break
        seats = some(free, want)
    c.close()


def settle(i, plan, barrier, date):
    """Winner i pays (twice at once, one key), cancels or keeps its hold; a
    loser asks for the seats being paid, or keeps grabbing freed seats."""
    what, u, rid, seats = plan[i]
    c = lib.Client(PORT)
    c.req("GET", "/api/health")
    barrier.wait()
    if what == "pay":
        r = c.req("POST", "/api/reservations/%d/payment" % rid, key=u.key, token=u.token,
                  idem="contention-%d" % rid)
        note("pay", r, {(201, None), (410, "HOLD_EXPIRED")})
        with lock:
            pay_answers.setdefault(rid, []).append((r.status, r.body))
        if r.status == 201:
            b = r.json()
            with lock:
                payments[rid] = (int(b["payment_id"]), int(b["amount"]), u.id)
            if int(b["reservation_id"]) != rid or b["status"] != "CONFIRMED":
                with lock:
                    oddities.append("payment body: %r" % b)
        elif r.status == 410:
            with lock:
                gone.add(rid)
    elif what == "poach":
        hold(c, u, date, some(seats, len(seats)))
    elif what == "cancel":
        r = c.req("DELETE", "/api/reservations/%d" % rid, key=u.key, token=u.token)
        note("cancel", r, {(204, None), (409, "RESERVATION_NOT_HELD")})
        if r.status == 204:
            with lock:
                cancelled.append(rid)
    elif what == "grab":
        deadline = time.time() + 2
        while time.time() < deadline:
            free = seat_map(c, u, date)
            if free:
                got = hold(c, u, date, some(free, random.randint(1, 2)))
                if got or got is None:
                    break
            else:
                time.sleep(0.02)
    c.close()


class Expirer:
    """A psql session that moves holds into the past one by one, each in its
    own transaction, while payments for them are in flight."""

    def __init__(self):
        self.p = subprocess.Popen(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))
        self.p.stdin.write("SELECT 'ready';\n")
        self.p.stdin.flush()
        self.p.stdout.readline()          # connected

    def run(self, ids):
        for i in ids:
            self.p.stdin.write("SELECT pg_sleep(%.4f);\n" % (random.random() * 0.004))
            self.p.stdin.write(
                "WITH r AS (UPDATE ticket.reservations r SET expires_at = now() "
                "WHERE r.id = %d AND r.status = 'HELD' AND r.expires_at > now() RETURNING r.id), "
                "c AS (UPDATE ticket.reservation_seats rs SET claim = tstzrange(lower(claim), "
                "greatest(lower(claim), now())) FROM r WHERE rs.reservation_id = r.id), "
                "s AS (UPDATE ticket.seats s SET held_until = now() FROM r "
                "WHERE s.reservation_id = r.id AND NOT s.sold) SELECT id FROM r;\n" % i)
            self.p.stdin.flush()
        out, _ = self.p.communicate()
        if self.p.returncode != 0:
            raise RuntimeError("the expiring session failed")
        return [int(x) for x in out.split() if x.isdigit()]


current = {"date": dates[0]}
conflict_rounds = 0
expired_under_load = []
for rnd in range(1, ROUNDS + 1):
    date = current["date"]
    avail = int(lib.psql_one(
        "SELECT count(*) FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id "
        "WHERE d.concert_id = %d AND d.on_date = '%s' AND NOT s.sold" % (cid, date)))
    if avail < 10:
        # This date is nearly sold out: the next race is for a new one.
        did = int(lib.psql_one("SELECT admin.add_date(%d, now() + interval '%d days')" % (cid, 7 + rnd)))
        nd = lib.psql_one("SELECT on_date FROM ticket.concert_dates WHERE id = %d" % did)
        current["date"] = date = nd
        avail = SEATS
    racers = random.sample(users, CLIENTS)
    won = []
    before = dict(answers)
    barrier = threading.Barrier(CLIENTS)
    started = time.time()
    errs = lib.run_threads(CLIENTS, race, racers, date, barrier, won)
    took = time.time() - started
    conflicts = answers.get(("hold", 409, "SEAT_UNAVAILABLE"), 0) - before.get(("hold", 409, "SEAT_UNAVAILABLE"), 0)
    tap.ok(not errs, "round %d: %d clients raced without a client error" % (rnd, CLIENTS), "\n".join(errs[:3]))
    taken = sorted(n for _, _, seats in won for n in seats)
    tap.ok(len(taken) == avail and len(set(taken)) == avail,
           "round %d: the %d free seats of %s went to %d winners, each seat to one" % (rnd, avail, date, len(won)),
           "seats won: %s" % taken)
    if conflicts > 0:
        conflict_rounds += 1
    tap.diag("round %d: %d winners, %d conflicts (409 SEAT_UNAVAILABLE) in %.2f s" % (rnd, len(won), conflicts, took))
    live = lib.psql(
        "SELECT count(*), count(DISTINCT rs.seat_id) FROM ticket.reservation_seats rs "
        "JOIN ticket.reservations r ON r.id = rs.reservation_id WHERE r.concert_id = %d AND rs.claim @> now()" % cid)
    tap.ok(live[0][0] == live[0][1], "round %d: no seat has two live claims (%s claims on %s seats)"
           % (rnd, live[0][0], live[0][1]))

    # Settle: pay half (each payment sent twice at once), cancel a fifth, keep
    # the rest; a loser per payment asks for its seats, the others grab what
    # comes free, while holds of payers and keepers are moved into the past.
    random.shuffle(won)
    npay = len(won) // 2
    ncancel = len(won) // 5
    plan = [("pay", u, rid, seats) for u, rid, seats in won[:npay] for _twice in (1, 2)] + \
           [("cancel", u, rid, seats) for u, rid, seats in won[npay:npay + ncancel]]
    winners = set(u.id for u, _, _ in won)
    losers = [u for u in racers if u.id not in winners][:max(10 + npay, CLIENTS // 4)]
    plan += [("poach", u, None, seats) for u, (_, _, seats) in zip(losers, won[:npay])]
    plan += [("grab", u, None, None) for u in losers[npay:]]
    targets = [rid for _, rid, _ in won[:npay]] + [rid for _, rid, _ in won[npay + ncancel:]]
    random.shuffle(targets)
    targets = targets[:len(targets) * 2 // 3]
    barrier = threading.Barrier(len(plan) + 1)
    exp_result = []
    expiring = Expirer()

    def run_expirer():
        barrier.wait()
        exp_result.extend(expiring.run(targets))
    te = threading.Thread(target=run_expirer, daemon=True)
    te.start()
    errs = lib.run_threads(len(plan), settle, plan, barrier, date)
    te.join()
    expired_under_load.extend(exp_result)
    tap.ok(not errs, "round %d: payments, cancels and grabs ran without a client error" % rnd, "\n".join(errs[:3]))
    # Whatever is still held runs out before the next round.
    lib.expire_holds("r.concert_id = %d" % cid)

elapsed = time.time() - t0

# ------------------------------------------------------------------ afterwards
tap.ok(not oddities, "every answer was a success or an expected refusal (no 5xx, no lost answer)",
       "\n".join(oddities[:20]))
tap.ok(conflict_rounds == ROUNDS, "the seats were really contended: conflicts in every round (%d of %d)"
       % (conflict_rounds, ROUNDS))

rows = lib.psql(
    "SELECT r.id, r.user_id, d.on_date, string_agg(s.seat_no::text, ',' ORDER BY s.seat_no) "
    "FROM ticket.reservations r JOIN ticket.concert_dates d ON d.id = r.date_id "
    "JOIN ticket.reservation_seats rs ON rs.reservation_id = r.id JOIN ticket.seats s ON s.id = rs.seat_id "
    "WHERE r.concert_id = %d GROUP BY 1, 2, 3" % cid)
db_holds = dict((int(r[0]), (int(r[1]), r[2], tuple(int(n) for n in r[3].split(",")))) for r in rows)
missing = sorted(set(holds) - set(db_holds))
extra = sorted(set(db_holds) - set(holds))
wrong = [i for i in holds if i in db_holds and db_holds[i] != holds[i]]
tap.eq(answers.get(("hold", 201, None), 0), len(holds), "no reservation id was answered twice")
tap.ok(not missing and not extra and not wrong and len(rows) == len(db_holds),
       "every 201 of a hold is exactly one reservation of that user, date and seats (%d)" % len(holds),
       "201 without a row: %s\nrows without a 201: %s\ndifferent: %s" % (missing[:10], extra[:10], wrong[:10]))

tap.eq(lib.psql(
    "SELECT a.seat_id, a.reservation_id, b.reservation_id FROM ticket.reservation_seats a "
    "JOIN ticket.reservation_seats b ON a.seat_id = b.seat_id AND a.reservation_id < b.reservation_id "
    "AND a.claim && b.claim JOIN ticket.reservations r ON r.id = a.reservation_id WHERE r.concert_id = %d" % cid),
    [], "no seat was ever claimed by two reservations at overlapping times")
tap.eq(lib.psql(
    "SELECT s.id, count(*) FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id "
    "JOIN ticket.reservation_seats rs ON rs.seat_id = s.id JOIN ticket.payments p ON p.reservation_id = rs.reservation_id "
    "WHERE d.concert_id = %d GROUP BY s.id HAVING count(*) > 1" % cid),
    [], "no seat was sold twice")
tap.eq(lib.psql(
    "SELECT s.id FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id WHERE d.concert_id = %d "
    "AND s.sold AND NOT EXISTS (SELECT 1 FROM ticket.payments p JOIN ticket.reservation_seats rs "
    "USING (reservation_id) WHERE rs.seat_id = s.id)" % cid),
    [], "no seat ended SOLD without a payment")

db_pay = dict((int(r[0]), (int(r[1]), int(r[2]), int(r[3]))) for r in lib.psql(
    "SELECT p.reservation_id, p.id, p.amount, p.user_id FROM ticket.payments p "
    "JOIN ticket.reservations r ON r.id = p.reservation_id WHERE r.concert_id = %d" % cid))
tap.ok(db_pay == payments, "every 201 of a payment is exactly one payment row with its id and amount (%d)"
       % len(payments), "only answered: %s\nonly in the database: %s" % (
           sorted(set(payments) - set(db_pay))[:10], sorted(set(db_pay) - set(payments))[:10]))
twice = [(rid, a) for rid, a in pay_answers.items() if len(a) != 2 or a[0] != a[1]]
tap.ok(pay_answers and not twice, "each payment sent twice at once with one key got one answer twice (%d)"
       % len(pay_answers), "\n".join("%d: %r" % (rid, a) for rid, a in twice[:10]))
tap.eq(lib.psql(
    "SELECT l.reservation_id, count(*) FROM ticket.ledger l JOIN ticket.reservations r ON r.id = l.reservation_id "
    "WHERE r.concert_id = %d AND l.type = 'PAYMENT' GROUP BY 1 HAVING count(*) > 1" % cid),
    [], "no reservation was paid twice (one PAYMENT ledger row at most)")
confirmed = set(int(r[0]) for r in lib.psql(
    "SELECT id FROM ticket.reservations WHERE concert_id = %d AND status = 'CONFIRMED'" % cid))
tap.eq(confirmed, set(payments), "the paid reservations and only they are CONFIRMED")
late = lib.psql(
    "SELECT p.reservation_id, p.created_at, r.expires_at FROM ticket.payments p "
    "JOIN ticket.reservations r ON r.id = p.reservation_id WHERE r.concert_id = %d AND p.created_at >= r.expires_at" % cid)
tap.ok(not late, "every payment that succeeded began while its hold was still valid (by the database clock)",
       repr(late[:10]))
debited = set(int(r[0]) for r in lib.psql(
    "SELECT l.reservation_id FROM ticket.ledger l JOIN ticket.reservations r ON r.id = l.reservation_id "
    "WHERE r.concert_id = %d AND l.type = 'PAYMENT'" % cid))
tap.eq(sorted(debited), sorted(payments),
       "money moved for the payments answered 201 and no other (none of the %d answered 410)" % len(gone))
# Holds last 5 minutes: only the expiring session ends them within a round.
# (A payment it raced may still succeed: one that began before the new end.)
expired = set(expired_under_load)
tap.ok(gone <= expired, "every 410 was for a hold the expiring session had ended (%d of the %d it ended)"
       % (len(gone), len(expired)), "410 for a hold still valid: %s" % sorted(gone - expired)[:10])

spent = {}
for _, amount, uid in payments.values():
    spent[uid] = spent.get(uid, 0) + amount
bal = dict((int(r[0]), int(r[1])) for r in lib.psql(
    "SELECT user_id, balance FROM ticket.wallets WHERE user_id = ANY(ARRAY[%s])" % ",".join(str(u.id) for u in users)))
bad = ["user %d: balance %d, expected %d" % (u.id, bal[u.id], BALANCE - spent.get(u.id, 0))
       for u in users if bal.get(u.id) != BALANCE - spent.get(u.id, 0)]
tap.ok(not bad, "every wallet holds its charge minus the payments its user saw succeed", "\n".join(bad[:10]))

inv = lib.invariants()
tap.ok(not inv, "admin.check_invariants() is empty", "\n".join(inv[:10]))
tap.eq(lib.books_difference(), 0, "the books balance (admin.books() difference 0)")
tap.eq(lib.health(PORT).status, 200, "the service still answers")
with open(PGLOG, errors="replace") as f:
    f.seek(log_start)
    deadlocks = [line.rstrip() for line in f
                 if "ERROR:" in line and ("40P01" in line or "deadlock detected" in line)]
tap.ok(not deadlocks, "no deadlock in the database log (40P01: %d)" % len(deadlocks), "\n".join(deadlocks[:10]))

total = requests[0]
conflicts_total = sum(n for (k, s, c), n in answers.items() if k == "hold" and c == "SEAT_UNAVAILABLE")
tap.diag("answers: " + ", ".join("%s %s%s: %d" % (k, s, " " + c if c else "", n)
                                 for (k, s, c), n in sorted(answers.items(), key=lambda x: str(x[0]))))
tap.figure("contention_requests", total)
tap.figure("contention_conflicts", conflicts_total)
tap.figure("contention_holds", len(holds))
tap.figure("contention_payments", len(payments))
tap.figure("contention_expired_under_load", len(expired_under_load))
tap.figure("contention_410", len(gone))
tap.figure("contention_deadlocks", len(deadlocks))
tap.figure("contention_seconds", "%.1f" % elapsed)
svc.stop()
sys.exit(tap.done())
