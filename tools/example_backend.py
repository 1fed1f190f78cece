#!/usr/bin/env python3
"""Example tool backend for the nginx MCP module.

This server speaks the tool backend contract: nginx forwards every MCP
``tools/call`` as ``POST <tool location>`` whose body is the call's
``arguments`` object (``{}`` when the client sent none), with the headers
``Mcp-Tool-Name``, ``Mcp-Session-Id``, ``Mcp-Request-Id`` and
``Mcp-Protocol-Version``.  What the backend answers becomes the tool result:
``application/json`` turns into a text block (plus ``structuredContent`` for a
JSON object), any other 2xx type into a text block, and a 4xx/5xx status into a
result with ``isError: true``.

It uses the Python standard library only:

    python3 tools/example_backend.py [--host 127.0.0.1] [--port 9001]
                                     [--verbose] [--quiet]

Example tools (configured in conf-examples/quickstart.conf)
------------------------------------------------------------
POST /echo      ``{"message": string}`` -> 200 text/plain, the message itself.
POST /add       ``{"a": number, "b": number}`` -> 200 application/json
                ``{"sum": a + b}`` (conf-examples/schemas/add.output.json).
POST /weather   ``{"city": string, "units"?: "metric"|"imperial"}`` -> 200
                application/json current conditions
                (conf-examples/schemas/weather.output.json).  The report is
                derived from the city name alone, so it is the same on every
                call and needs no network.

Invalid arguments (body not a JSON object, missing or mistyped fields, unknown
fields) are answered with 400 and a plain-text explanation, which a client sees
as a tool result with ``isError: true``.

Test helpers (used by the test suite)
-------------------------------------
POST /sleep?ms=N         waits N milliseconds (at most 600000), then 200
                         text/plain "slept N ms".
POST /status/NNN         answers status NNN (200-599) with the text/plain body
                         "status NNN" (no body for 204 and 304).
POST /big?bytes=N        200 text/plain made of N bytes of "x" (N at most
                         268435456).
POST /headers            200 application/json: an object whose members are the
                         request headers it received (lowercased names; repeated
                         headers joined with ", ") plus "body", the request body
                         as a string.
POST /result             200 application/vnd.mcp.tool-result+json whose body is
                         the request body, byte for byte, so a test can make
                         nginx pass any CallToolResult through.
POST /json-text?value=V  200 application/json whose body is V exactly as given
                         in the query string (it is not checked, so a test can
                         send an array, a scalar or malformed JSON).
POST /reply?status=N&type=T
                         answers status N (default 200) with Content-Type T
                         (default application/octet-stream) and the request
                         body as the response body.
POST /drip?bytes=N&ms=M  200 text/plain with Content-Length N; sends the N bytes
                         of "x" in ten parts, M milliseconds apart.
POST /close              reads the request and closes the connection without
                         answering.

Any other path is answered with 404, any method other than POST with 405.
Requests are logged to stderr only with --verbose; the server stops cleanly on
SIGTERM or SIGINT.
"""

import argparse
import hashlib
import json
import math
import signal
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_REQUEST_BODY = 16 * 1024 * 1024
MAX_SLEEP_MS = 600000
MAX_BIG_BYTES = 256 * 1024 * 1024
WRITE_CHUNK = 64 * 1024

TOOL_RESULT_TYPE = "application/vnd.mcp.tool-result+json"

WEATHER_CONDITIONS = (
    "clear",
    "partly cloudy",
    "overcast",
    "fog",
    "drizzle",
    "rain",
    "thunderstorm",
    "snow",
)


class BadRequest(Exception):
    """The request cannot be served; the message is sent back as text."""

    def __init__(self, message, status=HTTPStatus.BAD_REQUEST):
        super().__init__(message)
        self.status = int(status)


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def parse_json(body):
    """Decode a request body as strict JSON (no NaN or Infinity)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("request body is not valid UTF-8")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise BadRequest("request body is not valid JSON: %s" % exc)


def parse_arguments(body, allowed):
    """Decode the tool arguments, which must be a JSON object with known keys."""
    if not body.strip():
        args = {}
    else:
        args = parse_json(body)
    if not isinstance(args, dict):
        raise BadRequest("arguments must be a JSON object")
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise BadRequest("unknown argument(s): %s" % ", ".join(unknown))
    return args


def is_number(value):
    return (isinstance(value, (int, float))
            and not isinstance(value, bool)
            and not (isinstance(value, float) and not math.isfinite(value)))


def dump_json(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def tool_echo(body):
    args = parse_arguments(body, ("message",))
    if "message" not in args:
        raise BadRequest('missing required argument "message"')
    message = args["message"]
    if not isinstance(message, str):
        raise BadRequest('argument "message" must be a string')
    return 200, "text/plain; charset=utf-8", message.encode("utf-8")


def tool_add(body):
    args = parse_arguments(body, ("a", "b"))
    for name in ("a", "b"):
        if name not in args:
            raise BadRequest('missing required argument "%s"' % name)
        if not is_number(args[name]):
            raise BadRequest('argument "%s" must be a number' % name)
    total = args["a"] + args["b"]
    if isinstance(total, float) and not math.isfinite(total):
        raise BadRequest("the sum is out of range")
    return 200, "application/json", dump_json({"sum": total})


def weather_report(city, units):
    """Deterministic current conditions for a city name."""
    digest = hashlib.sha256(city.strip().casefold().encode("utf-8")).digest()
    celsius = round(-10.0 + (digest[0] * 256 + digest[1]) % 451 / 10.0, 1)
    humidity = 20 + digest[2] % 81
    wind_kmh = round((digest[3] * 256 + digest[4]) % 601 / 10.0, 1)
    conditions = WEATHER_CONDITIONS[digest[5] % len(WEATHER_CONDITIONS)]
    if conditions == "snow" and celsius > 2.0:
        conditions = "rain"
    feels_celsius = round(celsius - wind_kmh / 10.0, 1)

    if units == "imperial":
        temperature = round(celsius * 9.0 / 5.0 + 32.0, 1)
        feels_like = round(feels_celsius * 9.0 / 5.0 + 32.0, 1)
        wind_speed = round(wind_kmh / 1.609344, 1)
    else:
        temperature = celsius
        feels_like = feels_celsius
        wind_speed = wind_kmh

    return {
        "city": city,
        "units": units,
        "temperature": temperature,
        "feels_like": feels_like,
        "humidity": humidity,
        "wind_speed": wind_speed,
        "conditions": conditions,
    }


def tool_weather(body):
    args = parse_arguments(body, ("city", "units"))
    if "city" not in args:
        raise BadRequest('missing required argument "city"')
    city = args["city"]
    if not isinstance(city, str) or not city.strip():
        raise BadRequest('argument "city" must be a non-empty string')
    if len(city) > 100:
        raise BadRequest('argument "city" is longer than 100 characters')
    units = args.get("units", "metric")
    if units not in ("metric", "imperial"):
        raise BadRequest('argument "units" must be "metric" or "imperial"')
    return 200, "application/json", dump_json(weather_report(city, units))


TOOLS = {
    "/echo": tool_echo,
    "/add": tool_add,
    "/weather": tool_weather,
}


def query_int(query, name, default, low, high):
    values = query.get(name)
    if not values:
        if default is None:
            raise BadRequest('query parameter "%s" is required' % name)
        return default
    try:
        value = int(values[0], 10)
    except ValueError:
        raise BadRequest('query parameter "%s" must be an integer' % name)
    if value < low or value > high:
        raise BadRequest('query parameter "%s" must be between %d and %d'
                         % (name, low, high))
    return value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY a
    # reused connection can stall on delayed acknowledgements.
    disable_nagle_algorithm = True
    server_version = "example-backend/1.0"

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write("example_backend: %s %s\n"
                             % (self.address_string(), format % args))

    def log_error(self, format, *args):
        if not self.server.quiet:
            sys.stderr.write("example_backend: %s %s\n"
                             % (self.address_string(), format % args))

    # Request body -----------------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length.strip(), 10)
        except ValueError:
            self.close_connection = True
            raise BadRequest("invalid Content-Length")
        if size < 0:
            self.close_connection = True
            raise BadRequest("invalid Content-Length")
        if size > MAX_REQUEST_BODY:
            self.close_connection = True
            raise BadRequest("request body too large",
                             HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        return self.read_exact(size)

    def read_exact(self, size):
        parts = []
        remaining = size
        while remaining > 0:
            data = self.rfile.read(remaining)
            if not data:
                self.close_connection = True
                raise BadRequest("request body ended early")
            parts.append(data)
            remaining -= len(data)
        return b"".join(parts)

    def read_chunked(self):
        parts = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                self.close_connection = True
                raise BadRequest("malformed chunked request body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise BadRequest("malformed chunked request body")
            if size < 0:
                self.close_connection = True
                raise BadRequest("malformed chunked request body")
            if size == 0:
                while True:
                    trailer = self.rfile.readline(8192)
                    if trailer in (b"\r\n", b"\n", b""):
                        break
                return b"".join(parts)
            total += size
            if total > MAX_REQUEST_BODY:
                self.close_connection = True
                raise BadRequest("request body too large",
                                 HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            parts.append(self.read_exact(size))
            self.read_exact(2)

    # Responses ----------------------------------------------------------

    def send(self, status, content_type, body, extra_headers=()):
        self.send_response(status)
        for name, value in extra_headers:
            self.send_header(name, value)
        if status in (204, 304):
            # These statuses never carry a body.
            self.end_headers()
            return
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def send_text(self, status, text, extra_headers=()):
        self.send(status, "text/plain; charset=utf-8", text.encode("utf-8"),
                  extra_headers)

    # Methods -------------------------------------------------------------

    def do_POST(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        path = url.path
        try:
            body = self.read_body()
            self.route(path, query, body)
        except BadRequest as exc:
            self.send_text(exc.status, str(exc))
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    def route(self, path, query, body):
        tool = TOOLS.get(path)
        if tool is not None:
            status, content_type, payload = tool(body)
            self.send(status, content_type, payload)
            return

        if path == "/sleep":
            ms = query_int(query, "ms", 0, 0, MAX_SLEEP_MS)
            time.sleep(ms / 1000.0)
            self.send_text(200, "slept %d ms" % ms)

        elif path.startswith("/status/"):
            code = path[len("/status/"):]
            if not (len(code) == 3 and code.isdigit()
                    and 200 <= int(code) <= 599):
                raise BadRequest("status must be a number from 200 to 599")
            self.send_text(int(code), "status %s" % code)

        elif path == "/big":
            size = query_int(query, "bytes", None, 0, MAX_BIG_BYTES)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * min(size, WRITE_CHUNK)
            remaining = size
            while remaining > 0:
                piece = chunk if remaining >= len(chunk) else chunk[:remaining]
                self.wfile.write(piece)
                remaining -= len(piece)

        elif path == "/headers":
            seen = {}
            for name, value in self.headers.items():
                key = name.lower()
                seen[key] = seen[key] + ", " + value if key in seen else value
            seen["body"] = body.decode("utf-8", errors="replace")
            self.send(200, "application/json", dump_json(seen))

        elif path == "/result":
            self.send(200, TOOL_RESULT_TYPE, body)

        elif path == "/json-text":
            values = query.get("value")
            if not values:
                raise BadRequest('query parameter "value" is required')
            self.send(200, "application/json", values[0].encode("utf-8"))

        elif path == "/reply":
            status = query_int(query, "status", 200, 200, 599)
            content_type = query.get("type", ["application/octet-stream"])[0]
            self.send(status, content_type or None, body)

        elif path == "/drip":
            size = query_int(query, "bytes", 10, 0, 16 * 1024 * 1024)
            ms = query_int(query, "ms", 100, 0, 60000)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.flush()
            step = max(1, -(-size // 10))
            sent = 0
            while sent < size:
                if sent:
                    time.sleep(ms / 1000.0)
                piece = min(step, size - sent)
                self.wfile.write(b"x" * piece)
                self.wfile.flush()
                sent += piece

        elif path == "/close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        else:
            self.send_text(404, "no tool or helper at %s" % path)

    def method_not_allowed(self):
        # A body sent with the rejected request is not read, so the
        # connection cannot be reused.
        self.close_connection = True
        self.send_text(405, "method %s not allowed; use POST" % self.command,
                       (("Allow", "POST"),))

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = method_not_allowed

    def do_HEAD(self):
        self.close_connection = True
        self.send_response(405)
        self.send_header("Allow", "POST")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()


class BackendServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, verbose=False, quiet=False):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.verbose = verbose
        self.quiet = quiet
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        if self.quiet:
            return
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError,
                            socket.timeout)):
            return
        super().handle_error(request, client_address)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Example HTTP tool backend for the nginx MCP module.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9001,
                        help="port to listen on (default 9001, 0 picks one)")
    parser.add_argument("--verbose", action="store_true",
                        help="log every request to stderr")
    parser.add_argument("--quiet", action="store_true",
                        help="log nothing, not even errors or startup")
    options = parser.parse_args(argv)

    try:
        server = BackendServer((options.host, options.port),
                               verbose=options.verbose, quiet=options.quiet)
    except OSError as exc:
        sys.stderr.write("example_backend: cannot listen on %s:%d: %s\n"
                         % (options.host, options.port, exc.strerror or exc))
        return 1

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so it must run in
        # another thread than the one the signal interrupted.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    host, port = server.server_address[:2]
    if not options.quiet:
        sys.stderr.write("example_backend: listening on %s:%d\n" % (host, port))
        sys.stderr.flush()

    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    if not options.quiet:
        sys.stderr.write("example_backend: stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
