#!/usr/bin/perl
# Messages across hosts: the time from a POST to its answer on an HTTP with
# SSE stream when the POST reaches the host holding the stream (the same
# worker, or another worker over the Unix socket) and when it reaches
# another host (through Redis), measured in one run on two nginx instances
# sharing a redis-server.  Each POST is sent on a new connection, one at a
# time.
#
#     perl tools/bench/cluster.pl
#
# Environment: CLUSTER_MESSAGES (default 1000 per host), MCP_MODULE,
# TEST_NGINX_BINARY.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../../t/lib";
use Test::McpNginx;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

my $messages = $ENV{CLUSTER_MESSAGES} || 1000;

my $redis = start_redis();

sub host {
    my ($node) = @_;
    return start_nginx(
        workers => 2,
        error_log_level => 'warn',
        http_config => "mcp_session_zone zone=mcp:16m;\n"
                     . "mcp_redis 127.0.0.1:" . $redis->port . ";\n"
                     . "mcp_node_id $node;\nkeepalive_timeout 0;\n"
                     . "access_log off;",
        config => <<'CONF');
location = /mcp {
    mcp;
    add_header X-Worker $pid always;
}
location = /ready { mcp_health ready; }
CONF
}

my $ha = host('bench-a');
my $hb = host('bench-b');

for my $n ($ha, $hb) {
    wait_for(10, sub {
        http_request(port => $n->port, path => '/ready')->status == 200 })
        or die "nginx on port ${\ $n->port } did not reach Redis\n";
}

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $ha->port,
                              Timeout => 5) or die "connect: $!";
print $s "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
       . "Accept: text/event-stream\r\n\r\n";
my $sel = IO::Select->new($s);
my $data = '';
while ($data !~ /sessionId=[0-9a-f]{32}\n\n/) {
    $sel->can_read(5) or die "no endpoint event\n";
    sysread($s, my $buf, 4096) or die "stream closed\n";
    $data .= $buf;
}
my ($sid) = $data =~ /sessionId=([0-9a-f]{32})/;
my ($owner) = $data =~ /^X-Worker: (\d+)/mi;

sub post {
    my ($port, $body) = @_;
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    print $c "POST /mcp?sessionId=$sid HTTP/1.1\r\nHost: localhost\r\n"
           . "Content-Type: application/json\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    return $c;
}

sub answer {
    my ($c) = @_;
    my $r = '';
    while (sysread($c, my $buf, 4096)) { $r .= $buf }
    my ($status) = $r =~ m{^HTTP/1\.1 (\d+)};
    my ($worker) = $r =~ /^X-Worker: (\d+)/mi;
    return ($status // 0, $worker // 0);
}

my ($st) = answer(post($ha->port,
    '{"jsonrpc":"2.0","id":0,"method":"initialize","params":'
    . '{"protocolVersion":"2024-11-05","capabilities":{},'
    . '"clientInfo":{"name":"bench","version":"1"}}}'));
die "initialize: $st\n" unless $st == 202;

my %lat;
my $n = 0;
for my $host ([$ha, 'this host'], [$hb, 'another host']) {
    for (1 .. $messages) {
        my $i = ++$n;
        my $t0 = time;
        my $c = post($host->[0]->port,
                     qq({"jsonrpc":"2.0","id":$i,"method":"ping"}));
        $data = '';
        until ($data =~ /"id":$i,/) {
            $sel->can_read(5) or die "message $i did not arrive\n";
            sysread($s, my $buf, 65536) or die "stream closed\n";
            $data .= $buf;
        }
        my $t = (time - $t0) * 1e6;
        my ($code, $worker) = answer($c);
        die "POST $i: $code\n" unless $code == 202;
        my $k = $host->[1] eq 'another host' ? 'another host (Redis)'
              : $worker == $owner ? 'this host, same worker'
              : 'this host, another worker (Unix socket)';
        push @{ $lat{$k} }, $t;
    }
}

sub pct {
    my ($list, $p) = @_;
    my @s = sort { $a <=> $b } @$list;
    return $s[int($#s * $p / 100 + 0.5)];
}

for my $k (sort keys %lat) {
    printf "POST to event, %s: %d messages, median %.0f us, p99 %.0f us\n",
           $k, scalar @{ $lat{$k} }, pct($lat{$k}, 50), pct($lat{$k}, 99);
}
