#!/usr/bin/python3
"""The minute's tick works concert by concert, commits each, and never waits behind
a busy concert: with one concert's queue row locked by a long transaction, the tick
finishes, does the other concerts' work, skips the busy one until the next run, and
a join of another concert is not held up. Seats a tick would free but another
transaction has locked are left to later (readers already treat them by the clock)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

t = lib.Tap()
db = lib.Db()

busy, d1 = db.concert("interleave: tick, busy", max_active=1)
quiet, d2 = db.concert("interleave: tick, quiet", max_active=1)
users = {n: db.user("il-tick-%s" % n) for n in ("b1", "b2", "q1", "q2", "q3", "q4")}
tb1, tb2 = db.join(users["b1"], busy), db.join(users["b2"], busy)
tq1, tq2 = db.join(users["q1"], quiet), db.join(users["q2"], quiet)
# In each concert the turn has run out and its slot waits for the tick; in the quiet
# one an expired hold waits for it too.
db.hold(users["q1"], tq1, quiet, d2, [3])
db.shift_holds(users["q1"], 6 * 60)
db.shift_turn(tb1, 11 * 60)
db.shift_turn(tq1, 11 * 60)

x, tick, j = db.session("X"), db.session("tick"), db.session("J")
x.run("BEGIN")
x.run("SELECT 1 FROM ticket.queues WHERE concert_id = %s FOR UPDATE", (busy,))
tick.send("CALL admin.tick()")
blocked = False
deadline = time.time() + lib.TIMEOUT
while not tick.finished() and time.time() < deadline:
    blocked = blocked or bool(db.blockers(tick))
    time.sleep(0.005)
out = tick.outcome()
t.ok(out.ok and not blocked, "the tick finishes without waiting for the busy concert's lock", out)
notices = " ".join(tick.conn.notices)
t.ok("skipped concerts: %s" % busy in notices, "the tick says it skipped the busy concert", notices)
t.eq(db.token_status(tq2), "ACTIVE", "the quiet concert's next in line is admitted by that tick")
t.eq(db.seat_status(quiet, 3), "AVAILABLE", "the quiet concert's expired hold is ended")
t.eq(db.one("SELECT count(*) FROM ticket.reservations WHERE concert_id = %s AND status = 'EXPIRED'", (quiet,)), 1,
     "... and its reservation is EXPIRED in the rows")
t.eq(db.token_status(tb2), "WAITING", "the busy concert's waiter is left for the next tick")
out = j.run("SELECT (api.issue_token(%s, %s)).status", (users["q3"], quiet))
t.eq(out.rows, [(201,)], "a join of the quiet concert goes through while the busy one is locked")
x.run("COMMIT")
t.ok(tick.run("CALL admin.tick()").ok, "the next tick runs")
t.eq(db.token_status(tb2), "ACTIVE", "... and admits the busy concert's waiter")

# Seats the tick would free but another transaction has locked are skipped, not waited for.
c, d = db.concert("interleave: tick, locked seat", max_active=1, max_seats=2)
k = db.user("il-tick-seat")
tk = db.join(k, c)
rid = db.hold(k, tk, c, d, [1, 2])
db.shift_holds(k, 6 * 60)
x.run("BEGIN")
x.run("SELECT 1 FROM ticket.seats WHERE id = %s FOR UPDATE", (db.seat_id(c, 2),))
out = tick.send("SELECT * FROM admin.tick_concert(%s)", (c,)).outcome(timeout=5)
t.ok(out.ok, "tick_concert does not wait for a locked seat of an expired hold", out)
x.run("COMMIT")
t.eq(db.reservation_status(rid), "EXPIRED", "the expired hold is EXPIRED")
t.eq((db.seat_status(c, 1), db.seat_status(c, 2)), ("AVAILABLE", "AVAILABLE"),
     "both seats read AVAILABLE (the locked one by the clock)")
t.eq(db.invariants(), [], "admin.check_invariants() finds nothing")
t.done()
