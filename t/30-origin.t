# Origin checks against DNS rebinding (2025-11-25 basic/transports,
# security warning; README "mcp_allowed_origins"): requests without Origin
# and from the gateway's own host pass; other origins get 403 unless
# listed; "*" lets any through.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;

my $nginx = start_nginx(
    http_config => 'mcp_session_zone zone=mcp:1m;',
    config => <<'CONF');
location = /mcp { mcp; }
location = /listed {
    mcp;
    mcp_allowed_origins https://app.example.com http://localhost:3000;
}
location = /any { mcp; mcp_allowed_origins *; }
CONF

my $port = $nginx->port;

sub init {
    my ($path, $origin) = @_;
    return json_rpc(port => $port, path => $path,
                    headers => [defined $origin ? (['Origin', $origin]) : ()],
                    message => { jsonrpc => '2.0', id => 1,
                                 method => 'initialize',
                                 params => { protocolVersion => '2025-11-25',
                                             capabilities => {},
                                             clientInfo => { name => 't',
                                                             version => '1' } } });
}

is(init('/mcp')->status, 200, 'no Origin (not a browser): 200');
is(init('/mcp', 'http://localhost')->status, 200,
   'an origin naming the Host: 200');
is(init('/mcp', 'HTTPS://LOCALHOST')->status, 200, 'in any case');

my $r = init('/mcp', 'http://evil.example');
is($r->status, 403, 'another origin: 403');
is($r->json->{error}{code}, -32000, 'with a JSON-RPC error');
is(init('/mcp', 'null')->status, 403, 'Origin: null: 403');
is(init('/mcp', 'http://localhost.evil.example')->status, 403,
   'a host that only starts like ours: 403');
is(init('/mcp', 'http://localhost:8080')->status, 403,
   'our host on another port: 403');

is(init('/listed', 'https://app.example.com')->status, 200, 'a listed origin');
is(init('/listed', 'http://localhost:3000')->status, 200, 'another');
is(init('/listed', 'https://app.example.com.evil')->status, 403,
   'not a prefix match');
is(init('/listed', 'http://localhost')->status, 200,
   'the own host still passes');

is(init('/any', 'http://anything.example')->status, 200, '"*": any origin');

like($nginx->error_log, qr/\[warn\].*mcp: origin "http:\/\/evil\.example" is not allowed/,
     'refusals are logged with the origin');
unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert');

done_testing();
