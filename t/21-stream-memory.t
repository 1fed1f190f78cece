# A long-lived stream keeps the worker's memory flat: each event's buffer
# is given back once it is sent, so 100,000 events through one HTTP with
# SSE stream (2024-11-05 basic/transports) leave the worker's RSS where it
# was.  The POSTs are pipelined on one connection to get them through
# quickly; a child process reads the stream as a client would.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

my $EVENTS = $ENV{TEST_STREAM_EVENTS} || 100_000;

my $nginx = start_nginx(
    workers => 1,
    http_config => 'mcp_session_zone zone=mcp:1m; keepalive_requests 1000000;',
    config => "location = /mcp { mcp; }\n");

my $port = $nginx->port;
my ($worker) = $nginx->worker_pids;

sub rss_kb {
    open my $fh, '<', "/proc/$worker/status" or return 0;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return 0;
}

# the legacy stream, read by a child that counts the events
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
    or die "connect: $!";
print $s "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
       . "Accept: text/event-stream\r\n\r\n";

my $head = '';
my $sel = IO::Select->new($s);
while ($head !~ /sessionId=([0-9a-f]{32})/) {
    $sel->can_read(5) or last;
    sysread($s, my $buf, 4096) or last;
    $head .= $buf;
}
my ($sid) = $head =~ /sessionId=([0-9a-f]{32})/;
ok($sid, 'the legacy stream names its session') or BAIL_OUT('no stream');

pipe(my $from_child, my $to_parent) or die $!;
my $child = fork // die $!;
if (!$child) {
    close $from_child;
    my ($n, $tail) = (0, '');
    while (sysread($s, my $buf, 65536)) {
        $buf = $tail . $buf;
        $n += () = $buf =~ /^event: message$/mg;
        # an event line cut between two reads is counted once, whole
        ($tail) = $buf =~ /((?:[^\n]*)\z)/;
        $n -= () = $tail =~ /^event: message$/mg;
    }
    print $to_parent "$n\n";
    exit 0;
}
close $to_parent;

# POSTs of ping on one connection, many in flight at once
my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
    or die "connect: $!";

my $accepted = 0;

sub post_pings {
    my ($count, $first) = @_;
    my $sent = 0;
    my $in = '';
    my $got = 0;
    while ($got < $count) {
        my $batch = '';
        while ($sent < $count && $sent - $got < 256) {
            my $body = '{"jsonrpc":"2.0","id":' . ($first + $sent)
                     . ',"method":"ping"}';
            $batch .= "POST /mcp?sessionId=$sid HTTP/1.1\r\nHost: localhost\r\n"
                    . "Content-Type: application/json\r\n"
                    . "Content-Length: " . length($body) . "\r\n\r\n$body";
            $sent++;
        }
        print $c $batch if length $batch;
        my $n = sysread($c, my $buf, 65536);
        die "connection closed after $got answers" unless $n;
        $in .= $buf;
        while ($in =~ s/^HTTP\/1\.1 (\d+)[^\r]*\r\n(?:[^\r]+\r\n)*\r\n//) {
            $got++;
            $accepted++ if $1 == 202;
        }
    }
}

# initialize, then warm up: buffers and pools reach their working size
my $init = '{"jsonrpc":"2.0","id":0,"method":"initialize","params":'
         . '{"protocolVersion":"2024-11-05","capabilities":{},'
         . '"clientInfo":{"name":"t","version":"1"}}}';
print $c "POST /mcp?sessionId=$sid HTTP/1.1\r\nHost: localhost\r\n"
       . "Content-Type: application/json\r\n"
       . "Content-Length: " . length($init) . "\r\n\r\n$init";
sysread($c, my $r, 4096);
like($r, qr{^HTTP/1\.1 202}, 'initialize is accepted');

post_pings(10_000, 1);
my $before = rss_kb();

my $t0 = time;
post_pings($EVENTS, 10_001);
my $secs = time - $t0;
my $after = rss_kb();

is($accepted, 10_000 + $EVENTS, "every POST got 202 ($accepted)");

close $c;

# the client leaves: the stream ends, and the child reports what it read
shutdown($s, 1);
close $s;
my $read = <$from_child>;
chomp($read //= 0);
waitpid($child, 0);

is($read, 1 + 10_000 + $EVENTS,
   'the stream carried every answer as an event');

my $growth = $after - $before;
diag(sprintf "worker RSS %d kB before, %d kB after %d events (%+d kB), "
           . "%.0f events/s", $before, $after, $EVENTS, $growth,
     $EVENTS / ($secs || 1));
SKIP: {
    skip 'ASan keeps freed memory in quarantine', 1
        if $ENV{TEST_NGINX_SANITIZED};
    cmp_ok($growth, '<', 1024,
           'the worker RSS grows by less than 1 MB over the events');
}

unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]/, 'no alerts');

done_testing();
