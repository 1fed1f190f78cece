# Variables for logs and tool locations: $mcp_session_id, $mcp_method,
# $mcp_tool, $mcp_jsonrpc_id and $mcp_protocol_version, written to an
# access log with escape=json, and passed to a tool backend by
# proxy_set_header in the tool location.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use JSON::PP;

my $backend = start_backend('example_backend.py');

my $nginx = start_nginx(
    http_config => <<'CONF',
mcp_session_zone zone=mcp:1m;
log_format mcp escape=json '{"uri":"$uri","status":"$status",'
    '"session":"$mcp_session_id","method":"$mcp_method",'
    '"tool":"$mcp_tool","id":"$mcp_jsonrpc_id",'
    '"version":"$mcp_protocol_version"}';
CONF
    config => <<'CONF',
access_log $TEST_PREFIX/logs/mcp.log mcp;
location = /mcp {
    mcp;
    mcp_tool headers /tools/headers;
}
location /tools/ {
    internal;
    proxy_set_header X-Tool $mcp_tool;
    proxy_set_header X-Method $mcp_method;
    proxy_set_header X-Call-Id $mcp_jsonrpc_id;
    proxy_set_header X-Session $mcp_session_id;
    proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/;
}
CONF
    backend_port => $backend->port);

my $port = $nginx->port;
my ($sid, $ver) = mcp_initialize(port => $port, version => '2025-06-18');

my $res = json_rpc(port => $port, session => $sid, version => $ver,
                   message => '{"jsonrpc":"2.0","id":"c-1","method":'
                            . '"tools/call","params":{"name":"headers"}}');
is($res->status, 200, 'tools/call answers 200');
my $seen = decode_json($res->{json}{result}{content}[0]{text});
is($seen->{'x-tool'}, 'headers', '$mcp_tool in the tool location');
is($seen->{'x-method'}, 'tools/call', '$mcp_method in the tool location');
is($seen->{'x-call-id'}, '"c-1"', '$mcp_jsonrpc_id in the tool location');
is($seen->{'x-session'}, $sid, '$mcp_session_id in the tool location');

$res = json_rpc(port => $port, session => $sid, version => $ver,
                message => { jsonrpc => '2.0', id => 5, method => 'ping' });
is($res->status, 200, 'ping answers 200');

$res = http_request(port => $port, method => 'DELETE', path => '/mcp',
                    headers => [['Mcp-Session-Id', $sid]]);
is($res->status, 200, 'DELETE answers 200');

$res = http_request(port => $port, method => 'POST', path => '/mcp',
                    headers => [['Content-Type', 'application/json'],
                                ['Accept', 'application/json, text/event-stream']],
                    body => '{"jsonrpc":"2.0","id":1,"method":"ping"}');
is($res->status, 400, 'a request without session answers 400');

# the log line is written once the request is done
select(undef, undef, undef, 0.2);

open my $fh, '<', $nginx->prefix . '/logs/mcp.log' or die $!;
my @log = map { decode_json($_) } <$fh>;
close $fh;

unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]/, 'nothing alarming logged');
$nginx->stop;

my @main = grep { $_->{uri} eq '/mcp' } @log;
is(scalar @main, 6, 'six requests logged');

is_deeply($main[0], { uri => '/mcp', status => '200', session => $sid,
                      method => 'initialize', tool => '', id => '1',
                      version => '2025-06-18' },
          'initialize: the new session, method, id and revision');
is_deeply($main[1], { uri => '/mcp', status => '202', session => $sid,
                      method => 'notifications/initialized', tool => '',
                      id => '', version => '2025-06-18' },
          'a notification has no id');
is_deeply($main[2], { uri => '/mcp', status => '200', session => $sid,
                      method => 'tools/call', tool => 'headers',
                      id => '"c-1"', version => '2025-06-18' },
          'tools/call: the tool, and a string id as JSON');
is_deeply($main[3], { uri => '/mcp', status => '200', session => $sid,
                      method => 'ping', tool => '', id => '5',
                      version => '2025-06-18' },
          'ping');
is($main[4]{session}, $sid, 'DELETE logs the session it ended');
is_deeply($main[5], { uri => '/mcp', status => '400', session => '',
                      method => 'ping', tool => '', id => '1', version => '' },
          'a rejected request logs what it could');

done_testing();
