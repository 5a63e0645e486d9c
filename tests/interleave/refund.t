#!/usr/bin/python3
"""Refunds under the interleavings that could move money twice or sell a seat twice:
two refunds of one reservation at once (money moves once; with one Idempotency-Key
the second replays the first), a refund that waited for its lock past the deadline
(refused by the clock), and another buyer's hold of the seats a refund is giving
back (it waits, then gets them, and the seat is sold once)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

t = lib.Tap()
db = lib.Db()
REFUND = "SELECT status, body FROM api.refund_reservation(%s, %s, %s)"


def status(out):
    return out.rows[0][0] if out.ok else out.state


def bought(c, d, key, seats):
    tk = db.join(key, c)
    rid = db.hold(key, tk, c, d, seats)
    db.q("SELECT api.pay_reservation(%s, %s, %s, NULL)", (key, tk, rid))
    return rid


def balance(key):
    return int(db.one("SELECT (api.get_wallet(%s)).body->>'balance'", (key,)))


c, d = db.concert("interleave: refunds", seats=10, max_active=5, max_seats=4)
r1, r2 = db.session("refund-1"), db.session("refund-2")

# Two refunds at once, without a key: the second waits, then is refused.
k = db.user("il-ref-twice")
rid = bought(c, d, k, [1])
r1.run("BEGIN")
t.eq(status(r1.run(REFUND, (k, rid, None))), 200, "a refund is made (not yet committed)")
r2.send(REFUND, (k, rid, None))
t.ok(db.wait_blocked(r2, by=r1), "a second refund of the same reservation waits for the first")
r1.run("COMMIT")
t.eq(status(r2.outcome()), "T409E", "... then is REFUND_NOT_ALLOWED")
t.eq(balance(k), 1000000 - 150000 + 135000, "the money came back once")

# Two refunds at once with one Idempotency-Key: the second replays the first.
k = db.user("il-ref-key")
rid = bought(c, d, k, [2])
r1.run("BEGIN")
first = r1.run(REFUND, (k, rid, "refund-%d" % rid))
r2.send(REFUND, (k, rid, "refund-%d" % rid))
t.ok(db.wait_blocked(r2, by=r1), "a retry with the same key waits for the first")
r1.run("COMMIT")
t.eq(r2.outcome().rows, first.rows, "... then replays its answer")
t.eq(balance(k), 1000000 - 150000 + 135000, "the money came back once")

# A refund that waited for the reservation's lock past the deadline is refused.
k = db.user("il-ref-late")
rid = bought(c, d, k, [3])
x = db.session("X")
x.run("BEGIN")
x.run("SELECT 1 FROM ticket.reservations WHERE id = %s FOR UPDATE", (rid,))
r1.run("BEGIN")
r1.run("SELECT now()")  # the refund's transaction starts before the deadline
r1.send(REFUND, (k, rid, None))
t.ok(db.wait_blocked(r1, by=x), "a refund waits for the reservation's lock")
# The deadline (24 hours before the performance) passes now, while it waits.
db.q("UPDATE ticket.concert_dates SET starts_at = clock_timestamp() + interval '24 hours' WHERE concert_id = %s", (c,))
x.run("COMMIT")
out = r1.outcome()
r1.run("ROLLBACK")
t.eq(status(out), "T409E", "given the lock after the deadline, it is REFUND_NOT_ALLOWED")
paid = db.one("SELECT amount FROM ticket.reservations WHERE id = %s", (rid,))
t.eq((db.reservation_status(rid), balance(k)), ("CONFIRMED", 1000000 - paid), "nothing changed")
db.q("UPDATE ticket.concert_dates SET starts_at = now() + interval '7 days' WHERE concert_id = %s", (c,))

# Another buyer's hold of the seats a refund is giving back waits, then gets them.
ka, kb = db.user("il-ref-seller"), db.user("il-ref-buyer")
rid = bought(c, d, ka, [4, 5])
tb = db.join(kb, c)
r1.run("BEGIN")
t.eq(status(r1.run(REFUND, (ka, rid, None))), 200, "A refunds seats 4 and 5 (not yet committed)")
h = db.session("hold")
h.send("SELECT status, body FROM api.hold_seat(%s, %s, %s, %s, %s)", (kb, tb, c, d, [4, 5]))
t.ok(db.wait_blocked(h, by=r1), "B's hold of seats 4 and 5 waits for the refund")
r1.run("COMMIT")
out = h.outcome()
t.eq(status(out), 201, "... then holds them")
pay = db.q("SELECT status FROM api.pay_reservation(%s, %s, %s, NULL)", (kb, tb, out.rows[0][1]["reservation_id"]))
t.eq(pay, [(201,)], "B pays for the seats A gave back")
t.eq(db.one("SELECT count(*) FROM ticket.seats s JOIN ticket.concert_dates dd ON dd.id = s.date_id "
            "WHERE dd.concert_id = %s AND s.seat_no IN (4, 5) AND s.sold", (c,)), 2, "seats 4 and 5 are sold, once each")
t.eq(db.one("SELECT difference FROM admin.books()"), 0, "admin.books(): no won lost or made")
t.eq(db.invariants(), [], "admin.check_invariants() finds nothing")
t.done()
