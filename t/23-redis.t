# mcp_redis: each worker keeps a command connection and a subscription to
# its own channel (<prefix>w:<node>:<pid>) in a real redis-server; an
# outage shows in /health/ready (503 naming redis) and ends by itself when
# Redis returns, without a reload; reload and quit leave no connection
# behind.  README "mcp_redis".

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use Time::HiRes qw(time sleep);

# configuration errors
my @bad = (
    ['mcp_redis 127.0.0.1:6379 db=x;', qr/invalid parameter "db=x"/],
    ['mcp_redis 127.0.0.1:6379 connect_timeout=0;',
     qr/invalid parameter "connect_timeout=0"/],
    ['mcp_redis 127.0.0.1:6379 "prefix=a b";', qr/invalid parameter "prefix=a b"/],
    ['mcp_redis 127.0.0.1:6379 frob=1;', qr/invalid parameter "frob=1"/],
    ['mcp_redis 127.0.0.1:6379; mcp_redis 127.0.0.1:6380;',
     qr/"mcp_redis" directive is duplicate/],
    ['mcp_redis 127.0.0.1:6379/x;', qr/invalid host in "127\.0\.0\.1:6379\/x"/],
    ['mcp_redis unix:;', qr/no path in the unix domain socket/],
    ['mcp_node_id "a:b";', qr/other than ":"/],
);
for my $b (@bad) {
    my ($ok, $out) = start_nginx(
        test_only => 1,
        http_config => "mcp_session_zone zone=mcp:1m;\n$b->[0]",
        config => 'location = /mcp { mcp; }');
    ok(!$ok, "nginx -t refuses: $b->[0]");
    like($out, $b->[1], '... saying why');
}

my ($ok, $out) = start_nginx(test_only => 1,
                             http_config => 'mcp_redis 127.0.0.1:6379;',
                             config => '');
ok(!$ok, 'mcp_redis without mcp_session_zone is refused');
like($out, qr/"mcp_redis" requires "mcp_session_zone"/, '... saying why');

my $redis = start_redis();
my $rport = $redis->port;

my $nginx = start_nginx(
    workers => 2,
    http_config => "mcp_session_zone zone=mcp:1m;\n"
                 . "mcp_redis 127.0.0.1:$rport prefix=t23: "
                 . "connect_timeout=500ms command_timeout=500ms;\n"
                 . "mcp_node_id node-a;",
    config => <<'CONF');
location = /mcp { mcp; }
location = /ready { mcp_health ready; }
CONF

my $port = $nginx->port;

sub ready { http_request(port => $port, path => '/ready') }


sub channels { sort split /\n/, $redis->cli('PUBSUB', 'CHANNELS', 't23:*') }
sub nchannels { my @c = channels(); scalar @c }

sub clients {
    scalar grep { !/cmd=client/ } split /\n/, $redis->cli('CLIENT', 'LIST');
}

my @workers = sort $nginx->worker_pids;
ok(wait_for(5, sub { nchannels() == 2 }),
   'each worker subscribes to its channel');
is_deeply([channels()], [sort map { "t23:w:node-a:$_" } @workers],
          'named <prefix>w:<node>:<pid>');
is(clients(), 4, 'two connections per worker');

my $r = ready();
is($r->status, 200, 'ready');
is($r->json->{dependencies}{redis}{status}, 'ok', 'ready names redis: ok');

# Redis goes away: not ready, naming redis
$redis->stop;
ok(wait_for(3, sub { ready()->status == 503 }),
   'Redis killed: /health/ready 503');
$r = ready();
is($r->json->{dependencies}{redis}{status}, 'failing',
   'naming redis as failing');
is($r->json->{dependencies}{session_zone}{status}, 'ok',
   'the session zone is still fine');

# MCP over Streamable HTTP keeps working on this host meanwhile
my ($sid) = mcp_initialize(port => $port, version => '2025-06-18');
like($sid, qr/^[0-9a-f]{32}$/, 'a session starts while Redis is down');

# Redis returns, no reload needed
sleep 1;
$redis->start;
my $t0 = time;
ok(wait_for(8, sub { ready()->status == 200 && ready()->status == 200 }),
   sprintf('Redis back: ready again (%.1f s)', time - $t0));
ok(wait_for(3, sub { nchannels() == 2 }), 'both workers subscribed again');
cmp_ok(ready()->json->{dependencies}{redis}{reconnects}, '>=', 1,
       'the worker counts its reconnects');

# reload: the old workers' connections go, the new ones come
$nginx->reload;
ok(wait_for(5, sub {
        my %old = map { $_ => 1 } @workers;
        my @new = grep { !$old{$_} } $nginx->worker_pids;
        return @new == 2 && !grep { kill 0, $_ } @workers;
    }), 'reload: the old workers exit');
my @new = sort $nginx->worker_pids;
ok(wait_for(5, sub { clients() == 4 }),
   'reload: four connections, none left by the old workers');
is_deeply([channels()], [sort map { "t23:w:node-a:$_" } @new],
          'reload: the channels are the new workers\'');

# a Redis that stops answering (SIGSTOP) is found out by the PING
kill 'STOP', $redis->pid;
ok(wait_for(6, sub { ready()->status == 503 }),
   'a Redis that does not answer: 503 within the PING interval and '
   . 'command_timeout');
kill 'CONT', $redis->pid;
ok(wait_for(8, sub { ready()->status == 200 && ready()->status == 200 }),
   'and ready again once it answers');

# a Unix socket address works the same
{
    my $u = start_nginx(
        http_config => "mcp_session_zone zone=mcp:1m;\n"
                     . "mcp_redis unix:" . $redis->unix_path
                     . " prefix=t23u: db=1;\nmcp_node_id node-u;",
        config => 'location = /ready { mcp_health ready; }');
    ok(wait_for(5, sub {
            http_request(port => $u->port, path => '/ready')->status == 200 }),
       'mcp_redis unix:/path: ready');
    my ($w) = $u->worker_pids;
    ok(wait_for(3, sub {
            $redis->cli('PUBSUB', 'CHANNELS', 't23u:*') eq "t23u:w:node-u:$w" }),
       'and subscribed over the Unix socket');
    $u->stop;
}

# quit: nothing left open
my $master = $nginx->master_pid;
kill 'QUIT', $master;
ok(wait_for(5, sub { !kill 0, $master }), 'nginx -s quit: nginx exits');
ok(wait_for(3, sub { clients() == 0 }), 'no connection left in Redis');

my $log = $nginx->error_log;
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert: no socket left open');
like($log, qr/mcp: redis 127\.0\.0\.1:$rport is down/, 'the outage is logged');
like($log, qr/mcp: redis 127\.0\.0\.1:$rport is up again/,
     'and its end');

done_testing();
