#!/usr/bin/python3
"""The line stays exact under lock-free joins, by brute force.

Joins take their seq from a sequence and hold no lock, so a join that rolls back
or dies in a crash leaves a hole. Clients join one concert at once (fresh users,
some joins rolled back on purpose, some users joining twice at the same moment),
then the postmaster is killed with SIGKILL mid-joins and started again. At each
stage every WAITING token's reported position is compared with a count of the
line itself (WAITING tokens with a smaller seq, plus one): before settling a
position may only be too high, by at most the holes ahead of it; after the tick
settles (two ticks: one notes the joins that could fill a hole, the next finds
them over) every position is exact, admission stayed in seq order, every join
answered before the crash is still in line, and the invariants hold.

Scale: LINE_CLIENTS (8), LINE_JOINS (400 per stage); run-long.sh raises them.
"""
import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import psycopg2  # noqa: E402

CLIENTS = lib.env_int("LINE_CLIENTS", 8)
JOINS = lib.env_int("LINE_JOINS", 400)
JOIN = "SELECT status, body->>'token' FROM api.issue_token(%s, %s)"

tap = lib.Tap()
lib.exit_on_signals()
import atexit  # noqa: E402
atexit.register(lib.restore_cluster)

cid, _ = lib.create_concert("Line", seats=10, max_active=5)
users = lib.create_users("line", 2 * JOINS)
lock = threading.Lock()
acked = {}          # token -> user id: every join answered 201 or 200
rolled_back = [0]


def connect():
    return psycopg2.connect("", application_name="line")


def joiner(i, batch, stop, rollback_share):
    conn = None
    rnd = random.Random(i)
    for u in batch:
        if stop.is_set():
            break
        try:
            if conn is None or conn.closed:
                conn = connect()
            with conn.cursor() as c:
                if rnd.random() < rollback_share:
                    c.execute(JOIN, (u.key, cid))       # inside a transaction, then undone: a hole
                    conn.rollback()
                    with lock:
                        rolled_back[0] += 1
                    continue
                c.execute(JOIN, (u.key, cid))
                status, token = c.fetchone()
                conn.commit()
            with lock:
                acked[token] = u.id
        except psycopg2.Error:
            if conn is not None:
                conn.close()
            conn = None
            if stop.is_set():
                break
            time.sleep(0.05)   # the database is away: try the next user when it is back
    if conn is not None and not conn.closed:
        conn.close()


def twice(u):
    """The same user joins on two connections at the same moment."""
    out = []

    def one():
        conn = connect()
        conn.autocommit = True
        with conn.cursor() as c:
            c.execute(JOIN, (u.key, cid))
            out.append(c.fetchone())
        conn.close()
    ts = [threading.Thread(target=one) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def line():
    """(seq, reported position, brute-force position) of every WAITING token, in one snapshot."""
    return [(int(a), int(b), int(c)) for a, b, c in lib.psql(
        "SELECT t.seq, ticket.queue_position(t.concert_id, t.seq, q.admitted), "
        "       row_number() OVER (ORDER BY t.seq) "
        "FROM ticket.queue_tokens t JOIN ticket.queues q ON q.concert_id = t.concert_id "
        "WHERE t.concert_id = %d AND t.status = 'WAITING' ORDER BY t.seq" % cid)]


def holes_before(seq):
    return int(lib.psql_one(
        "SELECT count(*) FROM generate_series(1, %d) s WHERE NOT EXISTS "
        "(SELECT 1 FROM ticket.queue_tokens WHERE concert_id = %d AND seq = s)" % (seq - 1, cid)))


def settle():
    lib.psql("CALL admin.tick()")
    lib.psql("CALL admin.tick()")


def check_exact(stage):
    rows = line()
    wrong = [r for r in rows if r[1] != r[2]]
    tap.ok(rows and not wrong, "%s: after the tick settles, all %d positions equal a count of the line"
           % (stage, len(rows)), "seq, reported, counted: %s" % wrong[:10])
    order = lib.psql_one("SELECT coalesce(max(seq) FILTER (WHERE activated_at IS NOT NULL), 0) "
                         "< coalesce(min(seq) FILTER (WHERE status = 'WAITING'), 1) "
                         "FROM ticket.queue_tokens WHERE concert_id = %d" % cid)
    tap.eq(order, "t", "%s: every admitted token has a smaller seq than every waiting one (seq order)" % stage)
    inv = lib.invariants()
    tap.ok(not inv, "%s: admin.check_invariants() is empty" % stage, "\n".join(inv[:10]))


# ---- stage 1: joins, a fifth of them rolled back, and same-user pairs
first = users[:JOINS]
pairs = first[-20:]
batches = [first[i:len(first) - 20:CLIENTS] for i in range(CLIENTS)]
stop = threading.Event()
threads = [threading.Thread(target=joiner, args=(i, batches[i], stop, 0.2)) for i in range(CLIENTS)]
for t in threads:
    t.start()
doubles = [twice(u) for u in pairs]
for t in threads:
    t.join()
tap.ok(all(sorted(s for s, _ in d) == [200, 201] and d[0][1] == d[1][1] for d in doubles),
       "stage 1: a user joining twice at once gets one token (201, then 200 with the same)",
       [d for d in doubles if sorted(s for s, _ in d) != [200, 201]][:5])
rows = line()
over = [r for r in rows if r[1] < r[2] or r[1] > r[2] + holes_before(r[0])]
tap.ok(rolled_back[0] > 0 and rows and not over,
       "stage 1: with %d joins rolled back, no position is too low, none too high by more than the holes ahead"
       % rolled_back[0], over[:10])
tap.ok(any(r[1] > r[2] for r in rows), "stage 1: before settling some positions are overstated (holes are real)")
settle()
check_exact("stage 1")

# ---- stage 2: the postmaster killed with SIGKILL mid-joins
second = users[JOINS:]
batches = [second[i::CLIENTS] for i in range(CLIENTS)]
before = len(acked)
stop = threading.Event()
threads = [threading.Thread(target=joiner, args=(i, batches[i], stop, 0.05)) for i in range(CLIENTS)]
for t in threads:
    t.start()
lib.wait_until(lambda: len(acked) >= before + JOINS // 4, 30)
gone = lib.crash_postmaster(tap)
up = gone and lib.cluster_up(tap)
tap.ok(gone and up, "stage 2: postmaster killed mid-joins (%d joined before) and started again" % (len(acked) - before))
lib.wait_until(lambda: len(acked) >= before + JOINS // 2, 30)
stop.set()
for t in threads:
    t.join(60)
hashes = lib.psql("SELECT encode(token_hash, 'hex') FROM ticket.queue_tokens WHERE concert_id = %d" % cid)
have = set(h[0] for h in hashes)
import hashlib  # noqa: E402
lost = [tk for tk in acked if hashlib.sha256(tk.encode()).hexdigest() not in have]
tap.ok(len(acked) > before and not lost, "stage 2: every one of %d answered joins is in line after the crash"
       % len(acked), lost[:5])
settle()
check_exact("stage 2")
tap.figure("line_joins_answered", len(acked))
tap.figure("line_joins_rolled_back", rolled_back[0])
tap.figure("line_holes", holes_before(int(lib.psql_one(
    "SELECT max(seq) + 1 FROM ticket.queue_tokens WHERE concert_id = %d" % cid))))
tap.done()
