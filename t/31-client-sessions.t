# mcp_max_client_sessions (README): a client named by its bearer token
# holds at most that many sessions; one more gets 429 with a JSON-RPC
# error until one ends.  Clients without a name (no mcp_auth) are not
# counted.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use File::Temp qw(tempdir);

my $dir = tempdir('mcp-auth-XXXXXX', TMPDIR => 1, CLEANUP => 1);

my %token = %{ mcp_tokens("$dir/tokens", qw(carol dave)) };

my $nginx = start_nginx(
    http_config => 'mcp_session_zone zone=mcp:1m;',
    config => <<CONF);
location = /mcp {
    mcp;
    mcp_auth bearer file=$dir/tokens;
    mcp_max_client_sessions 3;
}
location = /open { mcp; mcp_max_client_sessions 1; }
CONF

my $port = $nginx->port;

sub init {
    my ($who, $path) = @_;
    return json_rpc(port => $port, path => $path // '/mcp',
                    headers => [$who ? (['Authorization', "Bearer $token{$who}"]) : ()],
                    message => { jsonrpc => '2.0', id => 1, method => 'initialize',
                                 params => { protocolVersion => '2025-06-18',
                                             capabilities => {},
                                             clientInfo => { name => 't',
                                                             version => '1' } } });
}

my @sids = map { init('carol')->header('Mcp-Session-Id') } 1 .. 3;
is(scalar(grep { defined } @sids), 3, 'carol starts three sessions');

my $r = init('carol');
is($r->status, 429, 'a fourth: 429');
is($r->json->{error}{code}, -32000, 'with a JSON-RPC error');
like($r->json->{error}{message}, qr/mcp_max_client_sessions/, 'naming the limit');

is(init('dave')->status, 200, 'dave is counted on his own');

$r = http_request(port => $port, method => 'DELETE', path => '/mcp',
                  headers => [['Mcp-Session-Id', $sids[0]],
                              ['Authorization', "Bearer $token{carol}"]]);
is($r->status, 200, 'carol ends one');
is(init('carol')->status, 200, 'and may start another');

is(init(undef, '/open')->status, 200, 'without mcp_auth: not counted');
is(init(undef, '/open')->status, 200, '... however many');

like($nginx->error_log, qr/\[warn\].*client "carol" has 3 sessions/,
     'the refusal is logged');
unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert');

no_secrets_logged();

done_testing();
