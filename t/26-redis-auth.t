# mcp_redis with password= and db= (README "mcp_redis"): the right password
# and database are used; a wrong password is a clear error in the log and
# a not-ready probe, and nothing else breaks.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;

my $redis = start_redis(password => 's3cret-Pw');
my $rport = $redis->port;

sub instance {
    my ($password) = @_;
    return start_nginx(
        http_config => "mcp_session_zone zone=mcp:1m;\n"
                     . "mcp_redis 127.0.0.1:$rport db=3 password=$password "
                     . "prefix=t26: connect_timeout=500ms;\n"
                     . "mcp_node_id node-p;",
        config => <<'CONF');
location = /mcp { mcp; }
location = /ready { mcp_health ready; }
CONF
}

my $good = instance('s3cret-Pw');
ok(wait_for(5, sub {
        http_request(port => $good->port, path => '/ready')->status == 200 }),
   'the right password: ready');

my ($sid) = mcp_initialize(port => $good->port, version => '2025-06-18');
is($redis->cli('-n', 3, 'GET', "t26:s:$sid"), '3 0',
   'the session is in database 3');
is($redis->cli('-n', 0, 'EXISTS', "t26:s:$sid"), '0', 'not in database 0');
$good->stop;

my $bad = instance('n0t-the-Pw');
ok(wait_for(3, sub { $bad->error_log =~ /AUTH failed/ }),
   'a wrong password: the log says AUTH failed');
like($bad->error_log, qr/mcp: redis 127\.0\.0\.1:$rport: AUTH failed: \S+/,
     '... naming Redis and its answer');
unlike($bad->error_log, qr/n0t-the-Pw/, 'without the password itself');

my $r = http_request(port => $bad->port, path => '/ready');
is($r->status, 503, 'and /health/ready is 503');
is($r->json->{dependencies}{redis}{status}, 'failing', 'naming redis');

my ($local) = mcp_initialize(port => $bad->port, version => '2025-06-18');
like($local // '', qr/^[0-9a-f]{32}$/,
     'sessions are still made on this host meanwhile');

unlike($bad->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert');

done_testing();
