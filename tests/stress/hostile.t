#!/usr/bin/env python3
"""Hostile input over HTTP (FastCGI), from the table tests/stress/hostile.tsv.

Every row is sent as raw bytes on its own connection and must get its 4xx
with the docs/api.md error body ({"error": {"code", "message", "details",
"hint"}}, the code of the row, the field of the row in details), never a
5xx (but for the two statuses lighttpd itself gives to what is not HTTP it
speaks: 501 for an unknown method, 505 for an unknown HTTP version, each
named in the table), and never a Set-Cookie or injected header.  The
service stays up (same FastCGI processes, none died) and the data is
unchanged: a checksum of every ticket table (but request_errors and
error_counts, which count error answers by design) before and after, with
pg_cron paused so that no tick changes rows meanwhile.

First, values that look like attacks but are valid (SQL in a name and an
Idempotency-Key) are accepted and stored verbatim.

HOSTILE_REPEAT (1) sends the table that many times (the same answers each
time); HOSTILE_MUTANTS (500, seeded by HOSTILE_SEED) then sends random byte
mutations of its rows, which must get an answer that is no 5xx (silence
only for a request the mutation left incomplete); run-long.sh raises both.
HOSTILE_PORT (18340).
"""
import json
import os
import random
import re
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

PORT = lib.env_int("HOSTILE_PORT", 18340)
REPEAT = lib.env_int("HOSTILE_REPEAT", 1)
MUTANTS = lib.env_int("HOSTILE_MUTANTS", 500)
TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile.tsv")
ERROR_KEYS = {"code", "message", "details", "hint"}

tap = lib.Tap()
lib.exit_on_signals()
t0 = time.time()
svc = lib.Service(PORT).start()


def api(sql):
    """The body of one api.* call, as JSON text."""
    return lib.psql_one("SELECT (%s).body" % sql)


# ------------------------------------------------------------------ the cast
cid, dates = lib.create_concert("Hostile", seats=50, max_active=1000, days=(11,))
cid2, dates2 = lib.create_concert("Hostile two", seats=50, max_active=1000, days=(12,))
cidw, _ = lib.create_concert("Hostile waiting", seats=50, max_active=1, days=(13,))
a, b, x, w = lib.create_users("hostile", 4)


def token(u, c):
    return json.loads(api("api.issue_token(%s, %d)" % (lib.sql_lit(u.key), c)))["token"]


def hold(u, tok, c, d, seat):
    return json.loads(api("api.hold_seat(%s, %s, %d, %s, '{%d}')" % (
        lib.sql_lit(u.key), lib.sql_lit(tok), c, lib.sql_lit(d), seat)))["reservation_id"]


a_tok, a_tok2, b_tok, b_tok2 = token(a, cid), token(a, cid2), token(b, cid), token(b, cid2)
token(x, cidw)                        # takes the one slot of the waiting-room concert
w_tok = token(w, cidw)                # so this one waits
a_rid = hold(a, a_tok, cid, dates[0], 1)
b_rid = hold(b, b_tok, cid, dates[0], 2)
hold(b, b_tok2, cid2, dates2[0], 5)


def flip(s):
    i = len(s) // 2
    return s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]


PLACE = {
    "A_KEY": a.key, "A_TOKEN": a_tok, "A_TOKEN2": a_tok2, "B_KEY": b.key, "B_TOKEN": b_tok,
    "A_RID": str(a_rid), "B_RID": str(b_rid), "CID": str(cid), "CID2": str(cid2), "CIDW": str(cidw),
    "DATE": dates[0], "DATE2": dates2[0], "W_KEY": w.key, "W_TOKEN": w_tok,
    "A_KEY_CUT": a.key[:-1], "A_KEY_FLIP": flip(a.key), "A_TOKEN_CUT": a_tok[:-1],
    "A_TOKEN_FLIP": flip(a_tok),
}


def expand(field):
    """Placeholders, repetitions, then escapes: the bytes to send."""
    field = re.sub(r"\{([A-Z0-9_]+)\}", lambda m: PLACE.get(m.group(1), m.group(0)), field)
    field = re.sub(r"%%REP:(\d+):(.*?)%%", lambda m: m.group(2) * int(m.group(1)), field)
    field = re.sub(r"%%SEQ:(\d+)%%", lambda m: ", ".join(str(i) for i in range(1, int(m.group(1)) + 1)), field)
    raw = field.encode("utf-8")
    esc = {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"0": b"\0", b"\\": b"\\"}
    return re.sub(rb"\\(x[0-9a-fA-F]{2}|[rnt0\\])",
                  lambda m: bytes([int(m.group(1)[1:], 16)]) if m.group(1)[:1] == b"x" else esc[m.group(1)], raw)


def load_table():
    rows = []
    with open(TABLE, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 8:
                tap.bail("%s:%d: %d columns, not 8" % (TABLE, n, len(cols)))
            rows.append(dict(line=n, name=cols[0], method=cols[1], target=cols[2], headers=cols[3],
                             body=cols[4], status=int(cols[5]), code=cols[6], field=cols[7]))
    return rows


def build(row):
    """The request bytes of a row."""
    if row["method"] == "RAW":
        return expand(row["target"])
    body = expand(row["body"])
    given, drop = [], set()
    for h in (expand(row["headers"]).split(b"\r\n") if row["headers"] else []):
        if h.startswith(b"-") and b":" not in h:
            drop.add(h[1:].strip().lower())
        else:
            given.append(h)
    names = set(h.split(b":", 1)[0].strip().lower() for h in given)
    head = [b"%s %s HTTP/1.1" % (row["method"].encode(), expand(row["target"]))]
    if b"host" not in names:
        head.append(b"Host: 127.0.0.1")
    head += given
    if b"connection" not in names:
        head.append(b"Connection: close")
    if (body or row["method"] == "POST") and not names & {b"content-length", b"transfer-encoding"} \
            and b"content-length" not in drop:
        head.append(b"Content-Length: %d" % len(body))
    if body and b"content-type" not in names and b"content-type" not in drop:
        head.append(b"Content-Type: application/json")
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def incomplete(raw):
    """A request the server cannot answer: headers not ended, less body than announced,
    or a chunked body (whose framing the mutation may have broken)."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    if not ends:
        return True
    end = min(ends)
    head, body = raw[:end], raw[end:].lstrip(b"\r\n")
    m = re.search(rb"(?im)^content-length:[ \t]*([0-9]+)[ \t]*\r?$", head)
    if m and int(m.group(1)) > len(body):
        return True
    # A chunked body whose framing a mutation broke cannot be answered either.
    return bool(re.search(rb"(?im)^transfer-encoding:", head))


def judge(row, r):
    """What is wrong with the answer to a row ([] when right)."""
    wrong = []
    if r.status != row["status"]:
        wrong.append("status %s, expected %s" % (r.status, row["status"]))
    if r.status >= 500 and row["status"] < 500 or r.status == 0:
        wrong.append("a 5xx or no answer for a client mistake")
    if "set-cookie" in r.headers or "x-evil" in r.headers:
        wrong.append("an injected header came back")
    if row["code"] != "-":
        j = r.json()
        err = j.get("error") if isinstance(j, dict) else None
        if not isinstance(err, dict) or set(j) != {"error"} or set(err) != ERROR_KEYS:
            wrong.append("not the docs/api.md error body: %r" % r.body[:200])
        else:
            if err["code"] != row["code"]:
                wrong.append("code %s, expected %s" % (err["code"], row["code"]))
            if not isinstance(err["message"], str) or not err["message"]:
                wrong.append("no message")
            if not (err["hint"] is None or isinstance(err["hint"], str)):
                wrong.append("hint is neither null nor text")
            if row["field"] != "-":
                got = err["details"].get("field") if isinstance(err["details"], dict) else None
                if got != row["field"]:
                    wrong.append("details.field %r, expected %r (details %r)" % (got, row["field"], err["details"]))
        if not r.headers.get("content-type", "").startswith("application/json"):
            wrong.append("Content-Type %r" % r.headers.get("content-type"))
    if r.status == 405 and not r.headers.get("allow"):
        wrong.append("405 without Allow")
    if r.status in (429, 503) and not r.headers.get("retry-after", "").isdigit():
        wrong.append("%d without Retry-After" % r.status)
    return wrong


# ------------------------------------------------------------------ valid, if nasty
c = lib.Client(PORT)
nasty = "Robert'); DROP TABLE ticket.users;--"
r = c.req("POST", "/api/users", {"name": nasty})
tap.ok(r.status == 201 and r.json()["name"] == nasty and lib.psql_one(
    "SELECT name FROM ticket.users WHERE id = %d" % int(r.json()["user_id"])) == nasty,
    "a name with SQL in it is a name: 201, stored verbatim", repr(r))
r = c.req("POST", "/api/users", {"name": "가" * 64})
tap.ok(r.status == 201 and r.json()["name"] == "가" * 64, "a name of 64 three-byte characters is accepted", repr(r))
idem = "x'); DELETE FROM ticket.ledger; -- \"\\ %s"
r = c.req("POST", "/api/wallet/charge", {"amount": 1}, key=x.key, idem=idem)
tap.ok(r.status == 200 and lib.psql_one(
    "SELECT count(*) FROM ticket.idempotency_keys WHERE user_id = %d AND key = %s" % (x.id, lib.sql_lit(idem))) == "1",
    "an Idempotency-Key with SQL in it is a key: 200, stored verbatim", repr(r))
c.close()

# ------------------------------------------------------------------ the table
rows = load_table()
tap.ok(len(rows) >= 80, "%d hostile requests in %s" % (len(rows), os.path.basename(TABLE)))
with lib.CronPaused():
    before = lib.table_checksums()
    pids = dict((p, svc.program_pids(p)) for p in ("users", "wallet", "queue", "seats", "reservations",
                                                    "payment", "concerts", "notfound", "health"))
    sent = 0
    first = {}
    for row in rows:
        r = lib.raw_request(PORT, build(row))
        sent += 1
        first[row["line"]] = (r.status, r.code())
        wrong = judge(row, r)
        tap.ok(not wrong, "%s: %s %s -> %d %s" % (row["name"], row["method"], row["target"][:40],
                                                   row["status"], row["code"]),
               "line %d: %s\n%s" % (row["line"], "; ".join(wrong), r))
    # Again: the same answers (a row that creates data when it should not does so again).
    changes = {}
    for rep in range(1, REPEAT):
        for row in rows:
            r = lib.raw_request(PORT, build(row))
            sent += 1
            if (r.status, r.code()) != first[row["line"]]:
                changes[row["name"]] = "first %s, then %s" % (first[row["line"]], (r.status, r.code()))
    if REPEAT > 1:
        tap.ok(not changes, "the table answered the same %d more times" % (REPEAT - 1), repr(changes)[:2000])

    tap.eq(lib.health(PORT).status, 200, "the service is still up")
    after = lib.table_checksums()
    changed = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
    tap.ok(not changed, "the data is unchanged (checksums of %d ticket tables)" % len(before),
           "changed: %s" % changed)

    # Random mutations of the rows: whatever they become, an answer (a 4xx with the error
    # body, or a 2xx when the mutant happens to be a valid request: these may change data),
    # never a 5xx; silence only for a request left incomplete (no end of headers, less body
    # than its Content-Length, a broken chunked body), which the server closes.
    rng = random.Random(os.environ.get("HOSTILE_SEED", "7"))
    bad_mutants = []
    silent = 0
    for i in range(MUTANTS):
        raw = bytearray(build(rng.choice(rows)))
        for _ in range(rng.randint(1, 4)):
            k = rng.randrange(len(raw))
            op = rng.random()
            if op < 0.4:
                raw[k] = rng.randrange(256)
            elif op < 0.7:
                del raw[k]
            else:
                raw[k:k] = bytes([rng.choice(b"\r\n\0%{}[]\"\\'9-.e ")])
        raw = bytes(raw)
        r = lib.raw_request(PORT, raw, timeout=5)
        sent += 1
        if r.status == 0 and incomplete(raw):
            silent += 1
        elif r.status == 0 or r.status >= 500 and r.status not in (501, 505):
            bad_mutants.append("%r -> %r" % (raw[:700], r))
        elif r.status >= 400 and r.status != 405 and r.code() is None and raw.startswith(b"POST /api") \
                and b"HEAD" not in raw[:5]:
            bad_mutants.append("%r -> not the error body: %r" % (raw[:160], r))
    if MUTANTS:
        tap.ok(not bad_mutants, "%d random mutations of the rows: no 5xx, no silence but for %d incomplete requests"
               % (MUTANTS, silent), "\n".join(bad_mutants[:10]))

    tap.eq(lib.health(PORT).status, 200, "the service is still up after the mutants")
    after_pids = dict((p, svc.program_pids(p)) for p in pids)
    tap.eq(after_pids, pids, "no FastCGI program died or was restarted")

inv = lib.invariants()
tap.ok(not inv, "admin.check_invariants() is empty", "\n".join(inv[:10]))
tap.figure("hostile_inputs_tried", sent)
tap.figure("hostile_seconds", "%.1f" % (time.time() - t0))
svc.stop()
sys.exit(tap.done())
