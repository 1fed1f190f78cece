# Streamable HTTP sessions across hosts: two nginx instances (separate
# prefixes, session zones and node ids) share one real redis-server; a
# session initialized on A is valid on B, a DELETE on B ends it on A within
# the one-second check, and in a Redis outage each host keeps its own
# sessions while a session it cannot check gets 503 with Retry-After.
# README "mcp_redis" and "Sessions across hosts".

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use IO::Select;

my $redis = start_redis();
my $rport = $redis->port;

my $backend = start_backend('example_backend.py');

sub instance {
    my ($node) = @_;
    return start_nginx(
        workers => 2,
        http_config => "mcp_session_zone zone=mcp:1m;\n"
                     . "mcp_redis 127.0.0.1:$rport prefix=t24: "
                     . "connect_timeout=500ms command_timeout=500ms;\n"
                     . "mcp_node_id $node;",
        backend_port => $backend->port,
        config => <<'CONF');
location = /mcp {
    mcp;
    mcp_tool echo /tools/echo description="Echo";
}
location /tools/ {
    internal;
    proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/;
}
location = /ready { mcp_health ready; }
location = /notify { mcp_notify; }
CONF
}

my $a = instance('node-a');
my $b = instance('node-b');


sub ready { http_request(port => $_[0]->port, path => '/ready')->status }

ok(wait_for(5, sub { ready($a) == 200 && ready($b) == 200 }),
   'both instances are ready with Redis');

sub call {
    my ($nginx, $sid, $method, $params) = @_;
    return json_rpc(port => $nginx->port, session => $sid,
                    version => '2025-06-18',
                    message => { jsonrpc => '2.0', id => 1,
                                 method => $method,
                                 params => $params // {} });
}

my ($sid) = mcp_initialize(port => $a->port, version => '2025-06-18');
like($sid, qr/^[0-9a-f]{32}$/, 'initialize on A');
is($redis->cli('GET', "t24:s:$sid"), '3 0',
   'the session is in Redis before the client has its id');
my $ttl = $redis->cli('PTTL', "t24:s:$sid");
cmp_ok($ttl, '>', 3_500_000, "with the zone's idle_timeout as lifetime ($ttl ms)");

my $r = call($b, $sid, 'tools/list');
is($r->status, 200, 'tools/list for it on B: 200');
is($r->json->{result}{tools}[0]{name}, 'echo', 'with B\'s tools');

$r = call($b, $sid, 'tools/call', { name => 'echo', arguments => { message => 'hi' } });
is($r->status, 200, 'tools/call on B: 200');
like($r->body, qr/hi/, 'answered by the tool through B');

$r = call($a, $sid, 'ping');
is($r->status, 200, 'and A still takes it');

# keep-alive: the answer may be sent, and the request freed, while the
# Redis lookup's continuation is still on the stack (make sanitize)
{
    my ($ks) = mcp_initialize(port => $a->port, version => '2025-06-18');
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $b->port,
                                  Timeout => 5) or die $!;
    my $got = 0;
    for my $i (1 .. 3) {
        my $body = qq({"jsonrpc":"2.0","id":$i,"method":"ping"});
        print $c "POST /mcp HTTP/1.1\r\nHost: localhost\r\n"
               . "Content-Type: application/json\r\n"
               . "Accept: application/json, text/event-stream\r\n"
               . "Mcp-Session-Id: $ks\r\nMCP-Protocol-Version: 2025-06-18\r\n"
               . "Content-Length: " . length($body) . "\r\n\r\n$body";
        my $resp = '';
        my $sel = IO::Select->new($c);
        while ($resp !~ /\r\n\r\n.*"id":$i,/s) {
            $sel->can_read(5) or last;
            sysread($c, my $buf, 4096) or last;
            $resp .= $buf;
        }
        $got++ if $resp =~ m{^HTTP/1\.1 200};
        sleep 1.1 if $i < 3;    # past the check: asked again
    }
    is($got, 3, 'three pings on one keep-alive connection to B, each '
                . 'checked with Redis: 200');
}

$r = call($b, '0123456789abcdef0123456789abcdef', 'ping');
is($r->status, 404, 'an unknown session on B: 404');

# DELETE on B: A sees it gone within its one-second check
$r = http_request(port => $b->port, method => 'DELETE', path => '/mcp',
                  headers => [['Mcp-Session-Id', $sid]]);
is($r->status, 200, 'DELETE on B: 200');
is($redis->cli('EXISTS', "t24:s:$sid"), '0', 'the session is gone from Redis');
my $t0 = time;
ok(wait_for(3, sub { call($a, $sid, 'ping')->status == 404 }),
   sprintf('A answers 404 for it (%.1f s after the DELETE)', time - $t0));

# a session used on both
my ($s2) = mcp_initialize(port => $a->port, version => '2025-06-18');
is(call($b, $s2, 'ping')->status, 200, 'a second session, used on B');
my ($s3) = mcp_initialize(port => $a->port, version => '2025-06-18');

# Redis goes away
$redis->stop;
ok(wait_for(3, sub { ready($a) == 503 && ready($b) == 503 }),
   'Redis killed: both instances are not ready');

is(call($a, $s2, 'ping')->status, 200,
   'A keeps serving its own session from its zone');
is(call($b, $s2, 'ping')->status, 200,
   'B keeps serving the session it already knows');
$r = call($b, $s3, 'ping');
is($r->status, 503, 'B cannot check a session it never saw: 503');
is($r->header('Retry-After'), '1', 'with Retry-After');
is($r->json->{error}{code}, -32000, 'and a JSON-RPC error');

my ($s4) = mcp_initialize(port => $a->port, version => '2025-06-18');
like($s4 // '', qr/^[0-9a-f]{32}$/, 'a new session on A during the outage');

# Redis returns empty: A registers its sessions again
$redis->start;
ok(wait_for(8, sub { ready($a) == 200 && ready($b) == 200 }),
   'Redis back: both ready again, no reload');

# each worker reconnects on its own schedule: all four subscribed again
ok(wait_for(10, sub {
        my @c = split /\n/, $redis->cli('PUBSUB', 'CHANNELS', 't24:*');
        @c == 4 }),
   'every worker of both instances is back');
ok(wait_for(3, sub { $redis->cli('EXISTS', "t24:s:$s4") eq '1' }),
   'the session made during the outage is registered');
ok(wait_for(3, sub { $redis->cli('EXISTS', "t24:s:$s3") eq '1' }),
   'and the older ones, which the new Redis had lost');
is(call($b, $s4, 'ping')->status, 200, 'B takes the outage session');
is(call($b, $s3, 'ping')->status, 200, 'and the older one');

# HTTP with SSE: the stream on A, the POSTs on B (2024-11-05
# basic/transports): every answer arrives on A's stream, once
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $a->port,
                                  Timeout => 5) or die $!;
    print $s "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
           . "Accept: text/event-stream\r\n\r\n";
    my $sel = IO::Select->new($s);
    my $data = '';
    my $read = sub {
        my ($until, $secs) = @_;
        my $end = time + $secs;
        until ($data =~ $until) {
            my $left = $end - time;
            last if $left <= 0 || !$sel->can_read($left);
            sysread($s, my $buf, 65536) or last;
            $data .= $buf;
        }
        return $data =~ $until;
    };
    ok($read->(qr/sessionId=[0-9a-f]{32}\n\n/, 5), 'a legacy stream on A');
    my ($lsid) = $data =~ /sessionId=([0-9a-f]{32})/;
    like($redis->cli('GET', "t24:o:$lsid"), qr/^node-a:\d+$/,
         'Redis names the worker holding it');

    my $post = sub {
        my ($nginx, $body) = @_;
        http_request(port => $nginx->port, method => 'POST',
                     path => "/mcp?sessionId=$lsid",
                     headers => [['Content-Type', 'application/json']],
                     body => $body);
    };
    is($post->($b, '{"jsonrpc":"2.0","id":0,"method":"initialize","params":'
                 . '{"protocolVersion":"2024-11-05","capabilities":{},'
                 . '"clientInfo":{"name":"t","version":"1"}}}')->status, 202,
       'initialize POSTed to B: 202');
    ok($read->(qr/"id":0,"result":\{"protocolVersion":"2024-11-05"/, 5),
       'its answer is on the stream on A');
    is($post->($a, '{"jsonrpc":"2.0","id":"tl","method":"tools/list"}')
           ->status, 202, 'tools/list POSTed to A at once: 202');
    ok($read->(qr/"id":"tl","result":\{"tools":/, 5),
       'A knows the session was initialized through B');

    my $ok = 0;
    for my $i (1 .. 20) {
        my $r = $post->($i % 2 ? $b : $a,
                        qq({"jsonrpc":"2.0","id":$i,"method":"ping"}));
        $ok++ if $r->status == 202 && $read->(qr/"id":$i,"result"/, 5);
    }
    is($ok, 20, 'POSTs on B and A: each 202 with its answer on the stream');

    my $h = http_request(port => $b->port, path => '/ready')->json;
    cmp_ok($h->{messages}{redis}, '>=', 11, 'B counts them as sent by Redis');

    # the client leaves: its session ends on every host (within the check
    # interval, or the six seconds after Redis came back above)
    close $s;
    ok(wait_for(10, sub {
            $post->($b, '{"jsonrpc":"2.0","id":99,"method":"ping"}')->status
                == 404 }),
       'after the stream closed, B answers 404');
    is($redis->cli('EXISTS', "t24:o:$lsid", "t24:s:$lsid"), '0',
       'and Redis forgot the session and its stream');
}

# Streamable HTTP: one GET stream per session over all hosts, and a
# notification pushed on B reaches the stream on A
{
    my ($sid) = mcp_initialize(port => $a->port, version => '2025-06-18');
    my $open = sub {
        my ($nginx) = @_;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $nginx->port,
                                      Timeout => 5) or die $!;
        print $s "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
               . "Accept: text/event-stream\r\nMcp-Session-Id: $sid\r\n"
               . "MCP-Protocol-Version: 2025-06-18\r\n\r\n";
        my $sel = IO::Select->new($s);
        my $data = '';
        while ($data !~ /\r\n\r\n/) {
            $sel->can_read(5) or last;
            sysread($s, my $buf, 4096) or last;
            $data .= $buf;
        }
        return { sock => $s, sel => $sel, data => $data };
    };
    my $sa = $open->($a);
    like($sa->{data}, qr{^HTTP/1\.1 200}, 'a GET stream on A');
    my $sb = $open->($b);
    like($sb->{data}, qr{^HTTP/1\.1 409}, 'a second one on B: 409');
    close $sb->{sock};

    my $r = http_request(port => $b->port, method => 'POST', path => '/notify',
                         headers => [['Content-Type', 'application/json'],
                                     ['Mcp-Session-Id', $sid]],
                         body => '{"jsonrpc":"2.0","method":"notifications/'
                               . 'message","params":{"level":"info",'
                               . '"data":"from B"}}');
    is($r->status, 202, 'a notification pushed on B: 202');
    my $end = time + 5;
    while ($sa->{data} !~ /"data":"from B"/ && time < $end) {
        $sa->{sel}->can_read(0.5) or next;
        sysread($sa->{sock}, my $buf, 65536) or last;
        $sa->{data} .= $buf;
    }
    like($sa->{data}, qr/event: message\ndata: \{"jsonrpc":"2\.0","method":/,
         'it is on the stream on A');

    close $sa->{sock};
    ok(wait_for(5, sub { $redis->cli('EXISTS', "t24:o:$sid") eq '0' }),
       'the stream closed: Redis forgets its owner');
    $sb = $open->($b);
    like($sb->{data}, qr{^HTTP/1\.1 200}, 'and B may open it now');
    close $sb->{sock};
}

for my $n ($a, $b) {
    unlike($n->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert on ' . $n->port);
}

# the owner dies (SIGKILL, no cleanup): POSTs for its legacy session get
# 404 on B, a Streamable HTTP session made on it lives on
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $a->port,
                                  Timeout => 5) or die $!;
    print $s "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
           . "Accept: text/event-stream\r\n\r\n";
    my $sel = IO::Select->new($s);
    my $data = '';
    while ($data !~ /sessionId=[0-9a-f]{32}\n\n/) {
        $sel->can_read(5) or last;
        sysread($s, my $buf, 4096) or last;
        $data .= $buf;
    }
    my ($lsid) = $data =~ /sessionId=([0-9a-f]{32})/;
    my $post = sub {
        http_request(port => $b->port, method => 'POST',
                     path => "/mcp?sessionId=$lsid",
                     headers => [['Content-Type', 'application/json']],
                     body => $_[0]);
    };
    is($post->('{"jsonrpc":"2.0","id":0,"method":"initialize","params":'
               . '{"protocolVersion":"2024-11-05","capabilities":{},'
               . '"clientInfo":{"name":"t","version":"1"}}}')->status, 202,
       'a legacy session on A, used through B');

    my ($keep) = mcp_initialize(port => $a->port, version => '2025-06-18');
    is(call($b, $keep, 'ping')->status, 200,
       'and a Streamable HTTP session made on A, used on B');

    kill 'KILL', $a->master_pid, $a->worker_pids;
    close $s;

    my $t0 = time;
    my %seen;
    # until Redis has seen the dead worker's connection close, a message
    # may still count it as a listener: 504, an explicit failure
    ok(wait_for(12, sub {
            my $st = $post->('{"jsonrpc":"2.0","id":1,"method":"ping"}')
                          ->status // 0;
            $seen{$st}++;
            $st == 404 }),
       sprintf('A killed: POSTs for its legacy session get 404 on B '
               . '(%.1f s)', time - $t0)) or diag(join ' ', %seen);
    note('statuses on B after the kill: ' . join ' ', %seen);
    ok(!grep({ $_ == 202 } keys %seen), 'never a 202 for a dead stream')
        or diag(join ' ', %seen);
    is($redis->cli('EXISTS', "t24:o:$lsid", "t24:s:$lsid"), '0',
       'and its records are gone from Redis');
    is(call($b, $keep, 'ping')->status, 200,
       'the Streamable HTTP session lives on, on B');

    # reload B: no connection left by the old generation, sessions kept
    my @old = $b->worker_pids;
    ok($b->reload, 'reload B');
    ok(wait_for(5, sub { !grep { kill 0, $_ } @old }), 'its old workers exit');
    ok(wait_for(5, sub {
            my @c = grep { !/cmd=client/ } split /\n/,
                    $redis->cli('CLIENT', 'LIST');
            @c == 4 }),
       'Redis sees only the new workers\' four connections');
    is(call($b, $keep, 'ping')->status, 200, 'the session survives the reload');
    is($redis->cli('EXISTS', "t24:s:$keep"), '1', 'and stays in Redis');
}

done_testing();
