# Tool locations that do more than proxy_pass: internal redirects inside
# the tool location (try_files to a named location, error_page), answers
# without a body, a tool pointed at an MCP location, and a tool timeout on
# an upstream of several servers, which must not count against them.
# 2025-06-18 server/tools#error-handling: failures are tool results.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use Time::HiRes qw(time);

my $backend = start_backend('example_backend.py');

my $nginx = start_nginx(
    http_config => <<'CONF',
mcp_session_zone zone=mcp:1m;
upstream pair {
    server 127.0.0.1:$TEST_BACKEND_PORT max_fails=1 fail_timeout=30s;
    server 127.0.0.1:$TEST_BACKEND_PORT max_fails=1 fail_timeout=30s;
}
CONF
    config => <<'CONF',
location = /mcp {
    mcp;
    mcp_tool named /redirect/echo;
    mcp_tool errpage /errpage/echo;
    mcp_tool empty200 /empty200;
    mcp_tool empty204 /empty204;
    mcp_tool loop /mcp;
    mcp_tool slow /pair/sleep?ms=2000 timeout=300ms;
    mcp_tool pair_echo /pair/echo;
}
location /redirect/ {
    internal;
    try_files /nonexistent @backend;
}
location @backend {
    rewrite ^/redirect/(.*)$ /$1 break;
    proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT;
}
location /errpage/ {
    internal;
    error_page 404 = @backend2;
    return 404;
}
location @backend2 {
    rewrite ^/errpage/(.*)$ /$1 break;
    proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT;
}
location = /empty200 { internal; return 200; }
location = /empty204 { internal; return 204; }
location /pair/ {
    internal;
    proxy_pass http://pair/;
}
CONF
    backend_port => $backend->port);

my $port = $nginx->port;
my ($sid, $ver) = mcp_initialize(port => $port, version => '2025-06-18');

sub call {
    my ($name, $args) = @_;
    my $res = json_rpc(port => $port, session => $sid, version => $ver,
                       message => { jsonrpc => '2.0', id => 1,
                                    method => 'tools/call',
                                    params => { name => $name,
                                                arguments => $args || {} } });
    return $res;
}

for my $tool (qw(named errpage)) {
    my $res = call($tool, { message => "via $tool" });
    is($res->status, 200, "$tool: 200");
    like($res->body, qr/^\{"jsonrpc"/, "$tool: the client gets JSON only, "
         . 'nothing of the redirected subrequest');
    is_deeply($res->{json}{result},
              { content => [ { type => 'text', text => "via $tool" } ] },
              "$tool: an internal redirect in the tool location still "
              . 'answers the call');
}

for my $tool (qw(empty200 empty204)) {
    my $res = call($tool);
    is_deeply($res->{json}{result},
              { content => [ { type => 'text', text => '' } ] },
              "$tool: an answer without a body is an empty text block");
}

my $res = call('loop');
is($res->status, 200, 'a tool pointed at the MCP location: 200');
is_deeply($res->{json}{result},
          { content => [ { type => 'text', text => 'tool "loop" failed '
                           . 'with HTTP status 404' } ],
            isError => JSON::PP::true },
          'the MCP location refuses subrequests; the call is an error');

my $t0 = time;
$res = call('slow');
my $took = time - $t0;
is($res->{json}{result}{content}[0]{text},
   'tool "slow" timed out after 300 ms', 'the tool timeout ends the call');
ok($took < 1.5, sprintf('the answer came at the timeout (%.2f s)', $took));

# both servers of the upstream stay usable: the timeout is no peer failure
for my $i (1 .. 4) {
    $res = call('pair_echo', { message => "after $i" });
    is($res->{json}{result}{content}[0]{text}, "after $i",
       "the upstream still answers after the timeout ($i)");
}

my $log = $nginx->error_log;
unlike($log, qr/temporarily disabled|no live upstreams/,
       'no upstream server was marked failed by the tool timeout');
unlike($log, qr/\[(alert|crit|emerg)\]/, 'nothing alarming logged');

$nginx->stop;
done_testing();
