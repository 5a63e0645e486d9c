#!/usr/bin/env python3
"""A proxy that serves a tampered copy of a concert's shuffle proof, for verify-shuffle.t.

usage: tamper-proxy.py PORT UPSTREAM
The first path segment says what to change, the rest is fetched from UPSTREAM:
  /swap-3-7/api/...  the entry_ids of ranks 3 and 7 trade places (on the page holding both)
  /drop-500/api/...  rank 500 is left out of its page
  /seed/api/...      /shuffle publishes another seed than the committed one
  /same/api/...      nothing changes
"""
import json
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = sys.argv[2].rstrip("/")


def tamper(mode, body):
    if mode == "seed" and body.get("seed"):
        body["seed"] = "00" * 32
    elif mode.startswith("swap-") and "entries" in body and isinstance(body["entries"], list):
        a, b = (int(r) for r in mode.split("-")[1:])
        by_rank = {e["rank"]: e for e in body["entries"]}
        if a in by_rank and b in by_rank:
            by_rank[a]["entry_id"], by_rank[b]["entry_id"] = by_rank[b]["entry_id"], by_rank[a]["entry_id"]
    elif mode.startswith("drop-") and isinstance(body.get("entries"), list):
        rank = int(mode.split("-")[1])
        body["entries"] = [e for e in body["entries"] if e["rank"] != rank]
    return body


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        _, mode, rest = self.path.split("/", 2)
        try:
            with urllib.request.urlopen(f"{UPSTREAM}/{rest}", timeout=30) as res:
                status, body = res.status, tamper(mode, json.load(res))
        except urllib.error.HTTPError as e:
            status, body = e.code, json.load(e)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
