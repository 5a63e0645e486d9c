#!/usr/bin/python3
"""The queue's promises about turns, each under the interleaving that broke it:
an ended turn stays ended (a hold that waited on a seat lock past the turn's end
cannot revive it), a turn never runs past activated_at + active_minutes +
hold_minutes however its holds come and go, and an idle head of the line does not
keep a free slot empty."""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

t = lib.Tap()
db = lib.Db()
HOLD = "SELECT status, body FROM api.hold_seat(%s, %s, %s, %s, %s)"

# ---- 1. An ended turn comes back: A's hold passes the gate in a transaction that
# began before A's turn ended, then waits on a seat lock; meanwhile the turn runs
# out and the only slot goes to B. The hold must then fail, not revive A's turn.
c, d = db.concert("interleave: ended turn", max_active=1)
ka, kb = db.user("il-turn-a"), db.user("il-turn-b")
ta = db.join(ka, c)
tb = db.join(kb, c)
t.eq((db.token_status(ta), db.token_status(tb)), ("ACTIVE", "WAITING"), "1: A has the only turn, B waits")

x, a = db.session("X"), db.session("A")
x.run("BEGIN")
x.run("SELECT 1 FROM ticket.seats WHERE id = %s FOR UPDATE", (db.seat_id(c, 1),))
a.run("BEGIN")
a.run("SELECT now()")  # A's transaction, and so its now(), starts here
db.q("UPDATE ticket.queue_tokens SET expires_at = clock_timestamp() "
     "WHERE token_hash = sha256(convert_to(%s, 'UTF8'))", (ta,))  # the turn runs out now
a.send(HOLD, (ka, ta, c, d, [1]))
t.ok(db.wait_blocked(a, by=x), "1: A's hold passed the gate (by its transaction's clock) and waits on seat 1")
t.eq(db.poll(tb), "ACTIVE", "1: the turn has run out, so B's poll takes the free slot")
x.run("COMMIT")
out = a.outcome()
t.eq(out.state, "T401C", "1: A's hold, given seat 1 after its turn ended, is QUEUE_TOKEN_EXPIRED", )
a.run("ROLLBACK")
t.eq(db.live_active(c), 1, "1: one live ACTIVE turn with max_active 1 (the ended one did not come back)")
t.eq(db.seat_status(c, 1), "AVAILABLE", "1: seat 1 was not held by the ended turn")
t.eq(db.invariants(), [], "1: admin.check_invariants() finds nothing")

# A turn past its end is over for every gated call at once, before anything has
# written the token's row (it still says ACTIVE).
c, d = db.concert("interleave: run-out turn", max_active=1)
k = db.user("il-runout")
tk = db.join(k, c)
db.shift_turn(tk, 10 * 60 + 1)
t.eq(db.token_status(tk), "ACTIVE", "1: a turn whose time is up, its row not yet changed")
t.eq([db.error_of(sql, args) for sql, args in (
        ("SELECT api.available_dates(%s, %s, %s)", (k, tk, c)),
        ("SELECT api.seat_map(%s, %s, %s, %s)", (k, tk, c, d)),
        ("SELECT api.hold_seat(%s, %s, %s, %s, '{1}')", (k, tk, c, d)))],
     ["T401C"] * 3, "1: dates, seat map and hold all answer QUEUE_TOKEN_EXPIRED")

# ---- 2. Holding and cancelling cannot keep a turn alive: with active_minutes 10 and
# hold_minutes 5, no turn lives past 15 minutes, and a cancel gives back what its
# hold had added.
c, d = db.concert("interleave: turn cap", max_active=1, max_seats=2)
ka = db.user("il-cap-a")
ta = db.join(ka, c)
s = db.session("A2")
db.shift_turn(ta, 9 * 60 + 30)  # 9.5 minutes into the turn
r = s.run("SELECT (body->>'reservation_id')::bigint FROM api.hold_seat(%s, %s, %s, %s, %s)", (ka, ta, c, d, [1]))
t.ok(r.ok, "2: a hold at 9.5 minutes is taken", r)
tok = db.token(ta)
t.ok(abs((tok.expires_at - tok.activated_at).total_seconds() - 14.5 * 60) < 2,
     "2: the turn is extended to cover the hold: it ends 14.5 minutes after admission",
     "ends after %s" % (tok.expires_at - tok.activated_at))
rid = r.rows[0][0]
t.eq(s.run("SELECT status FROM api.cancel_reservation(%s, %s, %s)", (ka, ta, rid)).rows, [(204,)],
     "2: the hold is cancelled")
tok = db.token(ta)
t.ok(abs((tok.expires_at - tok.activated_at).total_seconds() - 10 * 60) < 1,
     "2: the cancel pulls the turn's end back to 10 minutes after admission",
     "ends after %s" % (tok.expires_at - tok.activated_at))
db.shift_turn(ta, 4 * 60 + 30)  # 14 minutes in: the turn ended at 10
t.eq(s.run(HOLD, (ka, ta, c, d, [2])).state, "T401C",
     "2: holding again at 14 minutes, after the turn ended, is QUEUE_TOKEN_EXPIRED")

c, d = db.concert("interleave: turn cap, hold late", max_active=1, max_seats=2)
kb = db.user("il-cap-b")
tb = db.join(kb, c)
db.shift_turn(tb, 9 * 60 + 30)
s.run(HOLD, (kb, tb, c, d, [1]))
db.shift_turn(tb, 4 * 60 + 30)
db.shift_holds(kb, 4 * 60 + 30)  # 14 minutes in, inside the extension, the hold still live
r = s.run("SELECT (body->>'expires_at')::timestamptz FROM api.hold_seat(%s, %s, %s, %s, %s)", (kb, tb, c, d, [2]))
tok = db.token(tb)
cap = tok.activated_at + datetime.timedelta(minutes=15)
t.ok(r.ok and r.rows[0][0] <= cap and tok.expires_at <= cap,
     "2: a hold taken at 14 minutes runs out by the cap (15 minutes), and so does the turn",
     "%r, turn ends %s, cap %s" % (r, tok.expires_at, cap))
t.eq(db.invariants(), [], "2: admin.check_invariants() finds no turn past its cap")

# ---- 3. An idle head of the line does not block a free slot: the next waiter's
# poll admits at once, and the idle one is dropped from the count.
c, d = db.concert("interleave: idle head", max_active=1)
ka, k1, k2, k3 = (db.user("il-idle-%s" % n) for n in "a123")
ta = db.join(ka, c)
t1, t2 = db.join(k1, c), db.join(k2, c)
db.shift_turn(ta, 10 * 60 + 1)  # A's turn has run out: the slot is free
db.q("UPDATE ticket.queue_tokens SET last_seen_at = now() - interval '10 minutes' "
     "WHERE token_hash = sha256(convert_to(%s, 'UTF8'))", (t1,))  # the head closed its page
t.eq(db.poll(t2), "ACTIVE",
     "3: the second in line polls and is admitted, although the idle head is ahead of it")
t.eq(db.token_status(t1), "EXPIRED", "3: the idle head is dropped")
t3 = db.join(k3, c)
t.eq(db.one("SELECT (api.queue_status(%s)).body->>'position'", (t3,)), "1",
     "3: the next joiner is first in line (the dropped head left the count)")
t.eq(db.invariants(), [], "3: admin.check_invariants() finds nothing")

# A waiter who keeps polling is never dropped as idle: each poll is a heartbeat.
c, d = db.concert("interleave: heartbeat", max_active=1)
ka, kw = db.user("il-beat-a"), db.user("il-beat-w")
db.join(ka, c)
tw = db.join(kw, c)
db.q("UPDATE ticket.queue_tokens SET last_seen_at = now() - interval '100 seconds' "
     "WHERE token_hash = sha256(convert_to(%s, 'UTF8'))", (tw,))  # idle_seconds is 120
t.eq(db.poll(tw), "WAITING", "3: a waiter last seen 100 s ago polls")
db.q("UPDATE ticket.queue_tokens SET last_seen_at = last_seen_at - interval '60 seconds' "
     "WHERE token_hash = sha256(convert_to(%s, 'UTF8'))", (tw,))  # a minute passes
db.q("SELECT admin.tick_concert(%s)", (c,))
t.eq(db.token_status(tw), "WAITING", "3: a minute after that poll the tick keeps it (the poll was a heartbeat)")

t.done()
