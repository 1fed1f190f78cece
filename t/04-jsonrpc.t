# JSON-RPC framing and bad input: parse errors, invalid UTF-8, invalid
# messages (types of id, method, params, jsonrpc), unknown methods and tools,
# tools/call argument checks against the input schema, body size and nesting
# limits, and JSON-RPC batches.  After the bad input the worker must still
# answer and the error log must hold no [alert]/[crit] (checked per block by
# the harness).
#
# Spec references: JSON-RPC 2.0 sections 4-6 as adopted by 2025-06-18 basic
# (basic#requests, basic#responses, basic#notifications: "the ID MUST be a
# string or integer", "MUST NOT be null"); 2025-03-26 basic#batching
# (batches), 2025-06-18 changelog (batching removed); 2025-06-18
# server/tools#error-handling (protocol errors -32602); 2025-11-25
# server/tools#error-handling (input validation errors as tool execution
# errors, SEP-1303); 2025-06-18 basic/transports#sending-messages-to-the-server
# (HTTP 400 for input that cannot be accepted).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;

# A ping whose params nest arrays so that the whole message is $depth deep
# (the message object is level 1, params level 2).
sub ping_at_depth {
    my ($depth, $path) = @_;
    my $k = $depth - 2;
    return "POST " . ($path // '/mcp') . "\n"
         . '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":' . ('[' x $k) . (']' x $k) . '}}';
}

# A body in chunked transfer coding, in pieces of 300 bytes.
sub chunked {
    my ($body) = @_;
    my $out = '';
    while (length $body) {
        my $c = substr($body, 0, 300, '');
        $out .= sprintf("%x\r\n%s\r\n", length $c, $c);
    }
    return $out . "0\r\n\r\n";
}

# A ping padded with spaces to exactly $size bytes.
sub ping_of_size {
    my ($size) = @_;
    my $msg = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
    return $msg . (' ' x ($size - length $msg));
}

sub pings {
    my ($n) = @_;
    return '[' . join(',', map { qq({"jsonrpc":"2.0","id":$_,"method":"ping"}) } 1 .. $n) . ']';
}

sub pongs {
    my ($n) = @_;
    return '[' . join(',', map { qq({"jsonrpc":"2.0","id":$_,"result":{}}) } 1 .. $n) . ']';
}

run_blocks();

__DATA__

=== DEFAULTS
--- backend: example_backend.py
--- config
location = /mcp {
    mcp;
    mcp_tool add /tools/add "description=Add two numbers" input_schema=$TEST_ROOT/t/data/add.input.json;
    mcp_tool echo /tools/echo input_schema=$TEST_ROOT/t/data/echo.input.json;
    mcp_tool free /tools/headers;
}
location = /small {
    mcp;
    mcp_max_body_size 1k;
    mcp_max_json_depth 5;
    mcp_max_batch 3;
}
location = /large {
    mcp;
    mcp_max_body_size 2m;
}
location /tools/ {
    internal;
    proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/;
}

=== TEST 1: truncated JSON -> 400 -32700 (JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"pi
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 2: truncated JSON after a complete value -> 400 -32700 (JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping","params":{
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 3: invalid JSON (unquoted keys) -> 400 -32700 (JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{jsonrpc:"2.0",id:1,method:"ping"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 4: invalid JSON (single quotes) -> 400 -32700 (JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{'jsonrpc':'2.0','id':1,'method':'ping'}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 5: invalid JSON (trailing comma) -> 400 -32700 (JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping",}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 6: invalid JSON (NaN literal) -> 400 -32700 (JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":NaN,"method":"ping"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 7: garbage after the message -> 400 -32700 (JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"} x
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 8: two messages without a batch -> 400 -32700 (JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"ping"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 9: empty body -> 400 -32700 (JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 10: only whitespace -> 400 -32700 (JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
   
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 11: invalid UTF-8 byte \xff in a string -> 400 -32700 (RFC 8259 section 8.1; JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request_eval
"POST /mcp\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"s\":\"" . "\xff" . "\"}}"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 12: overlong UTF-8 \xc0\xaf in a string -> 400 -32700 (RFC 8259 section 8.1; JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request_eval
"POST /mcp\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"s\":\"" . "\xc0\xaf" . "\"}}"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 13: UTF-8 encoded surrogate \xed\xa0\x80 in a string -> 400 -32700 (RFC 8259 section 8.1; JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request_eval
"POST /mcp\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"s\":\"" . "\xed\xa0\x80" . "\"}}"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 14: truncated UTF-8 sequence \xe2\x82 in a string -> 400 -32700 (RFC 8259 section 8.1; JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request_eval
"POST /mcp\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"s\":\"" . "\xe2\x82" . "\"}}"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 15: UTF-8 beyond U+10FFFF \xf4\x90\x80\x80 in a string -> 400 -32700 (RFC 8259 section 8.1; JSON-RPC 2.0 section 5.1 -32700; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request_eval
"POST /mcp\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"s\":\"" . "\xf4\x90\x80\x80" . "\"}}"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 16: valid UTF-8 bytes \xc3\xa9 in the same place are accepted (control for the cases above)
--- init: 2025-06-18
--- request_eval
"POST /mcp\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"s\":\"" . "\xc3\xa9" . "\"}}"
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 17: invalid UTF-8 in an object key -> 400 -32700 (RFC 8259 section 8.1)
--- init: 2025-06-18
--- request_eval
"POST /mcp\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"\xff\":1}}"
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 18: invalid UTF-8 outside strings -> 400 -32700 (RFC 8259 section 8.1)
--- init: 2025-06-18
--- request_eval
"POST /mcp\n\xff{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 19: valid multi-byte UTF-8 is accepted (RFC 8259 section 8.1)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":"ünïcødé-✓-😀","method":"ping","params":{"s":"\u00e9 é 😀"}}
--- response_json
{"jsonrpc":"2.0","id":"ünïcødé-✓-😀","result":{}}

=== TEST 20: escaped U+0000 in a string is valid JSON and accepted (RFC 8259 section 7)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping","params":{"s":"a\u0000b"}}
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 21: a parse error needs no session (2025-06-18 basic/transports#sending-messages-to-the-server)
--- request
POST /mcp
{"jsonrpc":
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 22: message that is a string -> 400 -32600 id null (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
"ping"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 23: message that is a number -> 400 -32600 id null (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
42
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 24: message that is null -> 400 -32600 id null (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
null
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 25: message that is true -> 400 -32600 id null (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
true
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 26: message that is false -> 400 -32600 id null (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
false
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 27: id that is null -> 400 -32600 id null (2025-06-18 basic#requests: id MUST be a string or integer)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":null,"method":"ping"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 28: id that is a float -> 400 -32600 id null (2025-06-18 basic#requests: id MUST be a string or integer)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1.5,"method":"ping"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 29: id that is a boolean -> 400 -32600 id null (2025-06-18 basic#requests: id MUST be a string or integer)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":true,"method":"ping"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 30: id that is an object -> 400 -32600 id null (2025-06-18 basic#requests: id MUST be a string or integer)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":{"n":1},"method":"ping"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 31: id that is an array -> 400 -32600 id null (2025-06-18 basic#requests: id MUST be a string or integer)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":[1],"method":"ping"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 32: id that is a string is echoed (2025-06-18 basic#responses)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":"req-1","method":"ping"}
--- response_body: {"jsonrpc":"2.0","id":"req-1","result":{}}

=== TEST 33: id that is an empty string is echoed (2025-06-18 basic#responses)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":"","method":"ping"}
--- response_body: {"jsonrpc":"2.0","id":"","result":{}}

=== TEST 34: id that is an integer is echoed (2025-06-18 basic#responses)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":7,"method":"ping"}
--- response_body: {"jsonrpc":"2.0","id":7,"result":{}}

=== TEST 35: id that is zero is echoed (2025-06-18 basic#responses)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":0,"method":"ping"}
--- response_body: {"jsonrpc":"2.0","id":0,"result":{}}

=== TEST 36: id that is a negative integer is echoed (2025-06-18 basic#responses)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":-12,"method":"ping"}
--- response_body: {"jsonrpc":"2.0","id":-12,"result":{}}

=== TEST 37: id that is a large integer is echoed (2025-06-18 basic#responses)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":9007199254740991,"method":"ping"}
--- response_body: {"jsonrpc":"2.0","id":9007199254740991,"result":{}}

=== TEST 38: method that is a number -> 400 -32600 with the id (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":3,"method":42}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 39: method that is null -> 400 -32600 with the id (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":3,"method":null}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 40: method that is an object -> 400 -32600 with the id (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":3,"method":{}}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 41: method that is an array -> 400 -32600 with the id (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":3,"method":["ping"]}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 42: request without method and without result/error -> 400 -32600 with the id (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":"m"}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":"m","error":{"code":-32600,"message":"*ANY*"}}

=== TEST 43: empty object -> 400 -32600 id null (JSON-RPC 2.0 section 5.1 -32600; 2025-06-18 basic#requests)
--- init: 2025-06-18
--- request
POST /mcp
{}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 44: empty method name is a method that does not exist -> 200 -32601 (JSON-RPC 2.0 section 5.1)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":4,"method":""}
--- response_json
{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"Method not found"}}

=== TEST 45: params that is a string -> 400 -32600 with the id (JSON-RPC 2.0 section 4.2: params is a structured value)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":5,"method":"ping","params":"x"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 46: params that is a number -> 400 -32600 with the id (JSON-RPC 2.0 section 4.2: params is a structured value)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":5,"method":"ping","params":1}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 47: params that is a boolean -> 400 -32600 with the id (JSON-RPC 2.0 section 4.2: params is a structured value)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":5,"method":"ping","params":false}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 48: params that is null -> 400 -32600 with the id (JSON-RPC 2.0 section 4.2: params is a structured value)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":5,"method":"ping","params":null}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 49: params that is an array on ping -> 200 -32602 (2025-06-18 basic#requests: params is an object)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":6,"method":"ping","params":[]}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":6,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 50: params that is an array on tools/list -> 200 -32602 (2025-06-18 basic#requests)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":6,"method":"tools/list","params":["c"]}
--- response_json_subset
{"jsonrpc":"2.0","id":6,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 51: params that is an array on a notification -> 202 (2025-06-18 basic#notifications)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","method":"notifications/progress","params":[1]}
--- error_code: 202
--- response_body:

=== TEST 52: jsonrpc missing -> 400 -32600 with the id (JSON-RPC 2.0 section 4: MUST be exactly "2.0")
--- init: 2025-06-18
--- request
POST /mcp
{"id":8,"method":"ping"}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":8,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 53: jsonrpc "1.0" -> 400 -32600 with the id (JSON-RPC 2.0 section 4: MUST be exactly "2.0")
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"1.0","id":8,"method":"ping"}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":8,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 54: jsonrpc the number 2.0 -> 400 -32600 with the id (JSON-RPC 2.0 section 4: MUST be exactly "2.0")
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":2.0,"id":8,"method":"ping"}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":8,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 55: jsonrpc "2.0 " -> 400 -32600 with the id (JSON-RPC 2.0 section 4: MUST be exactly "2.0")
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0 ","id":8,"method":"ping"}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":8,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 56: unknown method foo -> 200 -32601 (JSON-RPC 2.0 section 5.1; 2025-06-18 basic/lifecycle#capability-negotiation)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":9,"method":"foo","params":{}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"Method not found"}}

=== TEST 57: unknown method resources/list -> 200 -32601 (JSON-RPC 2.0 section 5.1; 2025-06-18 basic/lifecycle#capability-negotiation)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":9,"method":"resources/list","params":{}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"Method not found"}}

=== TEST 58: unknown method prompts/list -> 200 -32601 (JSON-RPC 2.0 section 5.1; 2025-06-18 basic/lifecycle#capability-negotiation)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":9,"method":"prompts/list","params":{}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"Method not found"}}

=== TEST 59: unknown method logging/setLevel -> 200 -32601 (JSON-RPC 2.0 section 5.1; 2025-06-18 basic/lifecycle#capability-negotiation)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":9,"method":"logging/setLevel","params":{}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"Method not found"}}

=== TEST 60: unknown method completion/complete -> 200 -32601 (JSON-RPC 2.0 section 5.1; 2025-06-18 basic/lifecycle#capability-negotiation)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":9,"method":"completion/complete","params":{}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"Method not found"}}

=== TEST 61: unknown method tools/list/extra -> 200 -32601 (JSON-RPC 2.0 section 5.1; 2025-06-18 basic/lifecycle#capability-negotiation)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":9,"method":"tools/list/extra","params":{}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"Method not found"}}

=== TEST 62: unknown method as a notification -> 202 (2025-06-18 basic#notifications)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","method":"foo/bar"}
--- error_code: 202
--- response_body:

=== TEST 63: tools/call of an unknown tool -> 200 -32602 naming it (2025-06-18 server/tools#error-handling)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"nope","arguments":{}}}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":10,"error":{"code":-32602,"message":"*ANY*"}}
--- response_body_like: unknown tool \\"nope\\"

=== TEST 64: tools/call of an unknown tool at 2025-11-25 is still a protocol error -32602 (2025-11-25 server/tools#error-handling)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"nope"}}
--- response_json_subset
{"jsonrpc":"2.0","id":10,"error":{"code":-32602,"message":"*ANY*"}}
--- response_body_like: unknown tool

=== TEST 65: tools/call without params -> 200 -32602 (2025-06-18 server/tools#calling-tools)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":11,"method":"tools/call"}
--- response_json_subset
{"jsonrpc":"2.0","id":11,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 66: tools/call without name -> 200 -32602 (2025-06-18 server/tools#calling-tools)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"arguments":{}}}
--- response_json_subset
{"jsonrpc":"2.0","id":11,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 67: tools/call with a numeric name -> 200 -32602 (2025-06-18 server/tools#calling-tools)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":7}}
--- response_json_subset
{"jsonrpc":"2.0","id":11,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 68: tools/call with arguments that are an array -> 200 -32602 (2025-06-18 server/tools#calling-tools)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"free","arguments":[1,2]}}
--- response_json_subset
{"jsonrpc":"2.0","id":12,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 69: tools/call with arguments that are a string -> 200 -32602 (2025-06-18 server/tools#calling-tools)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"free","arguments":"a=1"}}
--- response_json_subset
{"jsonrpc":"2.0","id":12,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 70: tools/call with arguments that are null -> 200 -32602 (2025-06-18 server/tools#calling-tools)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"free","arguments":null}}
--- response_json_subset
{"jsonrpc":"2.0","id":12,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 71: missing required arguments at 2025-03-26 -> 200 -32602 (2025-03-26 server/tools#error-handling)
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"add","arguments":{"b":2}}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":13,"error":{"code":-32602,"message":"Invalid params: arguments: missing required property \"a\""}}

=== TEST 72: missing required arguments at 2025-06-18 -> 200 -32602 (2025-06-18 server/tools#error-handling)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"add","arguments":{"b":2}}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":13,"error":{"code":-32602,"message":"Invalid params: arguments: missing required property \"a\""}}

=== TEST 73: arguments absent for a tool that requires some at 2025-06-18 -> 200 -32602 (2025-06-18 server/tools#error-handling)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"add"}}
--- response_json
{"jsonrpc":"2.0","id":13,"error":{"code":-32602,"message":"Invalid params: arguments: missing required property \"a\""}}

=== TEST 74: missing required arguments at 2025-11-25 -> tool result with isError (2025-11-25 server/tools#error-handling, SEP-1303)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"add","arguments":{"b":2}}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":13,"result":{"content":[{"type":"text","text":"Invalid arguments: missing required property \"a\""}],"isError":true}}

=== TEST 75: arguments absent at 2025-11-25 -> tool result with isError (2025-11-25 server/tools#error-handling)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"add"}}
--- response_json
{"jsonrpc":"2.0","id":13,"result":{"content":[{"type":"text","text":"Invalid arguments: missing required property \"a\""}],"isError":true}}

=== TEST 76: argument of the wrong type at 2025-06-18 -> 200 -32602 naming it (2025-06-18 server/tools#error-handling)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"add","arguments":{"a":"1","b":2}}}
--- response_json_subset
{"jsonrpc":"2.0","id":13,"error":{"code":-32602,"message":"*ANY*"}}
--- response_body_like: "message":"Invalid params: arguments: [^"]*\\"a\\"

=== TEST 77: argument of the wrong type at 2025-11-25 -> isError naming it (2025-11-25 server/tools#error-handling)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":[2]}}}
--- response_json_subset
{"jsonrpc":"2.0","id":13,"result":{"content":[{"type":"text","text":"*ANY*"}],"isError":true}}
--- response_body_like: "text":"Invalid arguments: [^"]*\\"b\\"

=== TEST 78: additional property rejected by additionalProperties:false at 2025-06-18 -> 200 -32602 (2025-06-18 server/tools#error-handling)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2,"c":3}}}
--- response_json_subset
{"jsonrpc":"2.0","id":13,"error":{"code":-32602,"message":"*ANY*"}}
--- response_body_like: "message":"Invalid params: arguments: [^"]*\\"c\\"

=== TEST 79: additional property at 2025-11-25 -> isError (2025-11-25 server/tools#error-handling)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2,"extra":true}}}
--- response_json_subset
{"jsonrpc":"2.0","id":13,"result":{"content":[{"type":"text","text":"*ANY*"}],"isError":true}}
--- response_body_like: "text":"Invalid arguments: [^"]*\\"extra\\"

=== TEST 80: additional property is forwarded when the schema does not forbid it (echo.input.json; the backend refuses it)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi","x":1}}}
--- response_json
{"jsonrpc":"2.0","id":14,"result":{"content":[{"type":"text","text":"unknown argument(s): x"}],"isError":true}}

=== TEST 81: valid echo arguments reach the backend (2025-06-18 server/tools#calling-tools)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}
--- response_json
{"jsonrpc":"2.0","id":14,"result":{"content":[{"type":"text","text":"hi"}]}}

=== TEST 82: valid arguments reach the backend (2025-06-18 server/tools#calling-tools)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}
--- response_json
{"jsonrpc":"2.0","id":13,"result":{"content":[{"type":"text","text":"{\"sum\":3}"}],"structuredContent":{"sum":3}}}

=== TEST 83: body of exactly mcp_max_body_size (1k) is accepted
--- init: 2025-06-18
--- request_eval
"POST /small\n" . ping_of_size(1024)
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 84: body one byte over mcp_max_body_size (Content-Length) -> 413 -32600
--- init: 2025-06-18
--- request_eval
"POST /small\n" . ping_of_size(1025)
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 85: body well over mcp_max_body_size (Content-Length 64k) -> 413 -32600
--- init: 2025-06-18
--- request_eval
"POST /small\n" . ping_of_size(65536)
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 86: the Content-Length check needs no session -> 413
--- request_eval
"POST /small\n" . ping_of_size(4096)
--- error_code: 413
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 87: chunked body under mcp_max_body_size is accepted (RFC 9112 section 7.1)
--- init: 2025-06-18
--- request_eval
"POST /small\n" . chunked(ping_of_size(1000))
--- more_headers
Transfer-Encoding: chunked
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 88: chunked body over mcp_max_body_size -> 413 -32600
--- init: 2025-06-18
--- request_eval
"POST /small\n" . chunked(ping_of_size(2048))
--- more_headers
Transfer-Encoding: chunked
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 89: chunked body of 3 MB against a 1k mcp_max_body_size -> 413 -32600 without reading it all
--- init: 2025-06-18
--- request_eval
"POST /small\n" . chunked(ping_of_size(3_000_000))
--- more_headers
Transfer-Encoding: chunked
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 90: Content-Length over the default mcp_max_body_size (1m) -> 413 -32600
--- init: 2025-06-18
--- request_eval
"POST /mcp\n" . ping_of_size(1048577)
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 91: chunked body over the default mcp_max_body_size (1m) -> 413 -32600 JSON
--- init: 2025-06-18
--- request_eval
"POST /mcp\n" . chunked(ping_of_size(1048577))
--- more_headers
Transfer-Encoding: chunked
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 92: body under a raised mcp_max_body_size (2m) is accepted, 1.5 MB
--- init: 2025-06-18
--- request_eval
"POST /large\n" . ping_of_size(1_572_864)
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 93: nesting of exactly the default mcp_max_json_depth (64) is accepted
--- init: 2025-06-18
--- request_eval
ping_at_depth(64)
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 94: nesting one deeper than the default mcp_max_json_depth (65) -> 400 -32700
--- init: 2025-06-18
--- request_eval
ping_at_depth(65)
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 95: nesting of exactly a configured mcp_max_json_depth (5) is accepted
--- init: 2025-06-18
--- request_eval
ping_at_depth(5, "/small")
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 96: nesting one deeper than a configured mcp_max_json_depth (6 > 5) -> 400 -32700
--- init: 2025-06-18
--- request_eval
ping_at_depth(6, "/small")
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 97: brackets inside strings do not count as nesting
--- init: 2025-06-18
--- request_eval
"POST /small\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"s\":\"\\\"" . ("[{" x 40) . "\"}}"
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 98: 100000 nested arrays -> 400 -32700, no crash
--- init: 2025-06-18
--- request_eval
"POST /mcp\n" . ("[" x 100000) . ("]" x 100000)
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 99: 100000 unclosed nested objects -> 400 -32700, no crash
--- init: 2025-06-18
--- request_eval
"POST /mcp\n" . ('{"a":' x 100000)
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}
--- response_body_like: "message":"Parse error

=== TEST 100: 100000 nested arrays inside a batch at 2025-03-26 -> 400 -32700, no crash
--- init: 2025-03-26
--- request_eval
"POST /mcp\n[" . ("[" x 100000) . ("]" x 100000) . "]"
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}

=== TEST 101: batch of mixed messages at 2025-03-26: one response per request, in order (2025-03-26 basic#batching)
--- init: 2025-03-26
--- request
POST /mcp
[{"jsonrpc":"2.0","id":1,"method":"ping"},
 {"jsonrpc":"2.0","method":"notifications/initialized"},
 {"jsonrpc":"2.0","id":2,"method":"nope"},
 {"foo":1},
 5,
 {"jsonrpc":"2.0","id":"s","method":"ping"},
 {"jsonrpc":"1.0","id":9,"method":"ping"},
 {"jsonrpc":"2.0","id":77,"result":{}},
 {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope"}},
 {"jsonrpc":"2.0","id":null,"method":"ping"}]
--- response_headers
Content-Type: application/json
--- response_json_subset
[{"jsonrpc":"2.0","id":1,"result":{}},
 {"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found"}},
 {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}},
 {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}},
 {"jsonrpc":"2.0","id":"s","result":{}},
 {"jsonrpc":"2.0","id":9,"error":{"code":-32600,"message":"*ANY*"}},
 {"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"*ANY*"}},
 {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}]

=== TEST 102: batch with a tool call between pings keeps the order (2025-03-26 basic#batching)
--- init: 2025-03-26
--- request
POST /mcp
[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":5}}},{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"bogus"}}]
--- response_json_subset
[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{\"sum\":7}"}]}},{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"*ANY*"}}]
--- response_body_unlike: structuredContent

=== TEST 103: batch of only notifications -> 202 and no body (2025-03-26 basic/transports#sending-messages-to-the-server)
--- init: 2025-03-26
--- request
POST /mcp
[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}]
--- error_code: 202
--- response_body:

=== TEST 104: batch of notifications and client responses -> 202 and no body (2025-03-26 basic/transports#sending-messages-to-the-server)
--- init: 2025-03-26
--- request
POST /mcp
[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":"r1","result":{}},{"jsonrpc":"2.0","id":5,"error":{"code":-1,"message":"no"}}]
--- error_code: 202
--- response_body:

=== TEST 105: empty batch -> 400 -32600 (JSON-RPC 2.0 section 6)
--- init: 2025-03-26
--- request
POST /mcp
[]
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 106: batch inside a batch -> the member is an invalid request (JSON-RPC 2.0 section 6)
--- init: 2025-03-26
--- request
POST /mcp
[[{"jsonrpc":"2.0","id":1,"method":"ping"}]]
--- response_json_subset
[{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}]

=== TEST 107: batch of exactly mcp_max_batch (3) is answered
--- init: 2025-03-26
--- request_eval
"POST /small\n" . pings(3)
--- response_body_eval
pongs(3)

=== TEST 108: batch over mcp_max_batch (4 > 3) -> 400 -32600
--- init: 2025-03-26
--- request_eval
"POST /small\n" . pings(4)
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 109: batch of exactly the default mcp_max_batch (32) is answered
--- init: 2025-03-26
--- request_eval
"POST /mcp\n" . pings(32)
--- response_body_eval
pongs(32)

=== TEST 110: batch over the default mcp_max_batch (33) -> 400 -32600
--- init: 2025-03-26
--- request_eval
"POST /mcp\n" . pings(33)
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 111: batch in a 2025-06-18 session -> 400 -32600 (2025-06-18 changelog: batching removed)
--- init: 2025-06-18
--- request
POST /mcp
[{"jsonrpc":"2.0","id":1,"method":"ping"}]
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 112: batch in a 2025-11-25 session -> 400 -32600 (2025-11-25 basic: no batching)
--- init: 2025-11-25
--- request
POST /mcp
[{"jsonrpc":"2.0","id":1,"method":"ping"}]
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 113: batch of notifications in a 2025-06-18 session -> 400 -32600 (2025-06-18 changelog)
--- init: 2025-06-18
--- request
POST /mcp
[{"jsonrpc":"2.0","method":"notifications/initialized"}]
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 114: batch without a session -> 400 -32000 (2025-03-26 basic/transports#session-management)
--- request
POST /mcp
[{"jsonrpc":"2.0","id":1,"method":"ping"}]
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 115: after all the bad input the worker still answers (2025-06-18 basic/utilities/ping)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":"last","method":"ping"}
--- response_body: {"jsonrpc":"2.0","id":"last","result":{}}
