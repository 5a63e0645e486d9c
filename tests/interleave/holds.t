#!/usr/bin/python3
"""Holds and payments, step by step: max_seats_per_user counts seats bought as well as
held; a hold is never stranded behind an ended turn (leaving releases the turn's
holds, paying one of two releases the other, and the key alone opens and releases a
hold that can no longer be paid); paying again for a paid reservation replays or is
409, never a 401 that sends a paid customer back into the queue."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

t = lib.Tap()
db = lib.Db()
s = db.session("user")
PAY = "SELECT status, body FROM api.pay_reservation(%s, %s, %s, %s)"


def status(out):
    return out.rows[0][0] if out.ok else out.state


# ---- 6. max_seats_per_user counts held and bought seats.
c, d = db.concert("interleave: seats per user", max_active=2, max_seats=1)
k = db.user("il-limit")
tk = db.join(k, c)
rid = db.hold(k, tk, c, d, [1])
t.eq(status(s.run(PAY, (k, tk, rid, None))), 201, "6: the user buys one seat (limit 1)")
tk2 = db.join(k, c)
t.eq(db.token_status(tk2), "ACTIVE", "6: joins again and is admitted")
out = s.run("SELECT status FROM api.hold_seat(%s, %s, %s, %s, %s)", (k, tk2, c, d, [2]))
t.eq(status(out), "T409B", "6: a second seat is HOLD_LIMIT_REACHED: the bought one counts")
t.eq(db.seat_status(c, 2), "AVAILABLE", "6: and seat 2 stays AVAILABLE")

# ---- 7. Holds are never stranded.
c, d = db.concert("interleave: stranded holds", max_active=2, max_seats=2)
k = db.user("il-strand")
tk = db.join(k, c)
r1, r2 = db.hold(k, tk, c, d, [1]), db.hold(k, tk, c, d, [2])
t.eq(status(s.run("SELECT status FROM api.leave_queue(%s)", (tk,))), 204, "7: the user leaves the queue holding two seats")
t.eq((db.seat_status(c, 1), db.seat_status(c, 2)), ("AVAILABLE", "AVAILABLE"), "7: leaving released both holds")
t.eq(s.run("SELECT status, body->>'status' FROM api.get_reservation(%s, NULL, %s)", (k, r1)).rows,
     [(200, "CANCELLED")], "7: the key alone opens the released reservation")
tk = db.join(k, c)
r3, r4 = db.hold(k, tk, c, d, [3]), db.hold(k, tk, c, d, [4])
t.eq(status(s.run(PAY, (k, tk, r3, None))), 201, "7: the user pays one of two holds (the turn is DONE)")
t.eq((db.reservation_status(r4), db.seat_status(c, 4)), ("CANCELLED", "AVAILABLE"),
     "7: the other hold, which nobody could pay any more, is released")
t.eq(s.run("SELECT status, body->>'status' FROM api.get_reservation(%s, NULL, %s)", (k, r4)).rows,
     [(200, "CANCELLED")], "7: ... and opens with the key alone")
# A hold outliving its turn (here: the turn's times moved past its end by hand).
tk = db.join(k, c)
r5 = db.hold(k, tk, c, d, [5])
db.shift_turn(tk, 16 * 60)
t.eq(s.run("SELECT status, body->>'status' FROM api.get_reservation(%s, NULL, %s)", (k, r5)).rows,
     [(200, "HELD")], "7: a hold whose turn has ended opens with the key alone")
t.eq(status(s.run("SELECT status FROM api.cancel_reservation(%s, NULL, %s)", (k, r5))), 204,
     "7: ... and is released with the key alone")
t.eq(db.seat_status(c, 5), "AVAILABLE", "7: its seat is AVAILABLE")

# ---- 8. Paying again for a paid reservation.
c, d = db.concert("interleave: pay again", max_active=2, max_seats=1)
k = db.user("il-payagain")
tk = db.join(k, c)
rid = db.hold(k, tk, c, d, [1])
first = s.run(PAY, (k, tk, rid, "pay-1"))
t.eq(status(first), 201, "8: the payment goes through")
again = s.run(PAY, (k, tk, rid, "pay-1"))
t.eq(again.rows, first.rows, "8: again with the same Idempotency-Key: the first answer, replayed")
t.eq(status(s.run(PAY, (k, tk, rid, None))), "T409C", "8: again without a key: RESERVATION_NOT_HELD, not a 401")
t.eq(status(s.run(PAY, (k, None, rid, "pay-2"))), "T409C", "8: again with another key and no token: the same 409")
t.eq(db.one("SELECT count(*) FROM ticket.payments WHERE reservation_id = %s", (rid,)), 1, "8: one payment")

# Two payments of one hold at once: the second waits for the first, then is 409.
c, d = db.concert("interleave: pay twice at once", max_active=2, max_seats=1)
k = db.user("il-paytwice")
tk = db.join(k, c)
rid = db.hold(k, tk, c, d, [1])
p1, p2 = db.session("pay-1"), db.session("pay-2")
p1.run("BEGIN")
t.eq(status(p1.run(PAY, (k, tk, rid, None))), 201, "8: the first payment is made (not yet committed)")
p2.send(PAY, (k, tk, rid, None))
t.ok(db.wait_blocked(p2, by=p1), "8: a second payment of the same hold waits for the first")
p1.run("COMMIT")
t.eq(status(p2.outcome()), "T409C", "8: ... then is RESERVATION_NOT_HELD")
t.eq(db.one("SELECT balance FROM ticket.wallets w JOIN ticket.users u ON u.id = w.user_id "
            "WHERE u.api_key_hash = sha256(convert_to(%s, 'UTF8'))", (k,)), 1000000 - 150000,
     "8: the money moved once")

# A hold waits for the seat rows another hold has locked, then sees them taken.
c, d = db.concert("interleave: two holds of a seat", max_active=2)
ka, kb = db.user("il-seat-a"), db.user("il-seat-b")
ta, tb = db.join(ka, c), db.join(kb, c)
ha, hb = db.session("hold-a"), db.session("hold-b")
ha.run("BEGIN")
t.eq(status(ha.run("SELECT status FROM api.hold_seat(%s, %s, %s, %s, %s)", (ka, ta, c, d, [7]))), 201,
     "A holds seat 7 (not yet committed)")
hb.send("SELECT status FROM api.hold_seat(%s, %s, %s, %s, %s)", (kb, tb, c, d, [7]))
t.ok(db.wait_blocked(hb, by=ha), "B's hold of seat 7 waits for A's seat lock")
ha.run("COMMIT")
t.eq(status(hb.outcome()), "T409A", "... then is SEAT_UNAVAILABLE (decided under the lock, not by the constraint)")

# Stored answers of an Idempotency-Key belong to the user who sent it.
k1, k2 = db.user("il-idem-1", balance=0), db.user("il-idem-2", balance=0)
a1 = db.q("SELECT status, body FROM api.charge_wallet(%s, 1000, 'same-key')", (k1,))
a2 = db.q("SELECT status, body FROM api.charge_wallet(%s, 1000, 'same-key')", (k2,))
t.ok(a1[0][1]["transaction_id"] != a2[0][1]["transaction_id"],
     "the same Idempotency-Key from another user is a charge of its own, not the first user's answer", (a1, a2))
t.eq([db.one("SELECT (api.get_wallet(%s)).body->>'balance'", (k,)) for k in (k1, k2)], ["1000", "1000"],
     "... and each wallet got its 1,000 won once")
t.eq(db.q("SELECT status, body FROM api.charge_wallet(%s, 1000, 'same-key')", (k1,)), a1,
     "the first user's retry replays the first user's own answer")

t.eq(db.invariants(), [], "admin.check_invariants() finds nothing")
t.done()
