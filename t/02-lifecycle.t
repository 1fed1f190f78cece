# Lifecycle of an MCP session over Streamable HTTP: initialize and version
# negotiation, the session id, serverInfo / instructions / capabilities,
# malformed initialize requests, notifications/initialized, ping, requests
# outside a session and re-initialization.
#
# Spec references: 2025-06-18 basic/lifecycle#initialization,
# basic/lifecycle#version-negotiation, basic/transports#session-management,
# basic/utilities/ping; 2025-03-26 basic/transports#session-management.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;

# --- session ids: 128 random bits as 32 lowercase hex digits, never reused ---
# (2025-06-18 basic/transports#session-management: "globally unique and
# cryptographically secure", visible ASCII only)
{
    my $ng = start_nginx(http_config => 'mcp_session_zone zone=mcp:1m;', workers => 2,
                         config => 'location = /mcp { mcp; }');
    my (%seen, @bad);
    for my $i (1 .. 25) {
        my $version = (qw(2025-03-26 2025-06-18 2025-11-25))[$i % 3];
        my ($sid, $negotiated, $init) = mcp_initialize(port => $ng->port, version => $version);
        push @bad, "initialize $i: status " . ($init->status // $init->error) unless ($init->status // 0) == 200;
        push @bad, "initialize $i: negotiated " . ($negotiated // 'nothing') . " for $version"
            unless ($negotiated // '') eq $version;
        push @bad, "initialize $i: session id " . ($sid // 'missing') unless ($sid // '') =~ /^[0-9a-f]{32}$/;
        push @bad, "initialize $i: notifications/initialized got "
                   . ($init->{initialized_response} ? $init->{initialized_response}->status : 'nothing')
            unless $init->{initialized_response} && ($init->{initialized_response}->status // 0) == 202;
        $seen{$sid // ''}++;
    }
    is_deeply(\@bad, [], 'session ids: 25 initializes succeed with well-formed ids');
    is(scalar(grep { length } keys %seen), 25, 'session ids: all 25 are different');

    # each session keeps its own negotiated version
    my ($s1) = mcp_initialize(port => $ng->port, version => '2025-03-26');
    my ($s2) = mcp_initialize(port => $ng->port, version => '2025-11-25');
    my $r1 = json_rpc(port => $ng->port, session => $s1, version => '2025-03-26',
                      message => '{"jsonrpc":"2.0","id":"a","method":"ping"}');
    my $r2 = json_rpc(port => $ng->port, session => $s2, version => '2025-11-25',
                      message => '{"jsonrpc":"2.0","id":"b","method":"ping"}');
    is($r1->status . ' ' . $r1->body, '200 {"jsonrpc":"2.0","id":"a","result":{}}', 'session ids: first session answers');
    is($r2->status . ' ' . $r2->body, '200 {"jsonrpc":"2.0","id":"b","result":{}}', 'session ids: second session answers');
    # batches exist only in 2025-03-26 (2025-06-18 changelog: JSON-RPC batching removed)
    my $b1 = json_rpc(port => $ng->port, session => $s1, message => '[{"jsonrpc":"2.0","id":"c","method":"ping"}]');
    my $b2 = json_rpc(port => $ng->port, session => $s2, message => '[{"jsonrpc":"2.0","id":"c","method":"ping"}]');
    is($b1->status . ' ' . $b1->body, '200 [{"jsonrpc":"2.0","id":"c","result":{}}]',
       "session ids: the 2025-03-26 session's version governs (batch accepted)");
    is($b2->status, 400, "session ids: the 2025-11-25 session's version governs (batch refused)");

    # the header name is case-insensitive (RFC 9110 5.1)
    my $r3 = json_rpc(port => $ng->port, message => '{"jsonrpc":"2.0","id":4,"method":"ping"}',
                      headers => [['mcp-session-id', $s2], ['mcp-protocol-version', '2025-11-25']]);
    is($r3->status . ' ' . $r3->body, '200 {"jsonrpc":"2.0","id":4,"result":{}}',
       'session ids: lowercase header names accepted');

    # an id differing only in letter case is another (unknown) session
    my $r4 = json_rpc(port => $ng->port, session => uc $s2, version => '2025-11-25',
                      message => '{"jsonrpc":"2.0","id":5,"method":"ping"}');
    is($r4->status, 404, 'session ids: compared case-sensitively');

    # 2025-06-18 basic/lifecycle#initialization: initialize inside a session is
    # refused and the session stays usable
    my $re = json_rpc(port => $ng->port, session => $s2, version => '2025-11-25',
                      message => '{"jsonrpc":"2.0","id":5,"method":"initialize","params":'
                                 . '{"protocolVersion":"2025-11-25","capabilities":{}}}');
    is($re->status, 400, 're-initialize: refused with 400');
    is($re->{json}{error}{code}, -32600, 're-initialize: code -32600');
    is($re->header('mcp-session-id'), undef, 're-initialize: no new session id');
    my $after = json_rpc(port => $ng->port, session => $s2, version => '2025-11-25',
                         message => '{"jsonrpc":"2.0","id":6,"method":"ping"}');
    is($after->status . ' ' . $after->body, '200 {"jsonrpc":"2.0","id":6,"result":{}}',
       're-initialize: the session still answers');

    $ng->stop;
    unlike($ng->error_log, qr/\[(?:alert|crit|emerg)\]/, 'session ids: no alert/crit/emerg logged');
}

run_blocks();

__DATA__

=== DEFAULTS
--- config
location = /mcp { mcp; }

=== TEST 1: initialize at 2025-03-26 is echoed (2025-03-26 basic/lifecycle#version-negotiation)
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_headers
Content-Type: application/json
Mcp-Session-Id: ~ ^[0-9a-f]{32}$
--- response_json
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-03-26","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"ngx_mcp_module","version":"0.1.0"}}}

=== TEST 2: initialize at 2025-06-18 is echoed (2025-06-18 basic/lifecycle#version-negotiation)
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_headers
Content-Type: application/json
Mcp-Session-Id: ~ ^[0-9a-f]{32}$
--- response_json
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"ngx_mcp_module","version":"0.1.0"}}}

=== TEST 3: initialize at 2025-11-25 is echoed (2025-11-25 basic/lifecycle#version-negotiation)
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_headers
Content-Type: application/json
Mcp-Session-Id: ~ ^[0-9a-f]{32}$
--- response_json
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"ngx_mcp_module","version":"0.1.0"}}}

=== TEST 4: unsupported older version 2024-11-05 gets the latest (2025-06-18 basic/lifecycle#version-negotiation)
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_headers
Mcp-Session-Id: ~ ^[0-9a-f]{32}$
--- response_json
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"ngx_mcp_module","version":"0.1.0"}}}

=== TEST 5: unknown version 1999-01-01 gets the latest (2025-06-18 basic/lifecycle#version-negotiation)
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"1999-01-01","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_headers
Mcp-Session-Id: ~ ^[0-9a-f]{32}$
--- response_json_subset
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25"}}

=== TEST 6: a version that only starts like a supported one is not supported (2025-06-18 basic/lifecycle#version-negotiation)
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18x","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_json_subset
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25"}}

=== TEST 7: initialize with a string id echoes it (2025-06-18 basic#responses)
--- request
POST /mcp
{"jsonrpc":"2.0","id":"init-α","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_json_subset
{"jsonrpc":"2.0","id":"init-α","result":{"protocolVersion":"2025-06-18"}}

=== TEST 8: the session created by initialize answers ping (2025-06-18 basic/utilities/ping)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"ping"}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":2,"result":{}}

=== TEST 9: ping with a string id (2025-11-25 basic/utilities/ping)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":"p-1","method":"ping"}
--- response_body: {"jsonrpc":"2.0","id":"p-1","result":{}}

=== TEST 10: ping in a 2025-03-26 session (2025-03-26 basic/utilities/ping)
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","id":0,"method":"ping","params":{}}
--- response_body: {"jsonrpc":"2.0","id":0,"result":{}}

=== TEST 11: configured serverInfo (2025-06-18 basic/lifecycle#initialization)
--- config
location = /mcp { mcp; mcp_server_info example-gateway 2.4.1; }
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_json
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"example-gateway","version":"2.4.1"}}}

=== TEST 12: instructions present when configured (2025-06-18 basic/lifecycle#initialization)
--- config
location = /mcp { mcp; mcp_server_info gw 1; mcp_instructions "Call \"add\" for sums; answers are JSON."; }
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_json
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"gw","version":"1"},"instructions":"Call \"add\" for sums; answers are JSON."}}

=== TEST 13: instructions at 2025-03-26 too (2025-03-26 basic/lifecycle#initialization)
--- config
location = /mcp { mcp; mcp_server_info gw 1; mcp_instructions "Call \"add\" for sums; answers are JSON."; }
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_json_subset
{"result":{"protocolVersion":"2025-03-26","instructions":"Call \"add\" for sums; answers are JSON."}}

=== TEST 14: instructions absent when not configured (2025-06-18 basic/lifecycle#initialization)
--- config
location = /mcp { mcp; }
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- response_body_unlike: instructions
--- response_json
{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"ngx_mcp_module","version":"0.1.0"}}}

=== TEST 15: initialize without protocolVersion (2025-06-18 basic/lifecycle#initialization)
--- request
POST /mcp
{"jsonrpc":"2.0","id":7,"method":"initialize","params":{"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- error_code: 400
--- response_headers
Content-Type: application/json
!Mcp-Session-Id
--- response_json_subset
{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"*ANY*"}}
--- response_body_like: "message":"Invalid params

=== TEST 16: initialize with a numeric protocolVersion (2025-06-18 basic/lifecycle#initialization)
--- request
POST /mcp
{"jsonrpc":"2.0","id":"x","method":"initialize","params":{"protocolVersion":20250618,"capabilities":{}}}
--- error_code: 400
--- response_headers
!Mcp-Session-Id
--- response_json_subset
{"jsonrpc":"2.0","id":"x","error":{"code":-32602,"message":"*ANY*"}}

=== TEST 17: initialize with params as an array (2025-06-18 basic/lifecycle#initialization)
--- request
POST /mcp
{"jsonrpc":"2.0","id":8,"method":"initialize","params":["2025-06-18"]}
--- error_code: 400
--- response_headers
!Mcp-Session-Id
--- response_json_subset
{"jsonrpc":"2.0","id":8,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 18: initialize without params (2025-06-18 basic/lifecycle#initialization)
--- request
POST /mcp
{"jsonrpc":"2.0","id":9,"method":"initialize"}
--- error_code: 400
--- response_headers
!Mcp-Session-Id
--- response_json_subset
{"jsonrpc":"2.0","id":9,"error":{"code":-32602,"message":"*ANY*"}}

=== TEST 19: initialize carrying Mcp-Session-Id is refused (2025-06-18 basic/transports#session-management)
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- more_headers
Mcp-Session-Id: 0123456789abcdef0123456789abcdef
--- error_code: 400
--- response_headers
Content-Type: application/json
!Mcp-Session-Id
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 20: initialize inside a batch is refused (2025-03-26 basic/lifecycle#initialization: "MUST NOT be part of a JSON-RPC batch")
--- request
POST /mcp
[{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}]
--- error_code: 400
--- response_headers
!Mcp-Session-Id
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 21: initialize after another message in a batch is refused (2025-03-26 basic/lifecycle#initialization)
--- request
POST /mcp
[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}]
--- error_code: 400
--- response_headers
!Mcp-Session-Id
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"*ANY*"}}

=== TEST 22: notifications/initialized is accepted with 202 and no body (2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","method":"notifications/initialized"}
--- error_code: 202
--- response_body:

=== TEST 23: notifications/initialized at 2025-03-26 (2025-03-26 basic/transports#sending-messages-to-the-server)
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}
--- error_code: 202
--- response_body:

=== TEST 24: a request before initialize (no session) is refused (2025-06-18 basic/transports#session-management)
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"tools/list"}
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 25: ping before initialize (no session) is refused (2025-06-18 basic/transports#session-management)
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
MCP-Protocol-Version: 2025-06-18
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 26: notifications/initialized without a session is refused (2025-06-18 basic/transports#session-management)
--- request
POST /mcp
{"jsonrpc":"2.0","method":"notifications/initialized"}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 27: re-initialize inside a session is refused with -32600 (2025-06-18 basic/transports#session-management, basic/lifecycle#initialization)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":5,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}
--- error_code: 400
--- response_headers
!Mcp-Session-Id
--- response_json_subset
{"jsonrpc":"2.0","error":{"code":-32600,"message":"*ANY*"}}
