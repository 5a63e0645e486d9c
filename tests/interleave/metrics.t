#!/usr/bin/python3
"""GET /api/metrics under a flood: a scrape that finds the last count too old counts
anew and keeps it; scrapes meanwhile answer the last count without waiting for that
one (nor counting themselves), then answer the new one. Only when there is no count
yet at all does a scrape count for itself."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402

t = lib.Tap()
db = lib.Db()
SCRAPE = "SELECT (api.metrics()).body #>> '{}'"
COUNTS = ("SELECT coalesce((SELECT calls FROM pg_stat_xact_user_functions"
          " WHERE funcid = 'ticket.metrics_text()'::regprocedure), 0)")


def code_in(body, code):
    return ('ticket_request_errors_total{code="%s"} 1' % code) in body.split("\n")


def age_last_count():
    db.q("UPDATE ticket.metrics_snapshot SET counted_at = counted_at - interval '1 minute'")


counter, s = db.session("counter"), db.session("S")
s.run("SET track_functions = 'all'")
db.q("SELECT api.note_error('IL_METRICS_OLD')")
age_last_count()
old = s.run(SCRAPE).rows[0][0]
t.ok(code_in(old, "IL_METRICS_OLD"), "a scrape after an old count counts anew", old[-400:])
age_last_count()
db.q("SELECT api.note_error('IL_METRICS_NEW')")

counter.run("BEGIN")
body = counter.run(SCRAPE).rows[0][0]
t.ok(code_in(body, "IL_METRICS_NEW"), "the counter's scrape counts anew (its transaction still open)")
s.run("BEGIN")
counted = s.run(COUNTS).rows
out = s.send(SCRAPE).outcome(timeout=5)
t.ok(out.ok and not db.blockers(s), "a scrape meanwhile finishes without waiting for the counter", out)
t.eq(out.rows, [(old,)], "... and answers the last count kept")
t.eq(s.run(COUNTS).rows, counted, "... without counting itself")
s.run("COMMIT")
counter.run("COMMIT")
out = s.run(SCRAPE)
t.ok(out.rows and code_in(out.rows[0][0], "IL_METRICS_NEW"), "once the counter commits, a scrape answers its count", out)

# No count kept yet (a new database), and one is being made: a scrape counts for itself.
db.q("UPDATE ticket.metrics_snapshot SET counted_at = '-infinity', body = NULL")
counter.run("BEGIN")
counter.run("SELECT 1 FROM ticket.metrics_snapshot FOR UPDATE")
out = s.send(SCRAPE).outcome(timeout=5)
t.ok(out.ok and out.rows and code_in(out.rows[0][0], "IL_METRICS_NEW"),
     "with no count kept and one being made, a scrape counts for itself without waiting", out)
counter.run("ROLLBACK")
t.done()
