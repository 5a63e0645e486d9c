#!/usr/bin/python3
"""Every function that locks seat rows locks them in seat_no order, so no two of them
can deadlock. Each pair that can meet on the same seats (another buyer's hold against
the holder's hold, payment, cancel and leave) is forced into the interleaving that
deadlocks when one of them takes the seats in another order: X locks seat 1; the
first call queues for seat 1; the second call starts; X commits. A call that took
seat 2 before seat 1 would now wait for the first, which waits for it (40P01).
Seat 1's row is moved behind seat 2's in the heap and the index beforehand, so a
function that locks in scan order takes seat 2 first."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

t = lib.Tap()
db = lib.Db()

HOLD = "SELECT status FROM api.hold_seat(%s, %s, %s, %s, %s)"
n = 0


def world():
    """A holds seats 1 and 2 (one reservation); B and B2 are admitted and may hold."""
    global n
    n += 1
    c, d = db.concert("interleave: lock order %d" % n, max_active=4, max_seats=2)
    ka, kb, kb2, kz = (db.user("il-lock-%d-%s" % (n, u)) for u in ("a", "b", "b2", "z"))
    ta, tb, tb2 = db.join(ka, c), db.join(kb, c), db.join(kb2, c)
    rid = db.hold(ka, ta, c, d, [1, 2])
    # Another user's reservation to pass seat 1's row through (see move_seat_row_last).
    tz = db.join(kz, c)
    other = db.hold(kz, tz, c, d, [9])
    db.move_seat_row_last(c, 1, other)
    return dict(c=c, d=d, ka=ka, ta=ta, kb=kb, tb=tb, kb2=kb2, tb2=tb2, rid=rid)


CALLS = {
    "hold": lambda w: (HOLD, (w["kb"], w["tb"], w["c"], w["d"], [1, 2])),
    "hold2": lambda w: (HOLD, (w["kb2"], w["tb2"], w["c"], w["d"], [1, 2])),
    "pay": lambda w: ("SELECT status FROM api.pay_reservation(%s, %s, %s, NULL)", (w["ka"], w["ta"], w["rid"])),
    "cancel": lambda w: ("SELECT status FROM api.cancel_reservation(%s, %s, %s)", (w["ka"], w["ta"], w["rid"])),
    "leave": lambda w: ("SELECT status FROM api.leave_queue(%s)", (w["ta"],)),
}
# The outcome of each call when it runs first or second: (status, SQLSTATE).
EXPECT = {
    ("hold", "pay"): ("T409A", 201), ("pay", "hold"): (201, "T409A"),
    ("hold", "cancel"): ("T409A", 204), ("cancel", "hold"): (204, 201),
    ("hold", "leave"): ("T409A", 204), ("leave", "hold"): (204, 201),
    ("hold", "hold2"): ("T409A", "T409A"),
}


def result(out):
    return out.rows[0][0] if out.ok else out.state


for (first, second), want in EXPECT.items():
    w = world()
    x, s1, s2 = db.session("X"), db.session(first), db.session(second)
    x.run("BEGIN")
    x.run("SELECT 1 FROM ticket.seats WHERE id = %s FOR UPDATE", (db.seat_id(w["c"], 1),))
    s1.send(*CALLS[first](w))
    q1 = db.wait_blocked(s1, by=x)
    s2.send(*CALLS[second](w))
    q2 = db.wait_blocked(s2)
    seat2 = db.row_locked("seats", db.seat_id(w["c"], 2))
    t.ok(q1 and q2 and not seat2,
         "%s then %s: both queue for seat 1, neither holds seat 2" % (first, second),
         "first blocked: %s, second blocked: %s, seat 2 locked: %s" % (q1, q2, seat2))
    x.run("COMMIT")
    got = (result(s1.outcome()), result(s2.outcome()))
    t.eq(got, want, "%s then %s: no deadlock, each ends as it should" % (first, second))
    t.eq(db.invariants(), [], "%s then %s: admin.check_invariants() finds nothing" % (first, second))
    for s in (x, s1, s2):
        s.close()
        db.sessions.remove(s)

# A payment releases the payer's other holds of the concert: their seats too must be
# taken in seat_no order, with the paid ones. A holds seat 2 (paying) and seat 1
# (another hold); X locks seat 2; the payment queues for it; B's hold of 1 and 2
# starts; X commits. A payment that took seat 1 only when releasing it would now wait
# for B, which waits for it (40P01).
n += 1
c, d = db.concert("interleave: lock order %d" % n, max_active=4, max_seats=2)
ka, kb = db.user("il-lock-%d-a" % n), db.user("il-lock-%d-b" % n)
ta, tb = db.join(ka, c), db.join(kb, c)
paid = db.hold(ka, ta, c, d, [2])
db.hold(ka, ta, c, d, [1])
x, s1, s2 = db.session("X"), db.session("pay"), db.session("hold")
x.run("BEGIN")
x.run("SELECT 1 FROM ticket.seats WHERE id = %s FOR UPDATE", (db.seat_id(c, 2),))
s1.send(*CALLS["pay"](dict(ka=ka, ta=ta, rid=paid)))
q1 = db.wait_blocked(s1, by=x)
s2.send(HOLD, (kb, tb, c, d, [1, 2]))
q2 = db.wait_blocked(s2)
t.ok(q1 and q2, "pay releasing the payer's other hold, then another buyer's hold of both seats: both wait",
     "pay blocked: %s, hold blocked: %s" % (q1, q2))
x.run("COMMIT")
t.eq((result(s1.outcome()), result(s2.outcome())), (201, "T409A"),
     "... no deadlock: the payment goes through, the hold finds seat 2 sold")
t.eq(db.invariants(), [], "... admin.check_invariants() finds nothing")

# The tick never waits for seats (SKIP LOCKED), so it cannot join a deadlock; see tick.t.
t.done()
