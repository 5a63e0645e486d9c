#!/usr/bin/env python3
"""Memory: the C programs under valgrind.

1. Every Check suite ($TICKET_BUILD/tests/check_*, CK_FORK=no so that the
   tests run in the process valgrind watches) under valgrind
   --leak-check=full --error-exitcode=1: no error, no leak.
2. One end-to-end run through lighttpd in FastCGI mode with every program
   started under valgrind (bin-path is a wrapper that execs valgrind): a
   user's whole journey and its error answers, lighttpd's own errors
   through the error handler, a hundred requests more to show a leak per
   request; then lighttpd stops, every program ends and every log must say
   "definitely lost: 0" (or no leak possible) and "ERROR SUMMARY: 0".
The plan is fixed by the tree: one point per Check suite (tests/unit) and
per program (cgi-bin/Makefile's PROGRAMS, over all the processes it ran as).
VALGRIND_PORT (18360), VALGRIND_LOOPS (100).
"""
import atexit
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

PORT = lib.env_int("VALGRIND_PORT", 18360)
LOOPS = lib.env_int("VALGRIND_LOOPS", 100)
BUILD = os.environ.get("TICKET_BUILD") or os.path.join(lib.ROOT, "build")
RUNUSER = os.environ.get("TICKET_RUNUSER", "")
VG = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
      "--errors-for-leak-kinds=definite,indirect", "--num-callers=30"]

tap = lib.Tap()
lib.exit_on_signals()
t0 = time.time()
leaks = {"definite_bytes": 0, "errors": 0, "logs": 0}


def summary(text):
    """(definitely lost bytes, indirectly lost bytes, errors) from a valgrind log, or None if cut short."""
    err = re.findall(r"ERROR SUMMARY: ([\d,]+) errors", text)
    if not err:
        return None
    n = lambda s: int(s.replace(",", ""))  # noqa: E731
    if "All heap blocks were freed" in text:
        return 0, 0, n(err[-1])
    d = re.findall(r"definitely lost: ([\d,]+) bytes", text)
    i = re.findall(r"indirectly lost: ([\d,]+) bytes", text)
    if not d:
        return None
    return n(d[-1]), n(i[-1]) if i else 0, n(err[-1])



def make_list(name):
    """The words of `name = ...` in cgi-bin/Makefile (continued lines joined)."""
    text = open(os.path.join(lib.ROOT, "cgi-bin", "Makefile")).read().replace("\\\n", " ")
    return re.search(r"^%s\s*=(.*)$" % name, text, re.M).group(1).split()


def sanitized(path):
    """Whether a program was built with ASan or UBSan (make test SANITIZE=1)."""
    syms = "".join(subprocess.run(["nm"] + flag + [path], capture_output=True, text=True).stdout
                   for flag in ([], ["-D"]))
    return re.search(r"__(asan_init|ubsan_handle_)", syms) is not None


# A SANITIZE=1 build checks its memory with ASan and UBSan in every test, and valgrind
# cannot run a program built with ASan (make test SANITIZE=1 failed here on every point).
if sanitized(os.path.join(BUILD, "cgi-bin", "health")):
    print("1..0 # SKIP the programs in %s carry ASan and UBSan, which check memory in this build;"
          " valgrind cannot run them" % BUILD, flush=True)
    sys.exit(0)

# What the tree says is built, not what happens to be there: the plan is
# one point per Check suite and per program, and three for the run.
suites = sorted("check_" + os.path.basename(f)[len("check_"):-2]
                for f in glob.glob(os.path.join(lib.ROOT, "tests", "unit", "check_*.c")))
programs = sorted(make_list("PROGRAMS"))
tap.plan(len(suites) + 3 + len(programs))

# ------------------------------------------------------------------ 1. unit tests
for name in suites:
    s = os.path.join(BUILD, "tests", name)
    if not os.access(s, os.X_OK):
        tap.ok(False, "%s under valgrind: no memory error, no leak" % name, "%s was not built" % s)
        continue
    # Valgrind's own exit code is 99; a failing unit test is tests/unit's to report.
    p = subprocess.run(VG + ["--error-exitcode=99", "-q", s], capture_output=True, text=True,
                       env=dict(os.environ, CK_FORK="no"), timeout=300)
    tap.ok(p.returncode != 99 and "==" not in p.stderr,
           "%s under valgrind: no memory error, no leak" % name,
           p.stderr[-3000:])
    if p.returncode == 99:
        leaks["errors"] += 1

# ------------------------------------------------------------------ 2. end to end
vg = os.path.join(lib.VAR, "valgrind-e2e")
shutil.rmtree(vg, ignore_errors=True)
for d in ("bin", "build/cgi-bin", "htdocs", "logs", "log", "run"):  # lighttpd.conf: log/ and run/ under TICKET_VAR
    os.makedirs(os.path.join(vg, d))
for prog in programs:
    shutil.copy2(os.path.join(BUILD, "cgi-bin", prog), os.path.join(vg, "bin", prog))
    wrapper = os.path.join(vg, "build", "cgi-bin", prog)
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec %s --log-file=%s/logs/%s.%%p.log %s/bin/%s\n"
                % (" ".join(VG), vg, prog, vg, prog))
    os.chmod(wrapper, 0o755)
if RUNUSER:
    subprocess.run(["chown", "-R", RUNUSER, vg], check=True)
subprocess.run(["chmod", "-R", "a+rX", vg], check=True)

env = dict(os.environ, TICKET_MODE="fastcgi", TICKET_PORT=str(PORT), TICKET_VAR=vg,
           TICKET_DOCROOT=os.path.join(vg, "htdocs"), TICKET_BUILD=os.path.join(vg, "build"),
           TICKET_DBURL="host=%s port=%s dbname=ticket user=ticket_web"
           % (os.environ.get("PGHOST", ""), os.environ.get("PGPORT", "")),
           TICKET_USER=RUNUSER or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip(),
           TICKET_PROCS="1", TICKET_JOIN_PROCS="1")
lighttpd = subprocess.Popen(["/usr/sbin/lighttpd", "-D", "-f", os.path.join(lib.ROOT, "lighttpd.conf")],
                            env=env, stdout=open(os.path.join(vg, "lighttpd.out"), "w"), stderr=subprocess.STDOUT)


def stop_lighttpd():
    if lighttpd.poll() is None:
        lighttpd.send_signal(signal.SIGTERM)
        try:
            lighttpd.wait(30)
        except subprocess.TimeoutExpired:
            lighttpd.kill()
            lighttpd.wait()


atexit.register(stop_lighttpd)
up = lib.wait_until(lambda: lib.health(PORT).status == 200, 60, 0.2)
tap.ok(up, "lighttpd answers with every program under valgrind")

c = lib.Client(PORT, timeout=60)
seen = []


def call(method, path, want, **kw):
    r = c.req(method, path, **kw)
    seen.append((method, path, r.status, want))
    return r


cid, dates = lib.create_concert("Valgrind", seats=50, max_seats=2, max_active=1000, days=(16,))
call("GET", "/api/health", 200)
call("GET", "/api/metrics", 200)
call("GET", "/api/concerts", 200)
u = call("POST", "/api/users", 201, body={"name": "valgrind"}).json()
v = call("POST", "/api/users", 201, body={"name": "valgrind two"}).json()
k, k2 = u["api_key"], v["api_key"]
call("POST", "/api/users", 400, body="{")
call("POST", "/api/users", 400, body={"name": ""})
call("POST", "/api/users", 415, body="name=x", ctype="text/plain")
call("POST", "/api/users", 413, body={"name": "x" * 17000})
call("POST", "/api/users", 413, body={"name": "x" * 70000})
call("POST", "/api/users", 400, body={"name": 99999999999999999999})
call("GET", "/api/wallet", 200, key=k)
call("GET", "/api/wallet", 401, key="nobody")
call("POST", "/api/wallet/charge", 200, body={"amount": 1000}, key=k, idem="vg-1")
call("POST", "/api/wallet/charge", 200, body={"amount": 1000}, key=k, idem="vg-1")
call("POST", "/api/wallet/charge", 422, body={"amount": 2000}, key=k, idem="vg-1")
call("POST", "/api/wallet/charge", 400, body={"amount": 0}, key=k)
call("GET", "/api/wallet/transactions?limit=5", 200, key=k)
call("GET", "/api/wallet/transactions?limit=500", 400, key=k)
t = call("POST", "/api/concerts/%d/queue" % cid, 201, key=k).json()["token"]
t2 = call("POST", "/api/concerts/%d/queue" % cid, 201, key=k2).json()["token"]
call("GET", "/api/queue", 200, token=t)
call("GET", "/api/concerts/%d/dates" % cid, 200, key=k, token=t)
call("GET", "/api/concerts/%d/dates/%s/seats" % (cid, dates[0]), 200, key=k, token=t)
call("GET", "/api/concerts/%d/dates/2000-01-01/seats" % cid, 404, key=k, token=t)
call("GET", "/api/concerts/%d/dates" % cid, 403, key=k, token=t2)
rid = call("POST", "/api/reservations", 201, body={"concert_id": cid, "date": dates[0], "seat_nos": [7]},
           key=k, token=t).json()["reservation_id"]
call("POST", "/api/reservations", 409, body={"concert_id": cid, "date": dates[0], "seat_nos": [7]}, key=k2, token=t2)
call("POST", "/api/reservations", 409, body={"concert_id": cid, "date": dates[0], "seat_nos": [8, 9]}, key=k, token=t)
call("GET", "/api/reservations/%d" % rid, 200, key=k, token=t)
call("GET", "/api/reservations/%d" % rid, 404, key=k2, token=t2)
call("POST", "/api/reservations/%d/payment" % rid, 402, key=k, token=t)
call("POST", "/api/wallet/charge", 200, body={"amount": 500000}, key=k)
call("POST", "/api/reservations/%d/payment" % rid, 201, key=k, token=t, idem="vg-pay")
call("POST", "/api/reservations/%d/payment" % rid, 201, key=k, token=t, idem="vg-pay")
call("DELETE", "/api/reservations/%d" % rid, 409, key=k)
r2 = call("POST", "/api/reservations", 201, body={"concert_id": cid, "date": dates[0], "seat_nos": [11, 12]},
          key=k2, token=t2).json().get("reservation_id", 1)
call("POST", "/api/reservations", 409, body={"concert_id": cid, "date": dates[0], "seat_nos": [1]},
     key=k2, token=t2)
call("DELETE", "/api/reservations/%d" % r2, 204, key=k2, token=t2)
call("GET", "/api/nowhere", 404)
call("PUT", "/api/wallet", 405, key=k)
call("GET", "/api/concerts/%zz/dates", 400)
call("GET", "/api/reservations/..%2fusers", 0)        # whatever the routing answers, no leak
for i in range(LOOPS):
    call("GET", "/api/wallet", 200, key=k)
    call("GET", "/api/concerts/%d/dates/%s/seats" % (cid, dates[0]), 200, key=k2, token=t2)
    call("POST", "/api/wallet/charge", 400, body={"amount": 1.5}, key=k)
    call("GET", "/api/reservations/%d" % rid, 404, key=k2, token=t2)
call("DELETE", "/api/queue", 204, token=t2)
call("DELETE", "/api/queue", 204, token=t2)
c.close()
off = [s for s in seen if s[3] and s[2] != s[3]]
tap.ok(not off, "%d requests answered as they should under valgrind" % len(seen), repr(off[:10]))

stop_lighttpd()
logs = sorted(glob.glob(os.path.join(vg, "logs", "*.log")))


def complete():
    return all(summary(open(f, errors="replace").read()) is not None for f in logs)


tap.ok(lib.wait_until(complete, 60, 0.2), "every program ended and wrote its valgrind summary (%d logs)" % len(logs))
# One point per program over all the processes it ran as (one or more).
for prog in programs:
    mine = [f for f in logs if os.path.basename(f).split(".")[0] == prog]
    bad = []
    for f in mine:
        text = open(f, errors="replace").read()
        s = summary(text)
        leaks["logs"] += 1
        if s:
            leaks["definite_bytes"] += s[0]
            leaks["errors"] += s[2]
        if s != (0, 0, 0):
            bad.append("%s:\n%s" % (os.path.basename(f), text[-4000:]))
    tap.ok(mine and not bad, "%s under valgrind (%d processes): definitely lost: 0, indirectly lost: 0, "
           "ERROR SUMMARY: 0" % (prog, len(mine)), "\n".join(bad) if bad else "no valgrind log: it never ran")

tap.figure("valgrind_logs", leaks["logs"])
tap.figure("valgrind_definitely_lost_bytes", leaks["definite_bytes"])
tap.figure("valgrind_errors", leaks["errors"])
tap.figure("valgrind_seconds", "%.1f" % (time.time() - t0))
sys.exit(tap.done())
