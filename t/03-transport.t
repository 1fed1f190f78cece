# Streamable HTTP transport rules: Accept and Content-Type negotiation, the
# Mcp-Session-Id and MCP-Protocol-Version headers, methods other than POST,
# session termination with DELETE, idle expiry, sessions shared by workers and
# client messages that get 202 Accepted.
#
# Spec references: 2025-06-18 basic/transports#sending-messages-to-the-server,
# #listening-for-messages-from-the-server, #session-management,
# #protocol-version-header; 2025-03-26 basic/transports (same sections).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use POSIX ();
use Time::HiRes ();

my $PING = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
my $PONG = '{"jsonrpc":"2.0","id":1,"result":{}}';

# --- session header values that a block cannot send --------------------------
# (2025-06-18 basic/transports#session-management: the id "MUST only contain
# visible ASCII characters (ranging from 0x21 to 0x7E)")
{
    my $ng = start_nginx(http_config => 'mcp_session_zone zone=mcp:1m;', config => 'location = /mcp { mcp; }');
    my $port = $ng->port;
    my $raw = sub {
        my ($session_line) = @_;
        return http_request(port => $port, raw => "POST /mcp HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            . "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            . "$session_line\r\nContent-Length: " . length($PING) . "\r\n\r\n$PING");
    };
    for my $case (['empty value', 'Mcp-Session-Id: '],
                  ['non-ASCII bytes', "Mcp-Session-Id: caf\xc3\xa9"],
                  ['a control character', "Mcp-Session-Id: ab\x01cd"],
                  ['a DEL character', "Mcp-Session-Id: ab\x7fcd"]) {
        my $r = $raw->($case->[1]);
        is($r->status, 400, "malformed session id ($case->[0]): 400");
        is_deeply([$r->header('content-type'), $r->json && $r->json->{error}{code}, $r->json && $r->json->{id}],
                  ['application/json', -32000, undef], "malformed session id ($case->[0]): JSON error -32000");
        like($r->body, qr/malformed/i, "malformed session id ($case->[0]): message says malformed");
    }
    my $r = $raw->('Mcp-Session-Id: ' . ('a' x 128));
    is($r->status, 404, 'session id of 128 visible characters is well formed (unknown: 404)');
    $r = $raw->('Mcp-Session-Id: ' . ('a' x 129));
    is($r->status, 400, 'session id of 129 characters is malformed: 400');

    # --- DELETE ends a session (2025-06-18 basic/transports#session-management) ---
    my ($sid, $ver) = mcp_initialize(port => $port, version => '2025-06-18');
    my $ping = json_rpc(port => $port, session => $sid, version => $ver, message => $PING);
    is($ping->status . ' ' . $ping->body, "200 $PONG", 'DELETE flow: the session answers before DELETE');
    my $del = http_request(port => $port, method => 'DELETE', path => '/mcp',
                           headers => [['Mcp-Session-Id', $sid], ['MCP-Protocol-Version', $ver]]);
    is($del->status, 200, 'DELETE flow: DELETE of a live session answers 200');
    is($del->body, '', 'DELETE flow: with an empty body');
    $ping = json_rpc(port => $port, session => $sid, version => $ver, message => $PING);
    is($ping->status, 404, 'DELETE flow: a POST in the deleted session gets 404');
    is_deeply($ping->json, { jsonrpc => '2.0', id => undef, error => { code => -32001, message => 'Session not found' } },
              'DELETE flow: the 404 body is the -32001 "Session not found" error');
    my $n = json_rpc(port => $port, session => $sid, version => $ver,
                     message => '{"jsonrpc":"2.0","method":"notifications/initialized"}');
    is($n->status, 404, 'DELETE flow: a notification in the deleted session gets 404 too');
    $del = http_request(port => $port, method => 'DELETE', path => '/mcp', headers => [['Mcp-Session-Id', $sid]]);
    is($del->status, 404, 'DELETE flow: a second DELETE gets 404');
    is($del->json && $del->json->{error}{code}, -32001, 'DELETE flow: second DELETE body has -32001');

    # deleting one session leaves the others alone
    my ($a) = mcp_initialize(port => $port, version => '2025-11-25');
    my ($b) = mcp_initialize(port => $port, version => '2025-11-25');
    http_request(port => $port, method => 'DELETE', path => '/mcp', headers => [['Mcp-Session-Id', $a]]);
    $ping = json_rpc(port => $port, session => $b, version => '2025-11-25', message => $PING);
    is($ping->status . ' ' . $ping->body, "200 $PONG", 'DELETE flow: another session is unaffected');

    # a new initialize after 404 starts a fresh session (client recovery path)
    my ($again) = mcp_initialize(port => $port, version => '2025-06-18');
    like($again // '', qr/^[0-9a-f]{32}$/, 'DELETE flow: a client can start a new session after 404');
    isnt($again, $sid, 'DELETE flow: the new session has a new id');

    $ng->stop;
    unlike($ng->error_log, qr/\[(?:alert|crit|emerg)\]/, 'raw header and DELETE flows: no alert/crit/emerg logged');
}

# --- idle_timeout (2025-06-18 basic/transports#session-management: the
# server MAY terminate the session at any time, then answers 404) -----------
{
    my $ng = start_nginx(http_config => 'mcp_session_zone zone=mcp:1m idle_timeout=1s;',
                         config => 'location = /mcp { mcp; }');
    my $port = $ng->port;
    my ($sid, $ver) = mcp_initialize(port => $port, version => '2025-06-18');
    my ($other) = mcp_initialize(port => $port, version => '2025-06-18');
    Time::HiRes::sleep(0.6);
    my $r = json_rpc(port => $port, session => $sid, version => $ver, message => $PING);
    is($r->status, 200, 'idle_timeout: active after 0.6 s');
    Time::HiRes::sleep(0.6);
    $r = json_rpc(port => $port, session => $sid, version => $ver, message => $PING);
    is($r->status, 200, 'idle_timeout: each request restarts the idle time (1.2 s after initialize)');
    $r = json_rpc(port => $port, session => $other, version => $ver, message => $PING);
    is($r->status, 404, 'idle_timeout: a session idle for 1.2 s is gone');
    is($r->json && $r->json->{error}{code}, -32001, 'idle_timeout: 404 carries -32001');
    Time::HiRes::sleep(1.3);
    $r = json_rpc(port => $port, session => $sid, version => $ver, message => $PING);
    is($r->status, 404, 'idle_timeout: a session idle for 1.3 s is gone');
    $r = http_request(port => $port, method => 'DELETE', path => '/mcp', headers => [['Mcp-Session-Id', $sid]]);
    is($r->status, 404, 'idle_timeout: DELETE of an expired session gets 404');
    $ng->stop;
    unlike($ng->error_log, qr/\[(?:alert|crit|emerg)\]/, 'idle_timeout: no alert/crit/emerg logged');
}

# --- one session used through both workers ---------------------------------
# (behaviour: sessions live in shared memory; each request opens a new
# connection, so the two workers take turns)
{
    my $ng = start_nginx(http_config => 'mcp_session_zone zone=mcp:1m;', workers => 2,
                         config => 'location = /mcp { mcp; }');
    my $port = $ng->port;
    my ($sid, $ver) = mcp_initialize(port => $port, version => '2025-11-25');
    my @bad;
    for my $i (1 .. 40) {
        my $r = json_rpc(port => $port, session => $sid, version => $ver,
                         message => qq({"jsonrpc":"2.0","id":$i,"method":"ping"}));
        push @bad, "request $i: " . ($r->status // $r->error) . ' ' . $r->body
            unless ($r->status // 0) == 200 && $r->body eq qq({"jsonrpc":"2.0","id":$i,"result":{}});
    }
    is_deeply(\@bad, [], 'two workers: 40 sequential requests of one session all succeed');

    # Concurrent requests of one session on both workers: rounds of 8 clients
    # x 25 pings (about 35 ms each), up to 40 rounds, stopping at the first
    # failure.  Each worker has its own cached clock; one that is a little
    # behind the worker that last touched the session must not take the
    # session for idle (with an unsigned "now - last" it would be freed and
    # every later request would get 404 "Session not found").
    my ($failed, $rounds) = (0, 0);
    while (!$failed && $rounds < 40) {
        $rounds++;
        my @pids;
        for my $k (1 .. 8) {
            my $pid = fork // die "fork: $!";
            if (!$pid) {
                my $fails = 0;
                for my $i (1 .. 25) {
                    my $r = json_rpc(port => $port, session => $sid, version => $ver, message => $PING);
                    $fails++ unless ($r->status // 0) == 200;
                }
                POSIX::_exit($fails);
            }
            push @pids, $pid;
        }
        for my $pid (@pids) { waitpid $pid, 0; $failed += $? >> 8 }
    }
    is($failed, 0, "two workers: concurrent requests of one session all succeed ($rounds rounds of 200)");
    my $r = json_rpc(port => $port, session => $sid, version => $ver, message => $PING);
    is($r->status, 200, 'two workers: the session is still alive after the concurrent requests');
    $ng->stop;
    unlike($ng->error_log, qr/\[(?:alert|crit|emerg)\]/, 'two workers: no alert/crit/emerg logged');
}

run_blocks();

__DATA__

=== DEFAULTS
--- config
location = /mcp { mcp; mcp_tool t /t "title=Titled"; }

=== TEST 1: Accept with both types (2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: application/json, text/event-stream
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 2: missing Accept is refused with 406 (2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept:
--- error_code: 406
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 3: Accept with only application/json (2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: application/json
--- error_code: 406
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 4: Accept with only text/event-stream (2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: text/event-stream
--- error_code: 406
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 5: Accept */* covers both (RFC 9110 12.5.1; 2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: */*
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 6: Accept application/*;q=1 with text/* (RFC 9110 12.5.1)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: application/*;q=1, text/*
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 7: Accept with q=0 on event-stream refuses it (RFC 9110 12.4.2)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: application/json, text/event-stream;q=0
--- error_code: 406
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 8: Accept with q=0.000 refuses (RFC 9110 12.4.2)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: application/json; q=0.000, text/event-stream
--- error_code: 406

=== TEST 9: Accept with a low but non-zero q accepts (RFC 9110 12.4.2)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: application/json;q=0.001, text/event-stream;q=0.5
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 10: */*;q=0 alone refuses (RFC 9110 12.5.1)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: */*;q=0
--- error_code: 406

=== TEST 11: the most specific range decides: application/json;q=0 with */* refuses (RFC 9110 12.5.1)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: */*, application/json;q=0
--- error_code: 406

=== TEST 12: the most specific range decides: text/*;q=0 with text/event-stream accepts (RFC 9110 12.5.1)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: text/*;q=0, text/event-stream, application/json
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 13: Accept split over two header lines (RFC 9110 5.3)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: application/json
Accept: text/event-stream
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 14: media types compare case-insensitively (RFC 9110 8.3.1)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: Application/JSON, Text/Event-Stream
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 15: a similar but different type is no match (2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: application/json-seq, text/event-stream
--- error_code: 406

=== TEST 16: the q parameter name is case-insensitive: Q=0 refuses (RFC 9110 5.6.6, 12.4.2)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: application/json;Q=0, text/event-stream
--- error_code: 406

=== TEST 17: a tab before q=0 still refuses (RFC 9110 5.6.3 OWS, 12.4.2)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Accept: application/json;	q=0, text/event-stream
--- error_code: 406

=== TEST 18: Accept is checked for initialize too (2025-06-18 basic/transports#sending-messages-to-the-server)
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}
--- more_headers
Accept: application/json
--- error_code: 406
--- response_headers
!Mcp-Session-Id

=== TEST 19: missing Content-Type is refused with 415 (2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Content-Type:
--- error_code: 415
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 20: Content-Type text/plain is refused with 415
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Content-Type: text/plain
--- error_code: 415
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 21: Content-Type with a charset parameter is accepted (RFC 9110 8.3.1)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Content-Type: application/json; charset=utf-8
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 22: Content-Type compares case-insensitively (RFC 9110 8.3.1)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Content-Type: Application/JSON;charset=UTF-8
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 23: Content-Type application/json-patch+json is not application/json
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Content-Type: application/json-patch+json
--- error_code: 415

=== TEST 24: missing Mcp-Session-Id is refused with 400 (2025-06-18 basic/transports#session-management)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Mcp-Session-Id:
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 25: Mcp-Session-Id with a space is malformed (2025-06-18 basic/transports#session-management)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Mcp-Session-Id: abc def
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}
--- response_body_like: [Mm]alformed

=== TEST 26: unknown Mcp-Session-Id gets 404 (2025-06-18 basic/transports#session-management)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Mcp-Session-Id: 0123456789abcdef0123456789abcdef
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}

=== TEST 27: unknown Mcp-Session-Id of another shape gets 404 (2025-06-18 basic/transports#session-management)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
Mcp-Session-Id: not-a-session-of-ours
--- error_code: 404
--- response_json
{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}

=== TEST 28: missing MCP-Protocol-Version is accepted (2025-06-18 basic/transports#protocol-version-header)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
MCP-Protocol-Version:
--- response_body: {"jsonrpc":"2.0","id":1,"result":{}}

=== TEST 29: without MCP-Protocol-Version the session's negotiated version governs (title listed at 2025-06-18)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"tools/list"}
--- more_headers
MCP-Protocol-Version:
--- response_json
{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"t","title":"Titled","inputSchema":{"type":"object"}}]}}

=== TEST 30: unsupported MCP-Protocol-Version 2024-11-05 gets 400 listing supported versions (2025-06-18 basic/transports#protocol-version-header)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
MCP-Protocol-Version: 2024-11-05
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}
--- response_body_like: 2025-03-26, 2025-06-18, 2025-11-25

=== TEST 31: garbage MCP-Protocol-Version gets 400 (2025-06-18 basic/transports#protocol-version-header)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- more_headers
MCP-Protocol-Version: latest
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}
--- response_body_like: 2025-03-26, 2025-06-18, 2025-11-25

=== TEST 32: a supported MCP-Protocol-Version other than the negotiated one is served; the session's revision governs: no batch for a 2025-06-18 session (2025-06-18 basic/transports#protocol-version-header: 400 only for invalid or unsupported values)
--- init: 2025-06-18
--- request
POST /mcp
[{"jsonrpc":"2.0","id":1,"method":"ping"}]
--- more_headers
MCP-Protocol-Version: 2025-03-26
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: JSON-RPC batches are not supported in protocol revision 2025-06-18"}}

=== TEST 33: a newer supported MCP-Protocol-Version on a 2025-03-26 session is served, and the session keeps its batches (2025-03-26 basic/transports)
--- init: 2025-03-26
--- request
POST /mcp
[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]
--- more_headers
MCP-Protocol-Version: 2025-11-25
--- error_code: 200
--- response_json
[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}]

=== TEST 34: GET without text/event-stream in Accept gets 406 (2025-06-18 basic/transports#listening-for-messages-from-the-server)
--- init: 2025-06-18
--- request
GET /mcp
--- more_headers
Accept: application/json
--- error_code: 406
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 35: GET without a session from a Streamable HTTP client (it sends MCP-Protocol-Version) gets 400 (2025-06-18 basic/transports#session-management); without that header the GET is an HTTP with SSE client's (t/18-legacy-sse.t)
--- request
GET /mcp
--- more_headers
Accept: text/event-stream
MCP-Protocol-Version: 2025-06-18
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 36: PUT gets 405 with Allow
--- request
PUT /mcp
{"jsonrpc":"2.0","id":1,"method":"ping"}
--- error_code: 405
--- response_headers
Allow: GET, POST, DELETE
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 37: PATCH gets 405 with Allow
--- request
PATCH /mcp
{}
--- error_code: 405
--- response_headers
Allow: GET, POST, DELETE

=== TEST 38: HEAD gets 405 with Allow and no body
--- request
HEAD /mcp
--- error_code: 405
--- response_headers
Allow: GET, POST, DELETE
--- response_body:

=== TEST 39: OPTIONS gets 405 with Allow
--- request
OPTIONS /mcp
--- error_code: 405
--- response_headers
Allow: GET, POST, DELETE

=== TEST 40: DELETE without Mcp-Session-Id gets 400 (2025-06-18 basic/transports#session-management)
--- request
DELETE /mcp
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"*ANY*"}}

=== TEST 41: DELETE of an unknown session gets 404 (2025-06-18 basic/transports#session-management)
--- request
DELETE /mcp
--- more_headers
Mcp-Session-Id: ffffffffffffffffffffffffffffffff
--- error_code: 404
--- response_json
{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}

=== TEST 42: DELETE with a malformed session id gets 400 (2025-06-18 basic/transports#session-management)
--- request
DELETE /mcp
--- more_headers
Mcp-Session-Id: a b
--- error_code: 400

=== TEST 43: DELETE of the block's session gets 200 and an empty body (2025-06-18 basic/transports#session-management)
--- init: 2025-11-25
--- request
DELETE /mcp
--- error_code: 200
--- response_body:

=== TEST 44: a client's JSON-RPC result response gets 202 (2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":5,"result":{}}
--- error_code: 202
--- response_body:

=== TEST 45: a client's JSON-RPC error response gets 202 (2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":"srv-1","error":{"code":-32601,"message":"no sampling here"}}
--- error_code: 202
--- response_body:

=== TEST 46: any notification gets 202 (2025-06-18 basic/transports#sending-messages-to-the-server)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3,"reason":"user"}}
--- error_code: 202
--- response_body:

=== TEST 47: an unknown notification gets 202 too (2025-06-18 basic#notifications)
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","method":"notifications/whatever"}
--- error_code: 202
--- response_body:

=== TEST 48: a response with both result and error is not a valid message (2025-06-18 basic#responses)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":5,"result":{},"error":{"code":1,"message":"x"}}
--- error_code: 400
--- response_json_subset
{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"*ANY*"}}
