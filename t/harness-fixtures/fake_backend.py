#!/usr/bin/env python3
"""Small HTTP server used by t/00-harness.t to exercise the test harness.

    python3 fake_backend.py --host 127.0.0.1 --port N

GET  /hello         200 text/plain "hello"
GET  /chunked       200, body "alpha-beta-gamma" sent as three chunks
GET  /close         HTTP/1.0 answer without Content-Length, ended by closing
GET  /sse           200 text/event-stream with two JSON events
GET  /count         200 text/plain: how many times /count was requested
GET  /slow?ms=N     waits N milliseconds, then 200 "slow"
ANY  /echo          200 application/json {"method", "path", "headers", "body",
                    "body_length"} (header names lowercased)
POST /mcp           a minimal MCP imitation: initialize answers with a session
                    id, notifications with 202, other requests with a result
                    holding the request method and headers
"""

import argparse
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counter = 0
    sessions = 0
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body, ctype="text/plain", extra=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def headers_dict(self):
        out = {}
        for name, value in self.headers.items():
            key = name.lower()
            out[key] = out[key] + ", " + value if key in out else value
        return out

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        body = self.read_body()
        if url.path == "/hello":
            self.send(200, "hello")
        elif url.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"alpha-", b"beta-", b"gamma"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/close":
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                             b"until the connection closes")
            self.close_connection = True
        elif url.path == "/sse":
            events = b'event: message\ndata: {"a":1}\n\ndata: {"b":2}\n\n'
            self.send(200, events, "text/event-stream")
        elif url.path == "/count":
            with Handler.lock:
                Handler.counter += 1
                count = Handler.counter
            self.send(200, str(count))
        elif url.path == "/slow":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
            self.send(200, "slow")
        elif url.path == "/echo":
            self.send(200, json.dumps({
                "method": self.command, "path": self.path,
                "headers": self.headers_dict(),
                "body": body.decode("utf-8", "replace"),
                "body_length": len(body)}), "application/json")
        elif url.path == "/mcp" and self.command == "POST":
            self.fake_mcp(body)
        else:
            self.send(404, "not found")

    def fake_mcp(self, body):
        try:
            msg = json.loads(body)
        except ValueError:
            self.send(400, "bad json")
            return
        if "id" not in msg:
            self.send(202, "")
            return
        if msg.get("method") == "initialize":
            with Handler.lock:
                Handler.sessions += 1
                sid = "fake-session-%d" % Handler.sessions
            version = msg.get("params", {}).get("protocolVersion")
            result = {"protocolVersion": version, "capabilities": {},
                      "serverInfo": {"name": "fake", "version": "1"}}
            self.send(200, json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}),
                      "application/json", [("Mcp-Session-Id", sid)])
            return
        result = {"method": msg.get("method"), "headers": self.headers_dict()}
        self.send(200, json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}),
                  "application/json")

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
