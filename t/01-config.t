# Configuration of ngx_http_mcp_module: the module loads into the stock nginx
# binary, every directive is accepted in a complete configuration, each
# configuration mistake makes "nginx -t" fail with a message that names it,
# mcp_tool inheritance between levels, and schema files relative to the
# directory of nginx.conf.
#
# Spec references: tool names and definitions follow MCP 2025-11-25
# server/tools#tool-names and 2025-06-18 server/tools#tool (inputSchema is a
# JSON Schema object, outputSchema likewise).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use File::Path ();
use JSON::PP ();

my $root = repo_root();
my $json = JSON::PP->new->utf8->canonical;
my $add_input = $json->decode(do { local (@ARGV, $/) = "$root/t/data/add.input.json"; <> });
my $add_output = $json->decode(do { local (@ARGV, $/) = "$root/t/data/add.output.json"; <> });

# --- the module loads into the stock nginx and accepts a full configuration --

is(nginx_binary(), $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx', 'stock nginx binary is used');
ok(-f module_path(), 'module built at ' . module_path());

# Every directive of the module, at the levels it is meant for
# (2025-06-18 basic/transports#streamable-http endpoint, server/tools tools).
my $full_conf = <<'EOC';
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $TEST_PREFIX/tmp/body;
    proxy_temp_path $TEST_PREFIX/tmp/proxy;
    fastcgi_temp_path $TEST_PREFIX/tmp/fcgi;
    uwsgi_temp_path $TEST_PREFIX/tmp/uwsgi;
    scgi_temp_path $TEST_PREFIX/tmp/scgi;

    mcp_session_zone zone=gateway:1m idle_timeout=30m;
    mcp_server_info gateway-test 9.8.7;
    mcp_instructions "Use the add tool for sums.";
    mcp_max_body_size 64k;
    mcp_max_json_depth 32;
    mcp_max_batch 8;
    mcp_tool_max_response 256k;
    mcp_tool_timeout 5s;
    mcp_tools_page_size 10;
    mcp_tool add /tools/add "description=Add two numbers" "title=Adder"
             input_schema=$TEST_ROOT/t/data/add.input.json
             output_schema=$TEST_ROOT/t/data/add.output.json timeout=2s;

    server {
        listen 127.0.0.1:$TEST_NGINX_PORT;
        mcp_max_batch 4;

        location = /mcp {
            mcp;
        }

        location = /mcp/echo {
            mcp;
            mcp_server_info echo-only 1.0;
            mcp_tool echo "/tools/echo?mode=plain" "description=Echo a message"
                     input_schema=$TEST_ROOT/t/data/echo.input.json;
        }

        location /tools/ {
            internal;
            proxy_pass http://127.0.0.1:9/;
        }

        location = /health/live { mcp_health live; }
        location = /health/ready { mcp_health ready; }
    }
}
EOC

my ($ok, $out) = start_nginx(full_conf => $full_conf, test_only => 1);
ok($ok, 'full configuration: nginx -t succeeds') or diag($out);
like($out, qr/syntax is ok/, 'full configuration: nginx -t reports syntax is ok');
like($out, qr/test is successful/, 'full configuration: nginx -t reports success');

{
    my $ng = start_nginx(full_conf => $full_conf);
    my $port = $ng->port;
    # start_nginx waits for one worker of a full_conf; the second may lag
    my @w;
    for (1 .. 100) {
        last if (@w = $ng->worker_pids) >= 2;
        select(undef, undef, undef, 0.05);
    }
    is(scalar @w, 2, 'full configuration: two workers run');

    # 2025-06-18 basic/lifecycle#initialization: serverInfo and instructions from http{}
    my ($sid, $ver, $init) = mcp_initialize(port => $port, version => '2025-06-18');
    is($init->status, 200, 'full configuration: initialize answers 200');
    is(json_equal_diff_or_undef($init->{json}, {
        jsonrpc => '2.0', id => 1,
        result => {
            protocolVersion => '2025-06-18',
            capabilities => { tools => { listChanged => JSON::PP::false } },
            serverInfo => { name => 'gateway-test', version => '9.8.7' },
            instructions => 'Use the add tool for sums.',
        },
    }), undef, 'full configuration: initialize result uses http-level server info and instructions');

    # 2025-06-18 server/tools#listing-tools: the http-level tool is inherited by /mcp
    my $r = json_rpc(port => $port, session => $sid, version => $ver,
                     message => { jsonrpc => '2.0', id => 2, method => 'tools/list' });
    is($r->status, 200, 'full configuration: tools/list answers 200');
    is(json_equal_diff_or_undef($r->{json}, {
        jsonrpc => '2.0', id => 2,
        result => { tools => [ { name => 'add', title => 'Adder', description => 'Add two numbers',
                                 inputSchema => $add_input, outputSchema => $add_output } ] },
    }), undef, 'full configuration: http-level tool with its schemas listed');

    # a location with its own server info and tools
    my ($sid2, $ver2, $init2) = mcp_initialize(port => $port, path => '/mcp/echo', version => '2025-11-25');
    is_deeply($init2->{json}{result}{serverInfo}, { name => 'echo-only', version => '1.0' },
              'full configuration: location-level mcp_server_info replaces the http one');
    $r = json_rpc(port => $port, path => '/mcp/echo', session => $sid2, version => $ver2,
                  message => { jsonrpc => '2.0', id => 3, method => 'tools/list' });
    is_deeply([map { $_->{name} } @{ $r->{json}{result}{tools} || [] }], ['echo'],
              'full configuration: location-level tool list replaces the inherited one');

    $r = http_request(port => $port, path => '/health/live');
    is($r->status, 200, 'full configuration: mcp_health live answers 200');
    is($r->body, '{"status":"alive"}', 'full configuration: mcp_health live body');

    $ng->stop;
    unlike($ng->error_log, qr/\[(?:alert|crit|emerg)\]/, 'full configuration: no alert/crit/emerg logged');
}

# --- schema files are relative to the directory of nginx.conf ---------------
# (nginx resolves the path like "include": <conf dir>/schemas/...; neither the
# prefix nor the current directory of the test.)
{
    my $ng = start_nginx(http_config => 'mcp_session_zone zone=mcp:1m;', config => 'location = /mcp { mcp; }');
    my $conf_dir = $ng->prefix . '/conf';
    File::Path::make_path("$conf_dir/schemas");
    my $schema = { type => 'object', properties => { q => { type => 'string' } }, required => ['q'] };
    open my $fh, '>', "$conf_dir/schemas/relative.input.json" or die $!;
    print {$fh} $json->encode($schema);
    close $fh;

    ok($ng->reload(config => 'location = /mcp { mcp; mcp_tool rel /t/rel input_schema=schemas/relative.input.json; }'),
       'relative schema: schemas/relative.input.json found next to nginx.conf');
    my ($sid, $ver) = mcp_initialize(port => $ng->port, version => '2025-06-18');
    my $r = json_rpc(port => $ng->port, session => $sid, version => $ver,
                     message => { jsonrpc => '2.0', id => 2, method => 'tools/list' });
    is(json_equal_diff_or_undef($r->{json}{result}, { tools => [ { name => 'rel', inputSchema => $schema } ] }),
       undef, 'relative schema: its content is the inputSchema');

    # t/data/... exists relative to the current directory (the repository) but
    # not relative to the conf directory: the reload must be refused.
    my $from = $ng->error_log_size;
    ok(!$ng->reload(config => 'location = /mcp { mcp; mcp_tool rel /t/rel input_schema=t/data/add.input.json; }'),
       'relative schema: a path relative to the current directory is not used');
    like($ng->error_log($from), qr/\Q$conf_dir\E\/t\/data\/add\.input\.json/,
         'relative schema: the error names the path under the conf directory');
    $ng->stop;
}

sub json_equal_diff_or_undef {
    my ($got, $exp) = @_;
    return Test::McpNginx::json_equal_diff($exp, $got);
}

run_blocks();

__DATA__

=== DEFAULTS
--- config
location = /mcp { mcp; }

=== TEST 1: minimal mcp location starts (2025-06-18 basic/transports#streamable-http)
--- config
location = /mcp { mcp; }
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_headers
Mcp-Session-Id: ~ ^[0-9a-f]{32}$
--- response_json_subset
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}}

=== TEST 2: duplicate tool name in one location
--- config
location = /mcp {
    mcp;
    mcp_tool echo /t/echo;
    mcp_tool echo /t/other;
}
--- must_die: duplicate tool name "echo"

=== TEST 3: duplicate tool name at http level
--- http_config
mcp_session_zone zone=mcp:1m;
mcp_tool echo /t/echo;
mcp_tool echo /t/echo2;
--- must_die: duplicate tool name "echo"

=== TEST 4: same tool name at two levels is a replacement, not a duplicate
--- http_config
mcp_session_zone zone=mcp:1m;
mcp_tool echo /t/http-echo "description=http level";
--- config
location = /mcp { mcp; mcp_tool echo /t/location-echo "description=location level"; }
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"echo","description":"location level","inputSchema":{"type":"object"}}]}}

=== TEST 5: invalid tool name with a slash (2025-11-25 server/tools#tool-names)
--- config
location = /mcp { mcp; mcp_tool a/b /t/echo; }
--- must_die: invalid tool name "a/b"

=== TEST 6: invalid tool name with a space (2025-11-25 server/tools#tool-names)
--- config
location = /mcp { mcp; mcp_tool "my tool" /t/echo; }
--- must_die: invalid tool name "my tool"

=== TEST 7: invalid tool name with non-ASCII letters (2025-11-25 server/tools#tool-names)
--- config
location = /mcp { mcp; mcp_tool café /t/echo; }
--- must_die: invalid tool name

=== TEST 8: tool name of 129 characters is too long (2025-11-25 server/tools#tool-names)
--- config
location = /mcp { mcp; mcp_tool aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa /t/echo; }
--- must_die: invalid tool name "a{129}"

=== TEST 9: empty tool name
--- config
location = /mcp { mcp; mcp_tool "" /t/echo; }
--- must_die: invalid tool name ""

=== TEST 10: tool name of 128 characters with every allowed character class is accepted (2025-11-25 server/tools#tool-names)
--- config
location = /mcp { mcp; mcp_tool A.b-c_9aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa /t/echo; }
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"A.b-c_9aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","inputSchema":{"type":"object"}}]}}

=== TEST 11: tool URI must start with a slash
--- config
location = /mcp { mcp; mcp_tool echo tools/echo; }
--- must_die: tool "echo": invalid URI "tools/echo"

=== TEST 12: tool URI may not be an absolute URL
--- config
location = /mcp { mcp; mcp_tool echo http://127.0.0.1:9001/echo; }
--- must_die: invalid URI "http://127.0.0.1:9001/echo"

=== TEST 13: unknown mcp_tool parameter
--- config
location = /mcp { mcp; mcp_tool echo /t/echo colour=red; }
--- must_die: tool "echo": invalid parameter "colour=red"

=== TEST 14: bare word as mcp_tool parameter
--- config
location = /mcp { mcp; mcp_tool echo /t/echo "description=x" fast; }
--- must_die: invalid parameter "fast"

=== TEST 15: invalid tool timeout
--- config
location = /mcp { mcp; mcp_tool echo /t/echo timeout=soon; }
--- must_die: invalid timeout "timeout=soon"

=== TEST 16: input schema file missing (named in the message)
--- config
location = /mcp { mcp; mcp_tool echo /t/echo input_schema=$TEST_ROOT/t/data/does-not-exist.json; }
--- must_die: t/data/does-not-exist\.json.*(?:unable to open|No such file)

=== TEST 17: input schema file is not JSON (file and parse error named)
--- config
location = /mcp { mcp; mcp_tool echo /t/echo input_schema=$TEST_ROOT/t/data/truncated.json; }
--- must_die: t/data/truncated\.json" is not valid JSON: .*line 1

=== TEST 18: input schema that is not an object (2025-06-18 server/tools#tool: inputSchema is an object)
--- config
location = /mcp { mcp; mcp_tool echo /t/echo input_schema=$TEST_ROOT/t/data/array.json; }
--- must_die: t/data/array\.json" is not a JSON object

=== TEST 19: input schema without "type" (2025-06-18 server/tools#tool: type "object")
--- config
location = /mcp { mcp; mcp_tool echo /t/echo input_schema=$TEST_ROOT/t/data/no-type.json; }
--- must_die: t/data/no-type\.json" must have "type": "object"

=== TEST 20: input schema of another type (2025-06-18 server/tools#tool: type "object")
--- config
location = /mcp { mcp; mcp_tool echo /t/echo input_schema=$TEST_ROOT/t/data/string-type.json; }
--- must_die: input_schema ".*string-type\.json" must have "type": "object"

=== TEST 21: output schema is checked too (2025-06-18 server/tools#output-schema)
--- config
location = /mcp { mcp; mcp_tool echo /t/echo output_schema=$TEST_ROOT/t/data/array.json; }
--- must_die: output_schema ".*array\.json" is not a JSON object

=== TEST 22: output schema file missing
--- config
location = /mcp { mcp; mcp_tool echo /t/echo output_schema=$TEST_ROOT/t/data/none.output.json; }
--- must_die: none\.output\.json

=== TEST 23: mcp without mcp_session_zone
--- http_config
--- must_die: "mcp" requires "mcp_session_zone"

=== TEST 24: mcp_health with a bad value
--- config
location = /health { mcp_health alive; }
--- must_die: invalid value "alive"

=== TEST 25: session zone too small
--- http_config
mcp_session_zone zone=tiny:16k;
--- must_die: zone "zone=tiny:16k" is too small

=== TEST 26: duplicate mcp_session_zone
--- http_config
mcp_session_zone zone=one:1m;
mcp_session_zone zone=two:1m;
--- must_die: "mcp_session_zone" directive is duplicate

=== TEST 27: mcp_session_zone without zone=
--- http_config
mcp_session_zone idle_timeout=10m;
--- must_die: must have "zone" parameter

=== TEST 28: mcp_session_zone with a size that does not parse
--- http_config
mcp_session_zone zone=mcp:lots;
--- must_die: invalid zone size "zone=mcp:lots"

=== TEST 29: mcp_session_zone with a bad idle_timeout
--- http_config
mcp_session_zone zone=mcp:1m idle_timeout=forever;
--- must_die: invalid idle_timeout "idle_timeout=forever"

=== TEST 30: mcp_session_zone with an unknown parameter
--- http_config
mcp_session_zone zone=mcp:1m persist=yes;
--- must_die: invalid parameter "persist=yes"

=== TEST 31: mcp_session_zone is not allowed in server{}
--- config
mcp_session_zone zone=other:1m;
location = /mcp { mcp; }
--- must_die: "mcp_session_zone" directive is not allowed here

=== TEST 32: mcp is not allowed in server{}
--- config
mcp;
--- must_die: "mcp" directive is not allowed here

=== TEST 33: mcp_max_json_depth below its bound
--- config
location = /mcp { mcp; mcp_max_json_depth 1; }
--- must_die: value must be between 2 and 1000

=== TEST 34: mcp_max_batch of 0
--- config
location = /mcp { mcp; mcp_max_batch 0; }
--- must_die: value must be between 1 and 10000

=== TEST 35: mcp_max_body_size that is not a size
--- config
location = /mcp { mcp; mcp_max_body_size big; }
--- must_die: "mcp_max_body_size" directive invalid value

=== TEST 36: mcp_server_info needs two arguments
--- config
location = /mcp { mcp; mcp_server_info only-a-name; }
--- must_die: invalid number of arguments in "mcp_server_info" directive

=== TEST 37: tools from http{} are inherited by a location without mcp_tool (2025-06-18 server/tools#listing-tools)
--- http_config
mcp_session_zone zone=mcp:1m;
mcp_server_info http-gw 1.2.3;
mcp_tool http_a /t/a "description=first http tool";
mcp_tool http_b /t/b "title=Second";
--- config
location = /mcp { mcp; }
location = /own { mcp; mcp_tool loc_c /t/c; }
location = /own-server-info { mcp; mcp_server_info loc-gw 4.5.6; }
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[
  {"name":"http_a","description":"first http tool","inputSchema":{"type":"object"}},
  {"name":"http_b","title":"Second","inputSchema":{"type":"object"}}]}}

=== TEST 38: a location's own mcp_tool list replaces the inherited one entirely
--- http_config
mcp_session_zone zone=mcp:1m;
mcp_server_info http-gw 1.2.3;
mcp_tool http_a /t/a "description=first http tool";
mcp_tool http_b /t/b "title=Second";
--- config
location = /mcp { mcp; }
location = /own { mcp; mcp_tool loc_c /t/c; }
location = /own-server-info { mcp; mcp_server_info loc-gw 4.5.6; }
--- init: 2025-06-18
--- init_path: /own
--- request
POST /own
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"loc_c","inputSchema":{"type":"object"}}]}}

=== TEST 39: the replaced tools cannot be called from that location (2025-06-18 server/tools#error-handling)
--- http_config
mcp_session_zone zone=mcp:1m;
mcp_server_info http-gw 1.2.3;
mcp_tool http_a /t/a "description=first http tool";
mcp_tool http_b /t/b "title=Second";
--- config
location = /mcp { mcp; }
location = /own { mcp; mcp_tool loc_c /t/c; }
location = /own-server-info { mcp; mcp_server_info loc-gw 4.5.6; }
--- init: 2025-06-18
--- init_path: /own
--- request
POST /own
{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"http_a","arguments":{}}}
--- response_json_subset
{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"*ANY*"}}
--- response_body_like: unknown tool \\"http_a\\"

=== TEST 40: mcp_server_info is inherited from http{} (2025-06-18 basic/lifecycle#initialization)
--- http_config
mcp_session_zone zone=mcp:1m;
mcp_server_info http-gw 1.2.3;
mcp_tool http_a /t/a "description=first http tool";
mcp_tool http_b /t/b "title=Second";
--- config
location = /mcp { mcp; }
location = /own { mcp; mcp_tool loc_c /t/c; }
location = /own-server-info { mcp; mcp_server_info loc-gw 4.5.6; }
--- request
POST /own
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_json_subset
{"result":{"serverInfo":{"name":"http-gw","version":"1.2.3"}}}

=== TEST 41: a location's mcp_server_info replaces the inherited one
--- http_config
mcp_session_zone zone=mcp:1m;
mcp_server_info http-gw 1.2.3;
mcp_tool http_a /t/a "description=first http tool";
mcp_tool http_b /t/b "title=Second";
--- config
location = /mcp { mcp; }
location = /own { mcp; mcp_tool loc_c /t/c; }
location = /own-server-info { mcp; mcp_server_info loc-gw 4.5.6; }
--- request
POST /own-server-info
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_json_subset
{"result":{"serverInfo":{"name":"loc-gw","version":"4.5.6"}}}

=== TEST 42: server-level tools replace http-level ones and are inherited by locations
--- http_config
mcp_session_zone zone=mcp:1m;
mcp_tool http_a /t/a;
--- config
mcp_tool srv_x /t/x "description=server level";
location = /mcp { mcp; }
location = /own { mcp; mcp_tool loc_c /t/c; }
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"srv_x","description":"server level","inputSchema":{"type":"object"}}]}}

=== TEST 43: location tools replace server-level ones
--- http_config
mcp_session_zone zone=mcp:1m;
mcp_tool http_a /t/a;
--- config
mcp_tool srv_x /t/x "description=server level";
location = /mcp { mcp; }
location = /own { mcp; mcp_tool loc_c /t/c; }
--- init: 2025-11-25
--- init_path: /own
--- request
POST /own
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"loc_c","inputSchema":{"type":"object"}}]}}

=== TEST 44: an mcp location without any tool lists none (2025-06-18 server/tools#listing-tools)
--- config
location = /mcp { mcp; }
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}
