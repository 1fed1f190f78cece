# Blocks whose expectations are wrong on purpose. t/00-harness.t runs this file
# in a child perl and checks that exactly the intended tests fail.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::McpNginx;

run_blocks();

__DATA__

=== F1: wrong status
--- no_module
--- config
location = /hello { return 200 "hello world"; }
--- request
GET /hello
--- error_code: 404

=== F2: wrong body
--- no_module
--- config
location = /hello { return 200 "hello world"; }
--- request
GET /hello
--- response_body: hello there

=== F3: like and unlike
--- no_module
--- config
location = /hello { return 200 "hello world"; }
--- request
GET /hello
--- response_body_like: ^world
--- response_body_unlike: hello

=== F4: header with another value
--- no_module
--- config
location = /hello { add_header X-Test one; return 200 "hello world"; }
--- request
GET /hello
--- response_headers
X-Test: two

=== F5: header that should be absent
--- no_module
--- config
location = /hello { add_header X-Test one; return 200 "hello world"; }
--- request
GET /hello
--- response_headers
!X-Test

=== F6: header regex
--- no_module
--- config
location = /hello { add_header X-Test one; return 200 "hello world"; }
--- request
GET /hello
--- response_headers
X-Test: ~ ^\d+$

=== F7: json mismatch
--- no_module
--- config
location = /j { default_type application/json; return 200 '{"a":1,"b":[1,2]}'; }
--- request
GET /j
--- response_json: {"a":1,"b":[1,2,3]}

=== F8: body is not json
--- no_module
--- config
location = /hello { return 200 "hello world"; }
--- request
GET /hello
--- response_json: {"a":1}

=== F9: subset missing key
--- no_module
--- config
location = /j { default_type application/json; return 200 '{"a":1,"b":[1,2]}'; }
--- request
GET /j
--- response_json_subset: {"c":"*ANY*"}

=== F10: subset array length
--- no_module
--- config
location = /j { default_type application/json; return 200 '{"a":1,"b":[1,2]}'; }
--- request
GET /j
--- response_json_subset: {"b":[1]}

=== F11: subset type
--- no_module
--- config
location = /j { default_type application/json; return 200 '{"a":1,"b":[1,2]}'; }
--- request
GET /j
--- response_json_subset: {"a":"1"}

=== F12: expected log line missing
--- no_module
--- config
location = /hello { return 200 "hello world"; }
--- request
GET /hello
--- error_log
this line is never logged

=== F13: unwanted log line present
--- no_module
--- config
location /missing { root $TEST_PREFIX/html; }
--- request
GET /missing/file
--- error_code: 404
--- no_error_log
No such file or directory

=== F14: must_die on a valid config
--- no_module
--- config
location = /hello { return 200 "hello world"; }
--- must_die

=== F15: must_die with a wrong message
--- no_module
--- config
location = /hello { bogus_directive; }
--- must_die: some other message

=== F16: nginx does not start
--- no_module
--- config
location = /hello { bogus_directive; }
--- request
GET /hello

=== F17: a worker dies
--- no_module
--- config
location = /hello { return 200 "hello world"; }
--- request_eval
kill 'KILL', $Test::McpNginx::NGINX->worker_pids; "GET /hello"

=== F18: second repetition differs
--- no_module
--- backend: ../t/harness-fixtures/fake_backend.py
--- config
location / { proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT; }
--- request
GET /count
--- repeat: 2
--- response_body: 1

=== F19: initialize against a non-MCP location
--- no_module
--- config
location = /mcp { return 404; }
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"ping"}

=== F20: request timeout
--- no_module
--- backend: ../t/harness-fixtures/fake_backend.py
--- config
location / { proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT; }
--- request
GET /slow?ms=3000
--- timeout: 0.5

=== F21: backend that does not exist
--- no_module
--- backend: no-such-backend.py
--- config
location = /hello { return 200 "hello world"; }
--- request
GET /hello

=== F22: module required but not found
--- config
location = /hello { return 200 "hello world"; }
--- request
GET /hello

=== F23: passing control block
--- no_module
--- config
location = /hello { return 200 "hello world"; }
--- request
GET /hello
--- response_body: hello world
