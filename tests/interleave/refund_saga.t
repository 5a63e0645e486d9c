#!/usr/bin/python3
"""The refund's steps committing apart, as on separate servers, against recovery
(plpgsql/65_refund.sql): a live credit and recovery's credit of the same refund at
once, in either order (they serialise on the wallet's lock, and the second finds the
first's ledger row: the money comes back once), a live confirmation that recovery
passes by, and a live confirmation arriving while recovery confirms (it waits, then
finds the same ledger row)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

t = lib.Tap()
db = lib.Db()
CREDIT = "SELECT ledger_id, balance FROM ticket.credit(%s, %s, %s, %s)"
CONFIRM = "SELECT ledger_id FROM ticket.refund_confirm(%s, %s)"
RECOVER = "SELECT admin.recover_refunds()"
PAID_BACK = 1000000 - 150000 + 135000  # seats 1 to 4 cost 150,000; 10 % is kept


def uid(key):
    return int(db.one("SELECT id FROM ticket.users WHERE api_key_hash = sha256(convert_to(%s, 'UTF8'))", (key,)))


def balance(key):
    return int(db.one("SELECT (api.get_wallet(%s)).body->>'balance'", (key,)))


def reserved(key, seat, ref):
    """A bought seat whose refund's step 1 committed two minutes ago, then nothing;
    returns the credit's arguments."""
    tk = db.join(key, c)
    rid = db.hold(key, tk, c, d, [seat])
    db.q("SELECT api.pay_reservation(%s, %s, %s, NULL)", (key, tk, rid))
    amount = db.one("SELECT amount FROM ticket.refund_reserve(%s, %s, %s, 'user', NULL, false)", (uid(key), rid, ref))
    db.q("UPDATE ticket.refunds SET created_at = now() - interval '2 minutes' WHERE ref = %s", (ref,))
    return (uid(key), ref, rid, amount)


def refund_ledger(ref):
    return db.one("SELECT ledger_id FROM ticket.refunds WHERE ref = %s", (ref,))


def rows(out):
    """A session's rows, or its error (shown as such when a check fails)."""
    return out.rows if out.ok else out


def credited(key):
    """The user's REFUND ledger rows."""
    return db.one("SELECT count(*) FROM ticket.ledger WHERE user_id = %s AND type = 'REFUND'", (uid(key),))


c, d = db.concert("interleave: refund saga", seats=12, max_active=5, max_seats=4)
s1, s2 = db.session("rsaga-1"), db.session("rsaga-2")

# The live credit first: recovery waits for the wallet, then finds it credited.
k = db.user("il-rsaga-credit-first")
args = reserved(k, 1, "rsaga-1")
s1.run("BEGIN")
live = s1.run(CREDIT, args).rows
t.eq(len(live), 1, "the live step 2 credits (not yet committed)")
s2.send(RECOVER)
t.ok(db.wait_blocked(s2, by=s1), "recovery of the same refund waits for the wallet's lock")
s1.run("COMMIT")
t.eq(rows(s2.outcome()), [(1,)], "... then confirms it")
t.eq(refund_ledger("rsaga-1"), live[0][0], "... with the live credit's ledger row")
t.eq(db.q(CONFIRM, ("rsaga-1", live[0][0])), [(live[0][0],)], "the live step 3, late, changes nothing")
t.eq((balance(k), credited(k)), (PAID_BACK, 1), "the money came back once")

# Recovery first: the live credit waits for the wallet, then gets recovery's answer.
k = db.user("il-rsaga-recover-first")
args = reserved(k, 2, "rsaga-2")
s1.run("BEGIN")
t.eq(s1.run(RECOVER).rows, [(1,)], "recovery credits and confirms the refund (not yet committed)")
s2.send(CREDIT, args)
t.ok(db.wait_blocked(s2, by=s1), "a late live step 2 of the same refund waits for the wallet's lock")
s1.run("COMMIT")
late = rows(s2.outcome())
t.eq(late, [(refund_ledger("rsaga-2"), PAID_BACK)], "... then answers recovery's ledger row and balance")
ledger = refund_ledger("rsaga-2")
t.eq(db.q(CONFIRM, ("rsaga-2", ledger)), [(ledger,)], "the live step 3, late, changes nothing")
t.eq((balance(k), credited(k)), (PAID_BACK, 1), "the money came back once")

# A live confirmation holds the refund's row: recovery passes it by.
k = db.user("il-rsaga-busy")
args = reserved(k, 3, "rsaga-3")
ledger = db.q(CREDIT, args)[0][0]
s1.run("BEGIN")
s1.run(CONFIRM, ("rsaga-3", ledger))
t.eq(s2.run(RECOVER).rows, [(0,)], "recovery skips a refund whose confirmation holds its row")
s1.run("COMMIT")
t.eq(refund_ledger("rsaga-3"), ledger, "the confirmation goes through")
t.eq(db.q(RECOVER), [(0,)], "... and nothing is left to recover")
t.eq((balance(k), credited(k)), (PAID_BACK, 1), "the money came back once")

# Recovery confirms while the live step 3 arrives: it waits, then finds the same row.
k = db.user("il-rsaga-confirm-late")
args = reserved(k, 4, "rsaga-4")
ledger = db.q(CREDIT, args)[0][0]
s1.run("BEGIN")
t.eq(s1.run(RECOVER).rows, [(1,)], "recovery confirms a refund credited but not confirmed (not yet committed)")
s2.send(CONFIRM, ("rsaga-4", ledger))
t.ok(db.wait_blocked(s2, by=s1), "the live step 3 waits for the refund's row")
s1.run("COMMIT")
t.eq(rows(s2.outcome()), [(ledger,)], "... then finds it confirmed with its own ledger row")
t.eq((balance(k), credited(k)), (PAID_BACK, 1), "the money came back once")

t.eq(db.one("SELECT difference FROM admin.books()"), 0, "admin.books(): no won lost or made")
t.eq(db.invariants(), [], "invariants hold")
t.done()
