# Hostile input found by review: each case gets a clear JSON-RPC answer.
# JSON-RPC 2.0 section 5.1; 2025-06-18 basic#requests; server/tools.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;

run_blocks();

__DATA__

=== DEFAULTS
--- config
location = /mcp { mcp; }

=== TEST 1: client cookies do not reach the backend even through $http_cookie and $cookie_*
--- backend: example_backend.py
--- config
location = /mcp { mcp; mcp_tool headers /tools/headers; }
location /tools/ {
    internal;
    proxy_set_header Cookie "$http_cookie";
    proxy_set_header X-Secret "$cookie_secret";
    proxy_set_header X-UA "$http_user_agent";
    proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/;
}
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"headers"}}
--- more_headers
Cookie: secret=1
User-Agent: hostile/1.0
--- response_body_unlike: secret=1|hostile|\\"x-secret\\":\\"1
--- response_body_like: "mcp-tool-name\\":\\"headers

=== TEST 2: a string id over 256 bytes is an invalid request
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","method":"ping"}
--- error_code: 400
--- response_json
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: \"id\" is longer than 256 bytes"}}

=== TEST 3: a string id of 256 bytes is fine
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy","method":"ping"}
--- response_json
{"jsonrpc":"2.0","id":"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy","result":{}}

=== TEST 4: an unknown tool name whose quoted part ends inside a UTF-8 character still gets its error
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaÃ©"}}
--- response_json_subset
{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 5: "jsonrpc" with a NUL after "2.0" is not "2.0"
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0\u0000x","id":1,"method":"ping"}
--- error_code: 400
--- response_json
{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"Invalid Request: \"jsonrpc\" must be \"2.0\""}}

=== TEST 6: a property name with a NUL cannot slip past additionalProperties false: such a key is refused as a parse error
--- config
location = /mcp { mcp; mcp_tool echo /t input_schema=$TEST_ROOT/conf-examples/schemas/echo.input.json; }
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"m","message\u0000x":1}}}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"*ANY*"}}

=== TEST 7: an MCP-Protocol-Version with bytes that are not UTF-8 gets a 400 JSON answer
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
MCP-Protocol-Version: 2025-ÿþ
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 8: a body of many tiny values is refused before parsing (mcp_max_json_values, default 50000)
--- init: 2025-06-18
--- request_eval
"POST /mcp\n" . '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"x":[' . join(',', ('{}') x 50000) . ']}}}'
--- error_code: 400
--- response_json
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: more than 50000 JSON values"}}

=== TEST 9: just under the limit is parsed
--- config
location = /mcp { mcp; mcp_max_json_values 20; }
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":[1,2,3,4,5,6,7,8,9,10,11,12,13,14]}}
--- response_json
{"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 10: a configured limit counts objects, arrays and commas
--- config
location = /mcp { mcp; mcp_max_json_values 20; }
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}}
--- error_code: 400
--- response_json
{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: more than 20 JSON values"}}

=== TEST 11: a tool backend's JSON over the limit is a tool error, not a parse of it
--- backend: example_backend.py
--- config
location = /mcp { mcp; mcp_max_json_values 20; mcp_tool j "/tools/json-text?value=[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22]"; }
location /tools/ { internal; proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/; }
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"j"}}
--- response_json
{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"tool \"j\" returned JSON of more than 20 values, the mcp_max_json_values limit"}],"isError":true}}

=== TEST 12: configured text that is not UTF-8 fails nginx -t (it would reach clients inside JSON)
--- config
location = /mcp { mcp; mcp_instructions "bad ÿ"; }
--- must_die: instructions "bad .*" is not valid UTF-8

=== TEST 13: a tool title that is not UTF-8 fails nginx -t
--- config
location = /mcp { mcp; mcp_tool t /t "title=bad Ã"; }
--- must_die: title "bad .*" is not valid UTF-8
