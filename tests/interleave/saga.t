#!/usr/bin/python3
"""The payment's steps committing apart, as on separate servers, against recovery
(plpgsql/60_payment.sql): a debit and recovery's abort of the same payment at once
(whichever takes the wallet's lock first decides, and the other sees its outcome:
money is taken once or never, and the seats follow), and recovery meeting a payment
whose confirmation is still running (it skips it)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

t = lib.Tap()
db = lib.Db()
DEBIT = "SELECT outcome FROM ticket.debit(%s, %s, %s, %s)"
RECOVER = "SELECT confirmed, released FROM admin.recover_payments()"


def uid(key):
    return int(db.one("SELECT id FROM ticket.users WHERE api_key_hash = sha256(convert_to(%s, 'UTF8'))", (key,)))


def balance(key):
    return int(db.one("SELECT (api.get_wallet(%s)).body->>'balance'", (key,)))


def reserved(key, seat, ref):
    """A reservation PAYING under ref for two minutes: step 1 committed, then nothing."""
    tk = db.join(key, c)
    rid = db.hold(key, tk, c, d, [seat])
    db.q("SELECT ticket.pay_reserve(%s, %s, %s, %s, %s)", (uid(key), key, tk, rid, ref))
    db.q("UPDATE ticket.reservations SET paying_since = now() - interval '2 minutes' WHERE id = %s", (rid,))
    return rid


def amount(rid):
    return int(db.one("SELECT amount FROM ticket.reservations WHERE id = %s", (rid,)))


c, d = db.concert("interleave: payment saga", seats=10, max_active=5, max_seats=4)
s1, s2 = db.session("saga-1"), db.session("saga-2")

# The debit first: recovery waits for the wallet, then finds it DEBITED and confirms.
k = db.user("il-saga-debit-first")
rid = reserved(k, 1, "saga-1")
s1.run("BEGIN")
t.eq(s1.run(DEBIT, (uid(k), "saga-1", rid, amount(rid))).rows, [("DEBITED",)], "a late debit is made (not yet committed)")
s2.send(RECOVER)
t.ok(db.wait_blocked(s2, by=s1), "recovery of the same payment waits for the wallet's lock")
s1.run("COMMIT")
t.eq(s2.outcome().rows, [(1, 0)], "... then finds it debited and confirms the sale")
t.eq(db.reservation_status(rid), "CONFIRMED", "the reservation is CONFIRMED")
t.eq(balance(k), 1000000 - 150000, "the money was taken once")

# Recovery first: the debit waits for the wallet, then finds the payment ABORTED.
k = db.user("il-saga-abort-first")
rid = reserved(k, 2, "saga-2")
s1.run("BEGIN")
t.eq(s1.run(RECOVER).rows, [(0, 1)], "recovery aborts and releases the payment (not yet committed)")
s2.send(DEBIT, (uid(k), "saga-2", rid, amount(rid)))
t.ok(db.wait_blocked(s2, by=s1), "a late debit of the same payment waits for the wallet's lock")
s1.run("COMMIT")
t.eq(s2.outcome().rows, [("ABORTED",)], "... then is refused: ABORTED")
t.eq(balance(k), 1000000, "no money was taken")
t.eq(db.reservation_status(rid), "HELD", "the reservation is HELD again")

# A confirmation still running holds the reservation: recovery passes it by.
k = db.user("il-saga-busy")
rid = reserved(k, 3, "saga-3")
db.q(DEBIT, (uid(k), "saga-3", rid, amount(rid)))
s1.run("BEGIN")
s1.run("SELECT ticket.pay_confirm('saga-3', (SELECT ledger_id FROM ticket.debits WHERE ref = 'saga-3'))")
s2.send(RECOVER)
t.eq(s2.outcome().rows, [(0, 0)], "recovery skips a payment whose confirmation holds its row")
s1.run("COMMIT")
t.eq(db.reservation_status(rid), "CONFIRMED", "the confirmation goes through")
t.eq(db.invariants(), [], "invariants hold")
t.done()
