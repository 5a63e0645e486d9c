#!/usr/bin/env python3
"""Money over HTTP: the Jepsen "bank" invariant.

Several wallets are charged by many clients at once while each wallet's
owner holds seats and pays for them (402 and a cancel when short) and a
reader watches the balance.  Each owner's first payment, for a seat dearer
than the first charge, comes before its wallet's chargers start: a 402 for
sure.  Every second seat bought is refunded at once (less the fee), while
the charges go on.  Afterwards each balance equals its ledger, is >= 0, and
equals its first charge plus every charge the clients saw succeed minus
every payment plus every refund they saw succeed: no won lost or made.  Every fifth charge is sent by all
of the wallet's chargers at once with one Idempotency-Key: each such key
was answered with one transaction, is stored once, and is one ledger row.

Then 50 simultaneous retries of one charge and of one payment with the
same Idempotency-Key, first through FastCGI and then through CGI (one
process per request, so the 50 really reach the database at once): all
50 get the same answer, and the money moved once.  The same key with
another amount is 422 and moves nothing.

Scale: MONEY_WALLETS (8), MONEY_CHARGERS (3 per wallet), MONEY_OPS (25
charges per charger, 6 purchases per wallet), MONEY_STORM (50), ports
MONEY_PORT (18320) and MONEY_PORT + 2 (CGI; pgbouncer on + 3).
"""
import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

WALLETS = lib.env_int("MONEY_WALLETS", 8)
CHARGERS = lib.env_int("MONEY_CHARGERS", 3)
OPS = lib.env_int("MONEY_OPS", 25)
BUYS = min(4, max(2, OPS // 4))  # max_seats_per_user counts seats bought, and is at most 4
STORM = lib.env_int("MONEY_STORM", 50)
PORT = lib.env_int("MONEY_PORT", 18320)
START = 100_000               # first charge: less than the dearest seat

tap = lib.Tap()
lib.exit_on_signals()
t0 = time.time()

cid, dates = lib.create_concert("Money", seats=2000, max_active=1000, max_seats=4, days=(9,))
date = dates[0]
owners = lib.create_users("bank", WALLETS, cid, charge=START)
DEAR = 666                    # seats 1..666 of 2000 cost 150,000, more than START

lock = threading.Lock()
oddities = []
charges = {}        # user id -> {transaction_id: amount} from every 200 of a charge
keyed = {}          # Idempotency-Key -> {transaction_id, ...} answered to the chargers that sent it
unkeyed = {}        # user id -> {transaction_id, ...} answered to charges without a key
paid = {}           # user id -> {payment_id: amount} from every 201 of a payment
refunded = {}       # user id -> {reservation_id: refund} from every 200 of a refund
refused_first = set()   # owners whose first payment (more than the balance) was 402
ready = {}          # user id -> Event: the owner's first payment is answered, chargers may start
negative = []       # any balance seen below 0
counts = {"requests": 0, "402": 0, "409": 0}


def seen(kind, r, expected):
    with lock:
        counts["requests"] += 1
        if (r.status, r.code()) not in expected:
            oddities.append("%s: %r" % (kind, r))
        j = r.json()
        if isinstance(j, dict) and isinstance(j.get("balance"), int) and j["balance"] < 0:
            negative.append("%s: %r" % (kind, r))


def charger(i, svc_port):
    u = owners[i % WALLETS]
    c = lib.Client(svc_port)
    ready[u.id].wait(60)
    for k in range(OPS):
        amount = random.randint(1, 60_000)
        # Every fifth charge reuses a key that a sibling charger also sends.
        idem = "bank-%d-%d" % (u.id, k) if k % 5 == 0 else None
        if idem:
            amount = 1000 + k
        r = c.req("POST", "/api/wallet/charge", {"amount": amount}, key=u.key, idem=idem)
        seen("charge", r, {(200, None)})
        if r.status == 200:
            b = r.json()
            with lock:
                prev = charges.setdefault(u.id, {}).get(int(b["transaction_id"]))
                if prev is not None and prev != amount:
                    oddities.append("transaction %s answered for %d and %d" % (b["transaction_id"], prev, amount))
                charges[u.id][int(b["transaction_id"])] = amount
                if idem:
                    keyed.setdefault(idem, set()).add(int(b["transaction_id"]))
                else:
                    unkeyed.setdefault(u.id, set()).add(int(b["transaction_id"]))
    c.close()


def buyer(i, svc_port):
    u = owners[i]
    c = lib.Client(svc_port)
    bought = 0
    tries = 0
    first = True
    while bought < BUYS and tries < BUYS * 20:
        tries += 1
        # The first payment is for a dear seat, before any charge: refused 402.
        seat = random.randint(1, DEAR if first else 1900)   # 1901-2000 are for the single-user checks below
        r = c.req("POST", "/api/reservations", {"concert_id": cid, "date": date, "seat_no": seat},
                  key=u.key, token=u.token)
        seen("hold", r, {(201, None), (409, "SEAT_UNAVAILABLE"), (401, "QUEUE_TOKEN_EXPIRED")})
        if r.code() == "QUEUE_TOKEN_EXPIRED":
            r = c.req("POST", "/api/concerts/%d/queue" % cid, key=u.key)
            seen("queue", r, {(201, None)})
            u.token = r.json()["token"] if r.status == 201 else u.token
            continue
        if r.status != 201:
            continue
        rid = r.json()["reservation_id"]
        r = c.req("POST", "/api/reservations/%d/payment" % rid, key=u.key, token=u.token)
        seen("pay", r, {(201, None), (402, "INSUFFICIENT_BALANCE")})
        if first:
            first = False
            if r.status == 402:
                with lock:
                    refused_first.add(u.id)
            ready[u.id].set()
        if r.status == 201:
            b = r.json()
            with lock:
                paid.setdefault(u.id, {})[int(b["payment_id"])] = int(b["amount"])
            bought += 1
            if bought % 2 == 0:
                r = c.req("POST", "/api/reservations/%d/refund" % rid, key=u.key, idem="refund-%d" % rid)
                seen("refund", r, {(200, None)})
                if r.status == 200:
                    with lock:
                        refunded.setdefault(u.id, {})[rid] = int(r.json()["refund"])
        elif r.status == 402:
            with lock:
                counts["402"] += 1
            r = c.req("DELETE", "/api/reservations/%d" % rid, key=u.key, token=u.token)
            seen("cancel", r, {(204, None)})
    ready[u.id].set()           # even if no hold ever succeeded: the chargers must not wait
    c.close()


def reader(i, svc_port, stop):
    u = owners[i]
    c = lib.Client(svc_port)
    while not stop.is_set():
        r = c.req("GET", "/api/wallet", key=u.key)
        seen("wallet", r, {(200, None)})
    c.close()


def mixed(port):
    for u in owners:
        ready[u.id] = threading.Event()
    stop = threading.Event()
    readers = [threading.Thread(target=reader, args=(i, port, stop), daemon=True) for i in range(WALLETS)]
    for t in readers:
        t.start()
    n = WALLETS * CHARGERS + WALLETS

    def work(i):
        if i < WALLETS * CHARGERS:
            charger(i, port)
        else:
            buyer(i - WALLETS * CHARGERS, port)
    errs = lib.run_threads(n, work)
    stop.set()
    for t in readers:
        t.join()
    return errs


def storm(port, mode):
    """STORM simultaneous retries of one charge, then of one payment, with one key each."""
    u = lib.create_users("storm-%s-" % mode, 1, cid)[0]
    key = "storm-charge-%s-%d" % (mode, random.getrandbits(32))
    barrier = threading.Barrier(STORM)
    got = [None] * STORM

    def charge(i):
        c = lib.Client(port)
        c.req("GET", "/api/health")
        barrier.wait()
        got[i] = c.req("POST", "/api/wallet/charge", {"amount": 777_777}, key=u.key, idem=key)
        c.close()
    errs = lib.run_threads(STORM, charge)
    answers = set((r.status, r.body) for r in got if r is not None)
    tap.ok(not errs and len(answers) == 1 and list(answers)[0][0] == 200,
           "%s: %d simultaneous charges with one Idempotency-Key got one and the same 200" % (mode, STORM),
           "\n".join(sorted(set(repr(r) for r in got)))[:2000] + "\n".join(errs[:2]))
    tap.eq(lib.psql("SELECT type, amount FROM ticket.ledger WHERE user_id = %d" % u.id), [["CHARGE", "777777"]],
           "%s: that key moved the money once" % mode)

    # Same key, another amount: refused, and nothing moves.
    c = lib.Client(port)
    r = c.req("POST", "/api/wallet/charge", {"amount": 5}, key=u.key, idem=key)
    tap.ok(r.status == 422 and r.code() == "IDEMPOTENCY_KEY_REUSED",
           "%s: the same key with another amount is 422 IDEMPOTENCY_KEY_REUSED" % mode, repr(r))
    r = c.req("GET", "/api/wallet", key=u.key)
    tap.ok(r.status == 200 and r.json()["balance"] == 777_777, "%s: ... and moved nothing" % mode, repr(r))

    r = c.req("POST", "/api/reservations", {"concert_id": cid, "date": date, "seat_nos": [1990 - len(mode)]},
              key=u.key, token=u.token)
    if not tap.ok(r.status == 201, "%s: the storm user holds a seat" % mode, repr(r)):
        return
    rid = r.json()["reservation_id"]
    amount = r.json()["amount"]
    c.close()
    pkey = "storm-pay-%s-%d" % (mode, random.getrandbits(32))
    barrier = threading.Barrier(STORM)

    def pay(i):
        c = lib.Client(port)
        c.req("GET", "/api/health")
        barrier.wait()
        got[i] = c.req("POST", "/api/reservations/%d/payment" % rid, key=u.key, token=u.token, idem=pkey)
        c.close()
    got = [None] * STORM
    errs = lib.run_threads(STORM, pay)
    answers = set((r.status, r.body) for r in got if r is not None)
    tap.ok(not errs and len(answers) == 1 and list(answers)[0][0] == 201,
           "%s: %d simultaneous payments with one Idempotency-Key got one and the same 201" % (mode, STORM),
           "\n".join(sorted(set(repr(r) for r in got)))[:2000] + "\n".join(errs[:2]))
    tap.eq(lib.psql("SELECT (SELECT count(*) FROM ticket.payments WHERE reservation_id = %d), "
                    "(SELECT count(*) FROM ticket.ledger WHERE reservation_id = %d), "
                    "(SELECT balance FROM ticket.wallets WHERE user_id = %d)" % (rid, rid, u.id)),
           [["1", "1", str(777_777 - amount)]], "%s: that key paid once: one payment, one ledger row" % mode)


# ------------------------------------------------------------------ FastCGI
svc = lib.Service(PORT).start()
started = time.time()
errs = mixed(PORT)
took = time.time() - started
tap.ok(not errs, "%d chargers, %d buyers and %d readers ran without a client error"
       % (WALLETS * CHARGERS, WALLETS, WALLETS), "\n".join(errs[:3]))
tap.ok(not oddities, "every answer was a success or an expected refusal (no 5xx, no lost answer)",
       "\n".join(oddities[:20]))
tap.ok(not negative, "no balance was ever seen below 0", "\n".join(negative[:5]))
npaid = sum(len(v) for v in paid.values())
tap.ok(npaid >= WALLETS, "payments succeeded (%d, at least one per wallet)" % npaid)
tap.eq(sorted(refused_first), sorted(u.id for u in owners),
       "each owner's first payment, for more than its balance, was refused 402 (%d 402s in all)" % counts["402"])

ids = ",".join(str(u.id) for u in owners)
db = dict((int(r[0]), (int(r[1]), int(r[2]), int(r[3]))) for r in lib.psql(
    "SELECT w.user_id, w.balance, coalesce(sum(CASE WHEN l.type = 'PAYMENT' THEN -l.amount ELSE l.amount END), 0), "
    "count(l.id) FROM ticket.wallets w LEFT JOIN ticket.ledger l ON l.user_id = w.user_id "
    "WHERE w.user_id IN (%s) GROUP BY w.user_id" % ids))
bad = []
for u in owners:
    balance, ledger_sum, rows = db[u.id]
    want = (START + sum(charges.get(u.id, {}).values()) - sum(paid.get(u.id, {}).values())
            + sum(refunded.get(u.id, {}).values()))
    nrows = 1 + len(charges.get(u.id, {})) + len(paid.get(u.id, {})) + len(refunded.get(u.id, {}))
    if balance != ledger_sum or balance < 0 or balance != want or rows != nrows:
        bad.append("user %d: balance %d, ledger sum %d, ledger rows %d; the clients saw %d and %d rows"
                   % (u.id, balance, ledger_sum, rows, want, nrows))
nrefunds = sum(len(v) for v in refunded.values())
tap.ok(nrefunds >= WALLETS, "refunds succeeded (%d, at least one per wallet)" % nrefunds)
tap.ok(not bad, "each balance = its ledger sum >= 0 = first charge + charges seen - payments seen + refunds seen",
       "\n".join(bad))
txs = [(uid, t, a) for uid, m in charges.items() for t, a in m.items()]
db_tx = set((int(r[0]), int(r[1]), int(r[2])) for r in lib.psql(
    "SELECT user_id, id, amount FROM ticket.ledger WHERE type = 'CHARGE' AND user_id IN (%s)" % ids))
tap.ok(set(txs) <= db_tx, "every transaction_id answered is a CHARGE row of that user and amount (%d)" % len(txs))
sent = set("bank-%d-%d" % (u.id, k) for u in owners for k in range(0, OPS, 5))
stored = dict((r[0], int(r[1])) for r in lib.psql(
    "SELECT key, body->>'transaction_id' FROM ticket.idempotency_keys WHERE key LIKE 'bank-%%' AND user_id IN (%s)" % ids))
split = dict((k, sorted(t)) for k, t in keyed.items() if len(t) != 1 or stored.get(k) not in t)
tap.ok(set(stored) == sent == set(keyed) and not split,
       "each key sent by %d chargers at once was answered with one transaction, the one stored for it (%d keys)"
       % (CHARGERS, len(sent)),
       "sent, not stored: %s\nstored, not sent: %s\nnot answered 200: %s\nanswered with several or another: %s"
       % (sorted(sent - set(stored))[:5], sorted(set(stored) - sent)[:5], sorted(sent - set(keyed))[:5],
          sorted(split.items())[:5]))
rows = dict((int(r[0]), int(r[1])) for r in lib.psql(
    "SELECT user_id, count(*) FROM ticket.ledger WHERE type = 'CHARGE' AND user_id IN (%s) GROUP BY 1" % ids))
want = dict((u.id, 1 + len(unkeyed.get(u.id, ())) + sum(1 for k in keyed if k.startswith("bank-%d-" % u.id)))
            for u in owners)
tap.eq(rows, want, "each wallet has one CHARGE row per key and per charge without one answered, no more "
       "(a charge doubled under one key would be an extra row)")

# A payment the balance cannot cover: 402, and nothing changes.
poor = lib.create_users("poor", 1, cid, charge=1000)[0]
c = lib.Client(PORT)
r = c.req("POST", "/api/reservations", {"concert_id": cid, "date": date, "seat_no": 1999}, key=poor.key, token=poor.token)
before = lib.psql("SELECT x::text FROM ticket.wallets x WHERE user_id = %d UNION ALL SELECT x::text FROM ticket.ledger x "
                  "WHERE user_id = %d UNION ALL SELECT x::text FROM ticket.reservations x WHERE user_id = %d" % ((poor.id,) * 3))
r2 = c.req("POST", "/api/reservations/%s/payment" % (r.json() or {}).get("reservation_id"), key=poor.key,
           token=poor.token, idem="poor-1")
after = lib.psql("SELECT x::text FROM ticket.wallets x WHERE user_id = %d UNION ALL SELECT x::text FROM ticket.ledger x "
                 "WHERE user_id = %d UNION ALL SELECT x::text FROM ticket.reservations x WHERE user_id = %d" % ((poor.id,) * 3))
tap.ok(r.status == 201 and r2.status == 402 and r2.code() == "INSUFFICIENT_BALANCE" and before == after
       and lib.psql_one("SELECT count(*) FROM ticket.idempotency_keys WHERE user_id = %d" % poor.id) == "0",
       "a payment the balance cannot cover is 402 and changes nothing (wallet, ledger, hold, key)", "%r %r" % (r, r2))
c.req("POST", "/api/wallet/charge", {"amount": 200_000}, key=poor.key)
r3 = c.req("POST", "/api/reservations/%s/payment" % (r.json() or {}).get("reservation_id"), key=poor.key,
           token=poor.token, idem="poor-1")
tap.ok(r3.status == 201 and lib.psql_one("SELECT balance FROM ticket.wallets WHERE user_id = %d" % poor.id)
       == str(201_000 - r3.json()["amount"]), "after a charge, the same payment retried with the same key goes through",
       repr(r3))
c.close()

storm(PORT, "fastcgi")
svc.stop()

# ------------------------------------------------------------------ CGI
cgi = lib.Service(PORT + 2, mode="cgi").start()
storm(PORT + 2, "cgi")
cgi.stop()

inv = lib.invariants()
tap.ok(not inv, "admin.check_invariants() is empty", "\n".join(inv[:10]))
tap.eq(lib.books_difference(), 0, "charged - paid + refunded = sum of balances (admin.books() difference 0)")
tap.figure("money_requests", counts["requests"] + 4 * STORM)
tap.figure("money_charges", len(txs))
tap.figure("money_payments", sum(len(v) for v in paid.values()))
tap.figure("money_refunds", nrefunds)
tap.figure("money_insufficient", counts["402"])
tap.figure("money_mixed_seconds", "%.1f" % took)
tap.figure("money_seconds", "%.1f" % (time.time() - t0))
sys.exit(tap.done())
