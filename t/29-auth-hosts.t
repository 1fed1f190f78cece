# Sessions bound to their client across hosts (README "mcp_auth",
# "Sessions across hosts"): the principal travels with the session in
# Redis, so on another host the session is its client's only.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use File::Temp qw(tempdir);

my $dir = tempdir('mcp-auth-XXXXXX', TMPDIR => 1, CLEANUP => 1);

my %token = %{ mcp_tokens("$dir/tokens", qw(alice bob)) };

my $redis = start_redis();

sub host {
    my ($node) = @_;
    return start_nginx(
        http_config => "mcp_session_zone zone=mcp:1m;\n"
                     . "mcp_redis 127.0.0.1:" . $redis->port . " prefix=t29:;\n"
                     . "mcp_node_id $node;\n"
                     . "mcp_auth bearer file=$dir/tokens;",
        config => <<'CONF');
location = /mcp { mcp; }
location = /ready { mcp_auth off; mcp_health ready; }
CONF
}

my $a = host('a');
my $b = host('b');

for my $n ($a, $b) {
    ok(wait_for(5, sub {
            http_request(port => $n->port, path => '/ready')->status == 200 }),
       'ready on ' . $n->port);
}

sub ping {
    my ($n, $who, $sid) = @_;
    return json_rpc(port => $n->port, session => $sid, version => '2025-06-18',
                    headers => [['Authorization', "Bearer $token{$who}"]],
                    message => { jsonrpc => '2.0', id => 1, method => 'ping' });
}

my $r = json_rpc(port => $a->port,
                 headers => [['Authorization', "Bearer $token{alice}"]],
                 message => { jsonrpc => '2.0', id => 0, method => 'initialize',
                              params => { protocolVersion => '2025-06-18',
                                          capabilities => {},
                                          clientInfo => { name => 't',
                                                          version => '1' } } });
my $sid = $r->header('Mcp-Session-Id');
ok($sid, 'alice starts a session on A');
like($redis->cli('GET', "t29:s:$sid"), qr/^3 0 alice$/,
     'Redis keeps it with its client');

is(ping($b, 'bob', $sid)->status, 404, 'bob asks for it on B: 404');
is(ping($b, 'alice', $sid)->status, 200, 'alice uses it on B: 200');
is(ping($a, 'bob', $sid)->status, 404, 'and bob on A: 404');

for my $n ($a, $b) {
    unlike($n->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert');
}

no_secrets_logged();

done_testing();
