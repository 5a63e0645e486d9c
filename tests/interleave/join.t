#!/usr/bin/python3
"""Joins hold no lock across their commit, and the line stays exact anyway: a join
still committing does not hold up another; admission never passes a seq whose join
may still commit; a join that rolled back leaves a hole that overstates positions
only until the next admission settles it; two joins of one user give one token; and
the opening places every pre-queue entry whose join or leave was in flight."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

t = lib.Tap()
db = lib.Db()
JOIN = "SELECT status, body->>'token', body->>'status' FROM api.issue_token(%s, %s)"


def position(token):
    return db.one("SELECT (api.queue_status(%s)).body->>'position'", (token,))


# ---- 1. No lock across a join's commit: A's join is done but not committed; B's join
# of the same concert goes through meanwhile (it used to wait for A's queue-row lock).
c, _ = db.concert("interleave: joins", max_active=1)
kc, ka, kb = db.user("il-join-c"), db.user("il-join-a"), db.user("il-join-b")
tc = db.join(kc, c)
a, b = db.session("A"), db.session("B")
a.run("BEGIN")
out_a = a.run(JOIN, (ka, c))
t.eq(out_a.rows[0][2] if out_a.ok else out_a, "WAITING", "1: A's join is done, not committed")
b.send(JOIN, (kb, c))
blocked = db.wait_blocked(b, timeout=2)
if blocked:  # the old design: every join waited for the one before it to commit
    a.run("ROLLBACK")
out_b = b.outcome()
t.ok(not blocked and out_b.ok and out_b.rows[0][0] == 201,
     "1: B's join does not wait for A's commit (no lock held across a join)", out_b)
if blocked:
    t.done()
tb = out_b.rows[0][1]

# ---- 2. Admission never passes a seq that may still commit: C's turn ends, a slot is
# free, but A (seq 2) has not committed: B (seq 3) must not get it.
t.eq(db.one("SELECT (api.leave_queue(%s)).status", (tc,)), 204, "2: C leaves, freeing the only slot")
t.eq(db.poll(tb), "WAITING", "2: B's poll does not take the slot past A's uncommitted seq")
t.eq(db.live_active(c), 0, "2: ... nobody was admitted out of order")
a.run("COMMIT")
ta = out_a.rows[0][1]
t.eq(db.poll(tb), "WAITING", "2: once A commits, B's poll settles the line ...")
t.eq(db.token_status(ta), "ACTIVE", "2: ... and admits A first, in arrival order")
t.eq(position(tb), "1", "2: B is next, at position 1")
t.eq(db.invariants(), [], "2: admin.check_invariants() finds nothing")

# ---- 3. A join that rolls back leaves a hole: positions behind it are one too high
# until it settles, never too low, and the next admission settles it.
c, _ = db.concert("interleave: holes", max_active=1)
kc, ka, kb, kd = (db.user("il-hole-%s" % n) for n in "cabd")
tc = db.join(kc, c)
a.run("BEGIN")
a.run(JOIN, (ka, c))
a.run("ROLLBACK")
tb = db.join(kb, c)
t.eq(position(tb), "2", "3: behind a rolled-back join, B's position is overstated by one (2)")
t.eq(db.one("SELECT (api.leave_queue(%s)).status", (tc,)), 204, "3: C leaves")
t.eq(db.poll(tb), "ACTIVE", "3: B's next poll settles the hole and takes the slot")
td = db.join(kd, c)
t.eq(position(td), "1", "3: the position behind the settled hole is exact (1)")
t.eq(db.one("SELECT ticket.queue_drops_before(%s, 3)", (c,)), 1, "3: the hole is recorded as a drop")
t.eq(db.invariants(), [], "3: admin.check_invariants() finds nothing")

# ---- 4. One user joining twice at once: the second waits for the first and gets its token.
c, _ = db.concert("interleave: same user", max_active=1)
ku = db.user("il-same")
a.run("BEGIN")
first = a.run(JOIN, (ku, c))
b.send(JOIN, (ku, c))
t.ok(db.wait_blocked(b, by=a), "4: the same user's second join waits for the first to commit")
a.run("COMMIT")
second = b.outcome()
t.eq((second.rows[0][0], second.rows[0][1]) if second.ok else second, (200, first.rows[0][1]),
     "4: ... then answers 200 with the first join's token")
t.eq(db.one("SELECT count(*) FROM ticket.queue_tokens WHERE concert_id = %s", (c,)), 1, "4: one token")

# ---- 5. The opening against a pre-queue join and a leave in flight: it waits for them
# and places the join, not the leaver; a join arriving meanwhile lines up behind.
c = db.one("SELECT admin.create_concert('interleave: opening', 'Hall', ARRAY[now() + interval '7 days'], "
           "p_max_active => 1, p_sale_opens_at => now() + interval '10 minutes')")
keys = [db.user("il-open-%d" % i) for i in range(5)]
tokens = [db.join(k, c) for k in keys[:3]]
t.eq([db.token_status(x) for x in tokens], ["PRE_QUEUE"] * 3, "5: three in the pre-queue")
a.run("BEGIN")
t.eq(a.run(JOIN, (keys[3], c)).rows[0][2], "PRE_QUEUE", "5: A's pre-queue join is done, not committed")
b.run("BEGIN")
t.eq(b.run("SELECT (api.leave_queue(%s)).status", (tokens[0],)).rows, [(204,)],
     "5: B's leave of the pre-queue is done, not committed")
db.q("UPDATE ticket.concerts SET sale_opens_at = now() - interval '1 second' WHERE id = %s", (c,))
o, j = db.session("O"), db.session("J")
o.send("SELECT admin.open_sale(%s)", (c,))
t.ok(db.wait_blocked(o, by=a) and db.wait_blocked(o, by=b), "5: the opening waits for the join and the leave")
j.send(JOIN, (keys[4], c))
t.ok(db.wait_blocked(j, by=o), "5: a join after the opening time waits for the opening")
a.run("COMMIT")
b.run("COMMIT")
t.eq(o.outcome().rows, [(True,)], "5: the opening ran once they committed")
late = j.outcome()
t.eq(late.rows[0][2] if late.ok else late, "WAITING", "5: the join that waited is in line")
rows = db.q("SELECT t.seq, t.status FROM ticket.queue_tokens t WHERE t.concert_id = %s ORDER BY t.seq NULLS LAST", (c,))
t.eq(db.one("SELECT shuffle_entries FROM ticket.concerts WHERE id = %s", (c,)), 3,
     "5: placed: the two who stayed and A's join; not B's leave")
t.eq([r[0] for r in rows], [1, 2, 3, 4, None], "5: ranks 1-3, the late join 4, the leaver unplaced")
t.eq(db.token_status(tokens[0]), "LEFT", "5: the leaver stays LEFT")
t.eq(db.one("SELECT seq FROM ticket.queue_tokens WHERE token_hash = sha256(convert_to(%s, 'UTF8'))",
            (late.rows[0][1],)), 4, "5: the late join lines up behind the pre-queue (seq 4)")
t.eq(db.invariants(), [], "5: admin.check_invariants() finds nothing")

# ---- 6. Behind a line of max_active or more, a join takes no queue lock even while a
# slot is free (in a surge slots free as buyers pay, before those ahead are admitted):
# it goes through while another session holds the lock, and admission keeps the order.
c, _ = db.concert("interleave: join behind a line", max_active=1)
kc, kw, kn = db.user("il-line-c"), db.user("il-line-w"), db.user("il-line-n")
tc, tw = db.join(kc, c), db.join(kw, c)
db.shift_turn(tc, 10 * 60 + 1)  # C's turn has run out: the slot is free, W waits
a.run("BEGIN")
a.run("SELECT 1 FROM ticket.queues WHERE concert_id = %s FOR UPDATE", (c,))
b.send(JOIN, (kn, c))
blocked = db.wait_blocked(b, by=a, timeout=2)
a.run("ROLLBACK")
out_n = b.outcome()
t.ok(not blocked and out_n.ok and out_n.rows[0][2] == "WAITING",
     "6: a join behind a line as long as the room does not wait for the queue lock", out_n)
t.eq(db.poll(tw), "ACTIVE", "6: the one waiting ahead takes the free slot at its poll")
t.eq(position(out_n.rows[0][1]), "1", "6: the new join is next, at position 1")
t.eq(db.invariants(), [], "6: admin.check_invariants() finds nothing")

t.done()
