#!/usr/bin/python3
"""The interleavings again, through HTTP: the calls are requests to the real programs
under lighttpd (FastCGI), the blocker is a psql-like session of the test. A hold
that waited on a seat lock past its turn's end answers 401 and revives nothing; a
payment and another buyer's hold of the same two seats never deadlock (no 503);
leaving releases the holds, which the key alone then opens; paying again is 409."""
import os
import sys
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import lib  # noqa: E402
from importlib import util as _u  # noqa: E402

_spec = _u.spec_from_file_location("stresslib", os.path.join(here, "..", "stress", "lib.py"))
web = _u.module_from_spec(_spec)
_spec.loader.exec_module(web)

PORT = 18250
t = lib.Tap()
db = lib.Db()
web.Service(PORT).start()


def call(method, path, **kw):
    c = web.Client(PORT, timeout=30)
    try:
        return c.req(method, path, **kw)
    finally:
        c.close()


class Request(threading.Thread):
    """An HTTP request on its own thread: sent now, answered later."""

    def __init__(self, *args, **kw):
        super().__init__(daemon=True)
        self.args, self.kw, self.resp = args, kw, None
        self.start()

    def run(self):
        self.resp = call(*self.args, **self.kw)

    def answer(self):
        self.join(lib.TIMEOUT)
        return self.resp


def web_blocked_by(x, count=1, timeout=lib.TIMEOUT):
    """Wait until `count` sessions of the programs (ticket_web) wait for a lock held or
    queued for by x or by each other."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        n = db.one("SELECT count(*) FROM pg_stat_activity WHERE usename = 'ticket_web' "
                   "AND cardinality(pg_blocking_pids(pid)) > 0")
        if n >= count:
            return True
        time.sleep(0.01)
    return False


def code(r):
    try:
        return r.status, r.json()["error"]["code"]
    except Exception:
        return r.status, None


def hold_body(c, d, seats):
    return {"concert_id": c, "date": d, "seat_nos": seats}


# ---- 1. The ended turn stays ended.
c, d = db.concert("interleave http: ended turn", max_active=1)
ka, kb = db.user("il-http-a"), db.user("il-http-b")
ta, tb = db.join(ka, c), db.join(kb, c)
x = db.session("X")
x.run("BEGIN")
x.run("SELECT 1 FROM ticket.seats WHERE id = %s FOR UPDATE", (db.seat_id(c, 1),))
# The turn ends 2 s from now: time for the request to pass the gate, which then
# waits for seat 1; the test then waits for the clock to pass that end.
end = db.one("UPDATE ticket.queue_tokens SET expires_at = clock_timestamp() + interval '2 seconds' "
             "WHERE token_hash = sha256(convert_to(%s, 'UTF8')) RETURNING expires_at", (ta,))
hold = Request("POST", "/api/reservations", body=hold_body(c, d, [1]), key=ka, token=ta)
t.ok(web_blocked_by(x), "1: A's hold request passed the gate and waits on seat 1")
while db.one("SELECT clock_timestamp() <= %s", (end,)):
    time.sleep(0.05)
r = call("GET", "/api/queue", token=tb)
t.eq((r.status, r.json().get("status")), (200, "ACTIVE"), "1: B's poll takes the slot of A's ended turn")
x.run("COMMIT")
t.eq(code(hold.answer()), (401, "QUEUE_TOKEN_EXPIRED"), "1: A's hold then answers 401 QUEUE_TOKEN_EXPIRED")
t.eq(db.live_active(c), 1, "1: one live turn, as max_active says")

# ---- 5. A payment and another buyer's hold of the same two seats.
c, d = db.concert("interleave http: pay and hold", max_active=3, max_seats=2)
ka, kb, kz = db.user("il-http-p"), db.user("il-http-h"), db.user("il-http-z")
ta, tb, tz = db.join(ka, c), db.join(kb, c), db.join(kz, c)
rid = db.hold(ka, ta, c, d, [1, 2])
db.move_seat_row_last(c, 1, db.hold(kz, tz, c, d, [9]))
x.run("BEGIN")
x.run("SELECT 1 FROM ticket.seats WHERE id = %s FOR UPDATE", (db.seat_id(c, 1),))
h = Request("POST", "/api/reservations", body=hold_body(c, d, [1, 2]), key=kb, token=tb)
t.ok(web_blocked_by(x, 1), "5: B's hold of seats 1 and 2 waits on seat 1")
p = Request("POST", "/api/reservations/%d/payment" % rid, key=ka, token=ta, idem="pay-%d" % rid)
t.ok(web_blocked_by(x, 2), "5: A's payment of seats 1 and 2 waits too")
t.ok(not db.row_locked("seats", db.seat_id(c, 2)), "5: neither holds seat 2 meanwhile")
x.run("COMMIT")
t.eq((code(h.answer()), p.answer().status), ((409, "SEAT_UNAVAILABLE"), 201),
     "5: the hold is 409 SEAT_UNAVAILABLE, the payment 201: no deadlock, no 503")

# ---- 6, 7, 8. Seats per user, holds released on leaving, paying again.
c, d = db.concert("interleave http: holds", max_active=3, max_seats=2)
k = db.user("il-http-u")
tk = db.join(k, c)
r1 = call("POST", "/api/reservations", body=hold_body(c, d, [1]), key=k, token=tk).json()["reservation_id"]
r2 = call("POST", "/api/reservations", body=hold_body(c, d, [2]), key=k, token=tk).json()["reservation_id"]
t.eq(call("DELETE", "/api/queue", token=tk).status, 204, "7: the user leaves the queue holding two seats")
r = call("GET", "/api/reservations/%d" % r1, key=k)
t.eq((r.status, r.json().get("status")), (200, "CANCELLED"), "7: the key alone opens a released hold")
t.eq(code(call("DELETE", "/api/reservations/%d" % r2, key=k)), (409, "RESERVATION_NOT_HELD"),
     "7: ... which is not HELD any more")
tk = db.join(k, c)
r3 = call("POST", "/api/reservations", body=hold_body(c, d, [3]), key=k, token=tk).json()["reservation_id"]
t.eq(call("POST", "/api/reservations/%d/payment" % r3, key=k, token=tk, idem="p3").status, 201, "8: paid")
first = call("POST", "/api/reservations/%d/payment" % r3, key=k, token=tk, idem="p3")
t.eq(first.status, 201, "8: paying again with the same Idempotency-Key replays the 201")
t.eq(code(call("POST", "/api/reservations/%d/payment" % r3, key=k, token=tk)), (409, "RESERVATION_NOT_HELD"),
     "8: paying again without one is 409 RESERVATION_NOT_HELD, not 401")
tk = db.join(k, c)
call("POST", "/api/reservations", body=hold_body(c, d, [4]), key=k, token=tk)
t.eq(code(call("POST", "/api/reservations", body=hold_body(c, d, [5]), key=k, token=tk)), (409, "HOLD_LIMIT_REACHED"),
     "6: one bought and one held: a third seat is 409 HOLD_LIMIT_REACHED (limit 2)")
t.eq(db.invariants(), [], "admin.check_invariants() finds nothing")
t.done()
