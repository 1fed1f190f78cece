# Redis killed and restarted under steady traffic (README "Streams across
# hosts", "Sessions across hosts"): HTTP with SSE streams on instance A,
# a POST every few milliseconds to A or B.  Every POST gets either 202,
# and then its answer is on its stream, or an explicit error status with
# a JSON-RPC error; nothing is lost silently.  The test counts both sides.
# Service through B comes back within a few seconds of Redis, without a
# reload, and /health/ready goes 503 then 200.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

my $redis = start_redis();
my $rport = $redis->port;

sub instance {
    my ($node) = @_;
    return start_nginx(
        workers => 2,
        http_config => "mcp_session_zone zone=mcp:1m;\n"
                     . "mcp_redis 127.0.0.1:$rport prefix=t25: "
                     . "connect_timeout=300ms command_timeout=300ms;\n"
                     . "mcp_node_id $node;\nkeepalive_timeout 0;",
        config => <<'CONF');
location = /mcp { mcp; mcp_sse_ping_interval 1s; }
location = /ready { mcp_health ready; }
CONF
}

my $a = instance('node-a');
my $b = instance('node-b');

sub channels {
    my @c = split /\n/, $redis->cli('PUBSUB', 'CHANNELS', 't25:*');
    scalar @c;
}

ok(wait_for(5, sub { channels() == 4 }), 'both instances are up');

# three legacy streams on A
my @streams;
for (1 .. 3) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $a->port,
                                  Timeout => 5) or die $!;
    print $s "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
           . "Accept: text/event-stream\r\n\r\n";
    my $st = { sock => $s, sel => IO::Select->new($s), data => '' };
    while ($st->{data} !~ /sessionId=([0-9a-f]{32})\n\n/) {
        $st->{sel}->can_read(5) or last;
        sysread($s, my $buf, 4096) or last;
        $st->{data} .= $buf;
    }
    ($st->{sid}) = $st->{data} =~ /sessionId=([0-9a-f]{32})/;
    push @streams, $st;
}
is(scalar(grep { $_->{sid} } @streams), 3, 'three HTTP with SSE streams on A');

sub drain {
    for my $st (@streams) {
        while ($st->{sel}->can_read(0)) {
            sysread($st->{sock}, my $buf, 65536) or last;
            $st->{data} .= $buf;
        }
    }
}

sub post {
    my ($nginx, $st, $body) = @_;
    return http_request(port => $nginx->port, method => 'POST',
                        path => "/mcp?sessionId=$st->{sid}",
                        headers => [['Content-Type', 'application/json']],
                        body => $body, timeout => 10);
}

for my $st (@streams) {
    post($a, $st, '{"jsonrpc":"2.0","id":"init","method":"initialize",'
                . '"params":{"protocolVersion":"2024-11-05",'
                . '"capabilities":{},"clientInfo":{"name":"t",'
                . '"version":"1"}}}');
}

# steady traffic; Redis goes away after 1 s and comes back 1.5 s later
my (%status, @accepted, @refused, $bad);
my $n = 0;
my $t0 = time;
my ($killed, $restarted, $ready503, $back);

while (time - $t0 < 9) {
    my $t = time - $t0;

    if (!$killed && $t > 1) {
        $redis->stop;
        $killed = time;
    }

    if ($killed && !$restarted && time - $killed > 1.5) {
        $ready503 = http_request(port => $b->port, path => '/ready')->status;
        $redis->start;
        $restarted = time;
    }

    my $st = $streams[$n % 3];
    my $via = $n % 2 ? $b : $a;
    my $id = "m$n";
    my $r = post($via, $st, qq({"jsonrpc":"2.0","id":"$id","method":"ping"}));
    my $code = $r->status // 0;
    $status{$code}++;

    if ($code == 202) {
        push @accepted, [$st, $id, $via == $b, time - $t0];
        $back //= time if $restarted && $via == $b;

    } else {
        push @refused, [$st, $id, $code];
        # an explicit refusal: an error status and a JSON-RPC error body
        $bad++ unless $code >= 400 && ($r->body // '') =~ /"error":\{"code":-3200/;
    }

    $n++;
    drain();
    sleep 0.003;
}

drain();
sleep 0.5;
drain();

note('statuses: ' . join ', ', map { "$_: $status{$_}" } sort keys %status);

cmp_ok(scalar @accepted, '>', 100, 'many POSTs accepted (' . scalar(@accepted)
                                   . " of $n)");
ok(scalar(grep { $_->[2] == 503 || $_->[2] == 504 } @refused) > 0,
   'some POSTs through B refused during the outage (503/504)');
ok(!$bad, 'every refusal is an error status with a JSON-RPC error body');
ok(!$status{404}, 'no live session is taken for gone while Redis '
                  . 'comes back empty');

# zero silent losses: every 202 has its answer on its own stream
my $lost = 0;
for my $acc (@accepted) {
    my ($st, $id) = @$acc;
    my $count = () = $st->{data} =~ /"id":"\Q$id\E","result"/g;
    $lost++ unless $count == 1;
}
is($lost, 0, 'every 202 had its answer on its stream, exactly once');

is($ready503, 503, '/health/ready was 503 during the outage');
ok($back && $back - $restarted < 5,
   sprintf('POSTs through B are accepted again %.1f s after Redis is back',
           $back ? $back - $restarted : -1));
ok(wait_for(5, sub {
        http_request(port => $b->port, path => '/ready')->status == 200 }),
   '/health/ready is 200 again');

for my $nginx ($a, $b) {
    unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]/,
           'no alert on ' . $nginx->port);
}

done_testing();
