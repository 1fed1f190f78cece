#!/usr/bin/env python3
"""Tool backend for the MCP conformance server scenarios.

ngx_http_mcp_module forwards every MCP ``tools/call`` to an HTTP location;
this server answers those requests for the tools that the
``@modelcontextprotocol/conformance`` server scenarios call.  Each tool is a
path on this server: ``POST /<tool name>`` with the call's ``arguments``
object as a JSON body.

Replies follow the module's backend contract:

* ``text/plain`` bodies become one text content block;
* ``application/json`` bodies become a text block plus ``structuredContent``;
* ``application/vnd.mcp.tool-result+json`` bodies are complete MCP
  ``CallToolResult`` objects (images, audio, embedded resources, several
  blocks) that the module passes through;
* 4xx/5xx replies become results with ``isError: true``.

Some conformance tools need the server to send messages to the client while
the call runs (logging and progress notifications, sampling and elicitation
requests).  The request/response backend contract has no channel for them,
so those tools answer ``501`` with an explanation instead of pretending to
have done the exchange.

``GET /health`` answers 200 so that test harnesses can wait for the backend.
"""

import argparse
import json
import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOOL_RESULT_TYPE = "application/vnd.mcp.tool-result+json"

# A 1x1 red PNG pixel.
TEST_IMAGE_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAF"
    "BQIAX8jx0gAAAABJRU5ErkJggg=="
)

# A minimal RIFF/WAVE file: 8 kHz mono 16-bit PCM with a single sample.
TEST_AUDIO_BASE64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

MAX_BODY = 1024 * 1024


class ToolReply:
    """An HTTP reply produced by a tool handler."""

    __slots__ = ("status", "content_type", "body")

    def __init__(self, status, content_type, body):
        self.status = status
        self.content_type = content_type
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")

    @classmethod
    def text(cls, text, status=HTTPStatus.OK):
        return cls(status, "text/plain; charset=utf-8", text)

    @classmethod
    def json(cls, value, status=HTTPStatus.OK):
        return cls(status, "application/json", json.dumps(value, separators=(",", ":")))

    @classmethod
    def tool_result(cls, result):
        return cls(HTTPStatus.OK, TOOL_RESULT_TYPE, json.dumps(result, separators=(",", ":")))


class ArgumentError(Exception):
    """The arguments object does not match what the tool accepts."""


def require_no_arguments(args):
    if args:
        raise ArgumentError("this tool takes no arguments, got: " + ", ".join(sorted(args)))


def require_string(args, name):
    value = args.get(name)
    if not isinstance(value, str):
        raise ArgumentError("argument '%s' is required and must be a string" % name)
    return value


def tool_simple_text(args):
    require_no_arguments(args)
    return ToolReply.text("This is a simple text response for testing.")


def tool_image_content(args):
    require_no_arguments(args)
    return ToolReply.tool_result(
        {"content": [{"type": "image", "data": TEST_IMAGE_BASE64, "mimeType": "image/png"}]}
    )


def tool_audio_content(args):
    require_no_arguments(args)
    return ToolReply.tool_result(
        {"content": [{"type": "audio", "data": TEST_AUDIO_BASE64, "mimeType": "audio/wav"}]}
    )


def tool_embedded_resource(args):
    require_no_arguments(args)
    return ToolReply.tool_result(
        {
            "content": [
                {
                    "type": "resource",
                    "resource": {
                        "uri": "test://embedded-resource",
                        "mimeType": "text/plain",
                        "text": "This is an embedded resource content.",
                    },
                }
            ]
        }
    )


def tool_multiple_content_types(args):
    require_no_arguments(args)
    return ToolReply.tool_result(
        {
            "content": [
                {"type": "text", "text": "Multiple content types test:"},
                {"type": "image", "data": TEST_IMAGE_BASE64, "mimeType": "image/png"},
                {
                    "type": "resource",
                    "resource": {
                        "uri": "test://mixed-content-resource",
                        "mimeType": "application/json",
                        "text": json.dumps({"test": "data", "value": 123}, separators=(",", ":")),
                    },
                },
            ]
        }
    )


def tool_error_handling(args):
    require_no_arguments(args)
    return ToolReply.text(
        "This tool intentionally returns an error for testing",
        status=HTTPStatus.INTERNAL_SERVER_ERROR,
    )


def tool_json_schema_2020_12(args):
    allowed = {"name", "address"}
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ArgumentError("additional properties are not allowed: " + ", ".join(unknown))
    if "name" in args and not isinstance(args["name"], str):
        raise ArgumentError("argument 'name' must be a string")
    if "address" in args:
        address = args["address"]
        if not isinstance(address, dict):
            raise ArgumentError("argument 'address' must be an object")
        for field in ("street", "city"):
            if field in address and not isinstance(address[field], str):
                raise ArgumentError("argument 'address.%s' must be a string" % field)
    return ToolReply.text(
        "JSON Schema 2020-12 tool called with: " + json.dumps(args, separators=(",", ":"))
    )


def tool_reconnection(args):
    require_no_arguments(args)
    return ToolReply.text("Reconnection test completed: the result was delivered in the call's response.")


def unsupported(feature):
    """A tool whose behaviour needs a server-to-client message during the call."""

    def handler(args):
        return ToolReply.text(
            "This tool needs the server to send %s to the client while the call runs; "
            "a request/response tool backend has no channel for that." % feature,
            status=HTTPStatus.NOT_IMPLEMENTED,
        )

    return handler


def unsupported_with_argument(feature, argument):
    reply = unsupported(feature)

    def handler(args):
        require_string(args, argument)
        return reply(args)

    return handler


TOOLS = {
    "test_simple_text": tool_simple_text,
    "test_image_content": tool_image_content,
    "test_audio_content": tool_audio_content,
    "test_embedded_resource": tool_embedded_resource,
    "test_multiple_content_types": tool_multiple_content_types,
    "test_error_handling": tool_error_handling,
    "json_schema_2020_12_tool": tool_json_schema_2020_12,
    "test_reconnection": tool_reconnection,
    "test_tool_with_logging": unsupported("notifications/message log notifications"),
    "test_tool_with_progress": unsupported("notifications/progress notifications"),
    "test_sampling": unsupported_with_argument("a sampling/createMessage request", "prompt"),
    "test_elicitation": unsupported_with_argument("an elicitation/create request", "message"),
    "test_elicitation_sep1034_defaults": unsupported("an elicitation/create request"),
    "test_elicitation_sep1330_enums": unsupported("an elicitation/create request"),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "conformance-backend/1"
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("conformance_backend: %s\n" % (fmt % args))

    def log_error(self, fmt, *args):
        sys.stderr.write("conformance_backend: %s\n" % (fmt % args))

    def send_reply(self, reply):
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def fail(self, status, message):
        self.log_error("%s %s -> %d %s", self.command, self.path, status, message)
        self.send_reply(ToolReply.text(message, status=status))

    def do_GET(self):
        if self.path == "/health":
            self.send_reply(ToolReply.text("ok\n"))
        else:
            self.fail(HTTPStatus.NOT_FOUND, "not found")

    do_HEAD = do_GET

    def do_POST(self):
        name = self.path.split("?", 1)[0].lstrip("/")
        tool = TOOLS.get(name)

        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            self.fail(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
            return
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            self.fail(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
            return
        if size < 0 or size > MAX_BODY:
            self.close_connection = True
            self.fail(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
            return
        raw = self.rfile.read(size)

        if tool is None:
            self.fail(HTTPStatus.NOT_FOUND, "unknown tool '%s'" % name)
            return

        header_name = self.headers.get("Mcp-Tool-Name")
        if header_name != name:
            self.fail(
                HTTPStatus.BAD_REQUEST,
                "Mcp-Tool-Name header is %r, expected %r" % (header_name, name),
            )
            return

        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            self.fail(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "expected an application/json body")
            return

        try:
            args = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError) as exc:
            self.fail(HTTPStatus.BAD_REQUEST, "body is not valid JSON: %s" % exc)
            return
        if not isinstance(args, dict):
            self.fail(HTTPStatus.BAD_REQUEST, "body must be a JSON object of tool arguments")
            return

        try:
            reply = tool(args)
        except ArgumentError as exc:
            self.fail(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid arguments: %s" % exc)
            return
        self.send_reply(reply)

    def do_other(self):
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD, POST")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_other


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):
            # nginx closed the upstream connection (client gone, request
            # finalized, idle keepalive connection dropped): nothing to answer.
            if Handler.verbose:
                sys.stderr.write(
                    "conformance_backend: connection from %s:%d closed: %s\n"
                    % (client_address[0], client_address[1], exc)
                )
            return
        super().handle_error(request, client_address)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Tool backend for the MCP conformance server scenarios")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    opts = parser.parse_args(argv)

    Handler.verbose = opts.verbose
    server = Server((opts.host, opts.port), Handler)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    sys.stderr.write(
        "conformance_backend: listening on %s:%d (%d tools)\n" % (opts.host, opts.port, len(TOOLS))
    )
    sys.stderr.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
