#!/usr/bin/env python3
"""A small OAuth 2.1 authorization server, for trying mcp_auth jwt.

It issues HS256 JWT access tokens (RFC 9068) with the client credentials
grant, which is all a machine client needs, and publishes its metadata
(RFC 8414).  The gateway checks the tokens with the same secret
(``mcp_oauth ... hmac_secret=FILE``).  It is a test and demonstration
companion, not an authorization server for production: it has no users,
no consent, no authorization code flow.

    python3 tools/oauth_server.py --secret-file FILE
        [--client ID:SECRET:SCOPE[,SCOPE...]] ... [--issuer URL]
        [--host 127.0.0.1] [--port 9002] [--lifetime SECONDS]

GET  /.well-known/oauth-authorization-server   metadata (RFC 8414)
POST /token   grant_type=client_credentials, the client authenticated with
              HTTP Basic or client_id/client_secret in the form; ``scope``
              (space-separated; default: all the client's scopes) is cut to
              the client's scopes; ``resource`` (RFC 8707) becomes ``aud``.
              The answer is {"access_token", "token_type": "Bearer",
              "expires_in", "scope"}; errors follow RFC 6749, 5.2.

Every token issued is logged to stderr as "issued sub=ID scope=... aud=...".
"""

import argparse
import base64
import hashlib
import hmac
import json
import signal
import sys
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign(secret, claims):
    header = b64url(json.dumps({"alg": "HS256", "typ": "at+jwt"},
                               separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = (header + "." + payload).encode("ascii")
    mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return header + "." + payload + "." + b64url(mac)


class AuthorizationServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, options, secret, clients):
        super().__init__(address, Handler)
        self.options = options
        self.secret = secret
        self.clients = clients
        self.issuer = options.issuer or "http://%s:%d" % self.server_address[:2]


class Handler(BaseHTTPRequestHandler):
    server_version = "oauth-server/1.0"

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        pass

    def send_json(self, status, body, extra=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, description, extra=()):
        self.send_json(status, {"error": code,
                                "error_description": description}, extra)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path != "/.well-known/oauth-authorization-server":
            self.error(HTTPStatus.NOT_FOUND, "not_found", "no such document")
            return
        issuer = self.server.issuer
        self.send_json(HTTPStatus.OK, {
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "response_types_supported": ["code"],
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post"],
            "scopes_supported": sorted({s for c in self.server.clients.values()
                                        for s in c[1]}),
        })

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/token":
            self.error(HTTPStatus.NOT_FOUND, "not_found", "no such endpoint")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > 65536:
            self.error(HTTPStatus.BAD_REQUEST, "invalid_request",
                       "the request is too large")
            return
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8",
                                                                    "replace"))
        field = lambda name: (form.get(name) or [None])[0]

        client_id, client_secret = field("client_id"), field("client_secret")
        basic = self.headers.get("Authorization", "")
        if basic[:6].lower() == "basic ":
            try:
                pair = base64.b64decode(basic[6:]).decode("utf-8")
                client_id, _, client_secret = pair.partition(":")
                client_id = urllib.parse.unquote(client_id)
                client_secret = urllib.parse.unquote(client_secret)
            except ValueError:
                client_id = None

        client = self.server.clients.get(client_id or "")
        if client is None or not hmac.compare_digest(
                client[0].encode(), (client_secret or "").encode()):
            self.error(HTTPStatus.UNAUTHORIZED, "invalid_client",
                       "unknown client or wrong secret",
                       [("WWW-Authenticate", 'Basic realm="token"')])
            return

        if field("grant_type") != "client_credentials":
            self.error(HTTPStatus.BAD_REQUEST, "unsupported_grant_type",
                       "only client_credentials is offered")
            return

        wanted = (field("scope") or " ".join(client[1])).split()
        scope = [s for s in wanted if s in client[1]]
        if wanted and not scope:
            self.error(HTTPStatus.BAD_REQUEST, "invalid_scope",
                       "none of the scopes asked for is the client's")
            return

        now = int(time.time())
        claims = {"iss": self.server.issuer, "sub": client_id,
                  "client_id": client_id, "iat": now,
                  "exp": now + self.server.options.lifetime,
                  "scope": " ".join(scope)}
        resource = field("resource")
        if resource:
            claims["aud"] = resource

        sys.stderr.write("issued sub=%s scope=%s aud=%s\n"
                         % (client_id, claims["scope"], resource or "-"))
        sys.stderr.flush()

        self.send_json(HTTPStatus.OK, {
            "access_token": sign(self.server.secret, claims),
            "token_type": "Bearer",
            "expires_in": self.server.options.lifetime,
            "scope": claims["scope"],
        })


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="A client-credentials OAuth server issuing HS256 JWTs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9002)
    parser.add_argument("--issuer",
                        help="issuer URL (default http://HOST:PORT)")
    parser.add_argument("--secret-file", required=True,
                        help="the HS256 key: the file's bytes, all of them")
    parser.add_argument("--client", action="append", default=[],
                        help="ID:SECRET:SCOPE[,SCOPE...], repeatable")
    parser.add_argument("--lifetime", type=int, default=300,
                        help="token lifetime in seconds (default 300)")
    options = parser.parse_args(argv)

    with open(options.secret_file, "rb") as f:
        secret = f.read()
    if len(secret) < 32:
        sys.stderr.write("oauth_server: the secret needs 32 bytes at least\n")
        return 1

    clients = {}
    for spec in options.client:
        parts = spec.split(":", 2)
        if len(parts) != 3 or not parts[0] or not parts[1]:
            sys.stderr.write("oauth_server: --client ID:SECRET:SCOPES\n")
            return 1
        clients[parts[0]] = (parts[1], [s for s in parts[2].split(",") if s])

    try:
        server = AuthorizationServer((options.host, options.port), options,
                                     secret, clients)
    except OSError as exc:
        sys.stderr.write("oauth_server: cannot listen on %s:%d: %s\n"
                         % (options.host, options.port, exc.strerror or exc))
        return 1

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    sys.stderr.write("oauth_server: listening on %s:%d, issuer %s\n"
                     % (server.server_address[0], server.server_address[1],
                        server.issuer))
    sys.stderr.flush()

    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
