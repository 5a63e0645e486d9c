#!/usr/bin/env python3
"""Authorization over HTTP (FastCGI): one user's key never reaches another's data.

Two users, each with an ACTIVE token for concert 1, a DONE token for
concert 2 (after paying for a seat there with an Idempotency-Key), a HELD
reservation on concert 1, and a charge made with an Idempotency-Key that
only they used.  Then a grid, both ways round: my key with each token
(mine, my other concert's, the other user's two, none) on every
reservation endpoint for each reservation (the other's held and paid ones,
my own), and on every gated read and the hold.  The other's reservations
are 404 whatever the token, my own with a foreign token 403 (or 401
without one), and no answer carries the other's key, tokens, ids or
balance.  The other's Idempotency-Keys replay nothing for me, and the
other's rows are unchanged afterwards.  AUTHZ_PORT (18350).
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

PORT = lib.env_int("AUTHZ_PORT", 18350)
tap = lib.Tap()
lib.exit_on_signals()
t0 = time.time()
svc = lib.Service(PORT).start()
c = lib.Client(PORT)
c1, d1 = lib.create_concert("Authz one", seats=50, max_active=1000, days=(14,))
c2, d2 = lib.create_concert("Authz two", seats=50, max_active=1000, days=(15,))


def must(r, status, what):
    if r.status != status:
        tap.bail("set-up: %s: %r" % (what, r))
    return r.json() if r.body else None


class Person:
    pass


people = {}
for name, seat, amount, first in (("A", 1, 1111, 1_000_000), ("B", 2, 2222, 1_300_000)):
    p = Person()
    p.name = name
    b = must(c.req("POST", "/api/users", {"name": "authz " + name}), 201, "user")
    p.id, p.key = b["user_id"], b["api_key"]
    must(c.req("POST", "/api/wallet/charge", {"amount": first}, key=p.key), 200, "charge")
    p.t1 = must(c.req("POST", "/api/concerts/%d/queue" % c1, key=p.key), 201, "token 1")["token"]
    p.t2 = must(c.req("POST", "/api/concerts/%d/queue" % c2, key=p.key), 201, "token 2")["token"]
    p.paid = must(c.req("POST", "/api/reservations", {"concert_id": c2, "date": d2[0], "seat_no": seat},
                        key=p.key, token=p.t2), 201, "hold 2")["reservation_id"]
    p.pay_key = "pay-key-%s-%d" % (name, p.id)
    p.payment = must(c.req("POST", "/api/reservations/%d/payment" % p.paid, key=p.key, token=p.t2,
                           idem=p.pay_key), 201, "pay 2")
    p.held = must(c.req("POST", "/api/reservations", {"concert_id": c1, "date": d1[0], "seat_nos": [seat]},
                        key=p.key, token=p.t1), 201, "hold 1")["reservation_id"]
    p.charge_key = "charge-key-%s-%d" % (name, p.id)
    p.charge_amount = amount
    p.charge = must(c.req("POST", "/api/wallet/charge", {"amount": amount}, key=p.key, idem=p.charge_key),
                    200, "charge with a key")
    p.balance = p.charge["balance"]
    people[name] = p


def rows_of(p):
    """Everything of p's in the database, as text."""
    return lib.psql(" UNION ALL ".join(
        "SELECT %s, x::text FROM ticket.%s x WHERE user_id = %d" % (lib.sql_lit(t), t, p.id)
        for t in ("reservations", "wallets", "ledger", "queue_tokens", "payments", "idempotency_keys"))
        + " ORDER BY 1, 2")


def secrets_of(p):
    """Strings that must never appear in an answer to someone else."""
    return [p.key, p.t1, p.t2, json.dumps(p.payment), '"reservation_id" : %d' % p.held,
            '"reservation_id" : %d' % p.paid, '"balance" : %d' % p.balance,
            '"transaction_id" : %d' % p.charge["transaction_id"]]


cells = 0
for me_name, other_name in (("A", "B"), ("B", "A")):
    me, other = people[me_name], people[other_name]
    before = rows_of(other)
    leaks, wrong = [], []

    def check(what, r, want_status, want_code=None):
        global cells
        cells += 1
        got = r.body.decode("utf-8", "replace")
        for s in secrets_of(other):
            if s in got:
                leaks.append("%s: answer holds %s's %r" % (what, other.name, s))
        if r.status != want_status or (want_code and r.code() != want_code):
            wrong.append("%s: %s %s, expected %s %s" % (what, r.status, r.code(), want_status, want_code))

    tokens = {"my token": me.t1, "my other concert's token": me.t2, "their token": other.t1,
              "their other token": other.t2, "no token": None, "a made-up token": "qt_" + "A" * 43}
    # Their reservations, held and paid: 404 whatever the token, with or without their key's Idempotency-Key.
    for target, rid in (("their held", other.held), ("their paid", other.paid)):
        for tname, tok in tokens.items():
            ctx = "%s key, %s, %s reservation" % (me.name, tname, target)
            check("GET " + ctx, c.req("GET", "/api/reservations/%d" % rid, key=me.key, token=tok), 404, "NOT_FOUND")
            check("DELETE " + ctx, c.req("DELETE", "/api/reservations/%d" % rid, key=me.key, token=tok),
                  404, "NOT_FOUND")
            check("pay " + ctx, c.req("POST", "/api/reservations/%d/payment" % rid, key=me.key, token=tok),
                  404, "NOT_FOUND")
            check("pay with their key " + ctx, c.req("POST", "/api/reservations/%d/payment" % rid, key=me.key,
                                                     token=tok, idem=other.pay_key), 404, "NOT_FOUND")
    # My held reservation with a foreign token: 403 (401 without one), never done.
    for tname, want in (("my other concert's token", (403, "QUEUE_TOKEN_MISMATCH")),
                        ("their token", (403, "QUEUE_TOKEN_MISMATCH")),
                        ("their other token", (403, "QUEUE_TOKEN_MISMATCH")),
                        ("no token", (401, "QUEUE_TOKEN_INVALID")),
                        ("a made-up token", (401, "QUEUE_TOKEN_INVALID"))):
        tok = tokens[tname]
        ctx = "%s key, %s, my held reservation" % (me.name, tname)
        check("GET " + ctx, c.req("GET", "/api/reservations/%d" % me.held, key=me.key, token=tok), *want)
        check("DELETE " + ctx, c.req("DELETE", "/api/reservations/%d" % me.held, key=me.key, token=tok), *want)
        check("pay " + ctx, c.req("POST", "/api/reservations/%d/payment" % me.held, key=me.key, token=tok), *want)
    # The gated reads and the hold, with each foreign token.
    for tname in ("their token", "their other token", "my other concert's token"):
        tok = tokens[tname]
        ctx = "%s key, %s" % (me.name, tname)
        check("dates " + ctx, c.req("GET", "/api/concerts/%d/dates" % c1, key=me.key, token=tok),
              403, "QUEUE_TOKEN_MISMATCH")
        check("seats " + ctx, c.req("GET", "/api/concerts/%d/dates/%s/seats" % (c1, d1[0]), key=me.key,
                                    token=tok), 403, "QUEUE_TOKEN_MISMATCH")
        check("hold " + ctx, c.req("POST", "/api/reservations", {"concert_id": c1, "date": d1[0],
                                                                  "seat_nos": [40]}, key=me.key, token=tok),
              403, "QUEUE_TOKEN_MISMATCH")
    check("%s: my token on GET /api/queue" % me.name, c.req("GET", "/api/queue", key=me.key, token=me.t1), 200)
    r = c.req("POST", "/api/concerts/%d/queue" % c1, key=me.key)
    check("%s key joins concert 1 again" % me.name, r, 200)
    tap.ok(r.status == 200 and r.json()["token"] == me.t1, "%s: joining again gives back my own token" % me.name)
    # My paid reservation is mine to read with any token.
    r = c.req("GET", "/api/reservations/%d" % me.paid, key=me.key, token=other.t1)
    check("%s key, their token, my paid reservation" % me.name, r, 200)
    tap.ok(r.status == 200 and r.json()["reservation_id"] == me.paid,
           "%s: my paid reservation with their token shows mine" % me.name, repr(r))
    # The wallet: my balance and my ledger only.
    r = c.req("GET", "/api/wallet", key=me.key)
    check("%s wallet" % me.name, r, 200)
    tap.eq(r.json()["balance"], int(lib.psql_one("SELECT balance FROM ticket.wallets WHERE user_id = %d" % me.id)),
           "%s: GET /api/wallet is my balance" % me.name)
    their_tx = set(int(x[0]) for x in lib.psql("SELECT id FROM ticket.ledger WHERE user_id = %d" % other.id))
    seen = []
    for q in ("limit=200", "limit=200&before=%d" % (max(their_tx) + 1), "before=%d" % max(their_tx)):
        r = c.req("GET", "/api/wallet/transactions?" + q, key=me.key)
        check("%s transactions ?%s" % (me.name, q), r, 200)
        seen += [t["id"] for t in r.json()["transactions"]]
    tap.ok(seen and not set(seen) & their_tx, "%s: transactions (any limit, before) list none of theirs (%d seen)"
           % (me.name, len(seen)))
    # Their Idempotency-Keys are theirs: for me they replay nothing.
    r = c.req("POST", "/api/wallet/charge", {"amount": other.charge_amount}, key=me.key, idem=other.charge_key)
    check("%s charges with their key" % me.name, r, 200)
    tap.ok(r.status == 200 and r.json()["transaction_id"] != other.charge["transaction_id"]
           and lib.psql_one("SELECT user_id FROM ticket.ledger WHERE id = %d" % r.json()["transaction_id"])
           == str(me.id), "%s: a charge with their Idempotency-Key is a new charge of mine" % me.name, repr(r))
    me.balance = r.json()["balance"] if r.status == 200 else me.balance
    tap.ok(not leaks, "%s's key reached none of %s's data (%d answers)" % (me.name, other.name, cells), "\n".join(leaks[:10]))
    tap.ok(not wrong, "%s's key: every cell of the grid got its 403/404/401" % me.name, "\n".join(wrong[:15]))
    tap.eq(rows_of(other), before, "%s's rows are unchanged by %s's requests" % (other.name, me.name))

# Last, with my own token: paying my hold with their payment's Idempotency-Key pays mine.
a, b = people["A"], people["B"]
r = c.req("POST", "/api/reservations/%d/payment" % a.held, key=a.key, token=a.t1, idem=b.pay_key)
tap.ok(r.status == 201 and r.json()["reservation_id"] == a.held and r.json()["payment_id"] != b.payment["payment_id"],
       "A paying A's hold with B's payment key pays A's own (no replay of B's answer)", repr(r))
inv = lib.invariants()
tap.ok(not inv, "admin.check_invariants() is empty", "\n".join(inv[:10]))
c.close()
tap.figure("authz_cells", cells)
tap.figure("authz_seconds", "%.1f" % (time.time() - t0))
svc.stop()
sys.exit(tap.done())
