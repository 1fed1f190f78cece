# A POST that is rejected (no session, malformed or unknown session,
# unsupported MCP-Protocol-Version, parse error, oversized body) gets its
# error status and never reaches a tool backend: the rejection is the end
# of the request (2025-06-18 basic/transports#session-management).
# Subrequests are logged, so every call that does reach the tool location
# shows in the access log.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;

my $backend = start_backend('example_backend.py');

my $nginx = start_nginx(
    http_config => <<'CONF',
mcp_session_zone zone=mcp:1m;
log_subrequest on;
log_format calls '$uri $status';
CONF
    config => <<'CONF',
access_log $TEST_PREFIX/logs/calls.log calls;
location = /mcp {
    mcp;
    mcp_max_body_size 2k;
    mcp_tool echo /tools/echo;
}
location /tools/ {
    internal;
    proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/;
}
CONF
    backend_port => $backend->port);

my $port = $nginx->port;
my ($sid, $ver) = mcp_initialize(port => $port, version => '2025-06-18');

my $call = '{"jsonrpc":"2.0","id":7,"method":"tools/call",'
         . '"params":{"name":"echo","arguments":{"message":"m"}}}';

sub post {
    my (%o) = @_;
    my @h = (['Content-Type', 'application/json'],
             ['Accept', 'application/json, text/event-stream'],
             @{ $o{headers} || [] });
    # keep the connection open a while, as a client waiting for more would
    return http_request(port => $port, method => 'POST', path => '/mcp',
                        headers => \@h, body => $o{body} // $call);
}

sub calls {
    my $log = do {
        local $/;
        open my $fh, '<', $nginx->prefix . '/logs/calls.log' or return 0;
        <$fh>;
    };
    return scalar(() = $log =~ m{^/tools/echo }mg);
}

my @rejections = (
    [ 'no Mcp-Session-Id', 400, [] ],
    [ 'malformed Mcp-Session-Id', 400, [['Mcp-Session-Id', "a b"]] ],
    [ 'unknown session', 404,
      [['Mcp-Session-Id', '0123456789abcdef0123456789abcdef']] ],
    [ 'unsupported MCP-Protocol-Version', 400,
      [['Mcp-Session-Id', $sid], ['MCP-Protocol-Version', '1999-01-01']] ],
    [ 'body over mcp_max_body_size', 413,
      [['Mcp-Session-Id', $sid]],
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo",'
      . '"arguments":{"message":"' . ('x' x 3000) . '"}}}' ],
    [ 'parse error', 400, [['Mcp-Session-Id', $sid]],
      '{"jsonrpc":"2.0","id":7,"method":"tools/call",' ],
);

for my $r (@rejections) {
    my ($what, $status, $headers, $body) = @$r;
    my $res = post(headers => $headers, body => $body);
    is($res->status, $status, "$what: HTTP $status");
    ok($res->json && $res->json->{error}, "$what: a JSON-RPC error body");
}

# give a wrongly forwarded call time to show in the log
select(undef, undef, undef, 0.3);
is(calls(), 0, 'no rejected request reached the tool backend');

my $res = post(headers => [['Mcp-Session-Id', $sid],
                           ['MCP-Protocol-Version', $ver]]);
is($res->status, 200, 'the same call in a valid session: 200');
is_deeply($res->json->{result}, { content => [ { type => 'text',
                                                 text => 'm' } ] },
          'the tool answered');
is(calls(), 1, 'exactly that call reached the tool backend');

unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]|header already sent/,
       'no alert, and no response was sent twice');
$nginx->stop;

done_testing();
