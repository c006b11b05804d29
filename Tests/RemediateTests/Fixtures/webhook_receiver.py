#!/usr/bin/env python3
"""A webhook receiver for the remediation tests: records every POST (path, headers, body) as
one JSON line, answers 503 to the first --fail-first requests (to exercise retries) and --answer to the rest, and
writes the port it listens on to --port-file once it is ready."""
import argparse, json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port-file", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--fail-first", type=int, default=0)
parser.add_argument("--answer", type=int, default=200)
parser.add_argument("--hang", action="store_true", help="read requests, never answer")
args = parser.parse_args()
seen = {"count": 0}

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if len(raw) < length:
            # The sender died mid-request (the crash test kills it): nothing arrived, as a
            # real receiver would see it. Not recorded, not answered.
            return
        body = raw.decode("utf-8")
        seen["count"] += 1
        failing = seen["count"] <= args.fail_first
        if args.hang:
            import time
            time.sleep(3600)
        with open(args.log, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body, "answered": 503 if failing else args.answer}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.send_response(503 if failing else args.answer)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tmp = args.port_file + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, args.port_file)
server.serve_forever()
