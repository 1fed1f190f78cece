#!/usr/bin/perl
# Server streams: what an idle stream costs and how long a message takes
# from its POST to the client's stream.
#
#   - memory: the workers' RSS (summed) before and after opening
#     SSE_STREAMS idle HTTP with SSE streams, per stream, and the kernel's
#     TCP socket memory (/proc/net/sockstat, both ends: on loopback the
#     client's sockets are this machine's too).
#   - capacity: more streams, up to SSE_MAX, until one fails: the largest
#     count held without an error on this machine (the client's descriptors
#     and ephemeral ports bound it before nginx does).
#   - latency: SSE_MESSAGES POSTs of ping, one at a time, each on a new
#     connection so that any worker may take it; the time from sending the
#     POST to reading its answer on the stream, split by whether the POST
#     was taken by the worker holding the stream or by another one (each
#     response names its worker in X-Worker).
#
#     perl tools/bench/sse.pl
#
# Environment: SSE_WORKERS (default 2), SSE_STREAMS (10000), SSE_MAX
# (20000; 0: no capacity run), SSE_MESSAGES (1000), MCP_MODULE,
# TEST_NGINX_BINARY.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../../t/lib";
use Test::McpNginx;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

my $workers  = $ENV{SSE_WORKERS}  || 2;
my $streams  = $ENV{SSE_STREAMS}  || 10000;
my $max      = $ENV{SSE_MAX} // 20000;
my $messages = $ENV{SSE_MESSAGES} || 1000;

# room for the streams' descriptors, within what this shell may have
chomp(my $hard = `sh -c 'ulimit -Hn'`);
$hard = 65536 if $hard !~ /^\d+$/ || $hard > 65536;

my $nginx = start_nginx(
    workers => $workers,
    main_config => "worker_rlimit_nofile $hard;",
    error_log_level => 'warn',
    worker_connections => $hard,
    http_config => "mcp_session_zone zone=mcp:64m;\n"
                 . "keepalive_timeout 0;\naccess_log off;",
    config => <<'CONF');
location = /mcp {
    mcp;
    add_header X-Worker $pid always;
}
CONF

my $port = $nginx->port;

sub rss_kb {
    my $sum = 0;
    for my $pid ($nginx->worker_pids) {
        open my $fh, '<', "/proc/$pid/status" or next;
        while (<$fh>) { $sum += $1 if /^VmRSS:\s+(\d+)/ }
    }
    return $sum;
}

# the kernel's memory for sockets: their buffers (sockstat, in pages) and
# the slab their structures live in, in kB
sub kernel_kb {
    my ($tcp, $slab) = (0, 0);
    if (open my $fh, '<', '/proc/net/sockstat') {
        while (<$fh>) { $tcp = $1 * 4 if /^TCP:.* mem (\d+)/ }
    }
    if (open my $fh, '<', '/proc/meminfo') {
        while (<$fh>) { $slab = $1 if /^Slab:\s+(\d+)/ }
    }
    return ($tcp, $slab);
}

# an HTTP with SSE stream: its socket, session and worker
sub open_stream {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!\n";
    print $s "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
           . "Accept: text/event-stream\r\n\r\n";
    my $head = '';
    my $sel = IO::Select->new($s);
    while ($head !~ /sessionId=[0-9a-f]{32}\n\n/) {
        $sel->can_read(5) or die "no endpoint event\n";
        sysread($s, my $buf, 4096) or die "stream closed\n";
        $head .= $buf;
    }
    my ($sid) = $head =~ /sessionId=([0-9a-f]{32})/;
    my ($worker) = $head =~ /^X-Worker: (\d+)/mi;
    return { sock => $s, sel => $sel, sid => $sid, worker => $worker };
}

sub post {
    my ($sid, $body) = @_;
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
    return ($status // 0, $worker);
}

sub pct {
    my ($list, $p) = @_;
    my @s = sort { $a <=> $b } @$list;
    return 0 unless @s;
    return $s[int(($#s) * $p / 100 + 0.5)];
}

# memory per idle stream
sleep 1;
my $before = rss_kb();
my ($tcp_before, $slab_before) = kernel_kb();
my $t0 = time;
my @open = map { open_stream() } 1 .. $streams;
my $opened = time - $t0;
sleep 1;
my $after = rss_kb();
my ($tcp_after, $slab_after) = kernel_kb();
printf "idle streams: %d over %d workers (opened in %.1f s)\n"
     . "  worker RSS %+d kB, %.1f kB per stream\n"
     . "  kernel: socket buffers %+d kB, slab %+d kB, %.1f kB per stream "
     . "(client and server ends together)\n",
     $streams, $workers, $opened, $after - $before,
     ($after - $before) / $streams, $tcp_after - $tcp_before,
     $slab_after - $slab_before, ($slab_after - $slab_before) / $streams;

# how many more it takes, until the first error
if ($max > $streams) {
    my $why = "reached SSE_MAX";
    while (@open < $max) {
        my $st = eval { open_stream() };
        if (!$st) { chomp($why = $@ || 'error'); last }
        push @open, $st;
    }
    # room for reading /proc again
    my $held = @open;
    close $_->{sock} for splice @open, -10;
    my $closed = 0;
    for my $st (@open) {
        next unless $st->{sel}->can_read(0);
        my $n = sysread($st->{sock}, my $buf, 65536);
        $closed++ if defined $n && $n == 0;
    }
    printf "capacity: %d streams held at once (stopped by: %s), %d of them "
         . "closed by the server, worker RSS %d kB\n", $held, $why, $closed,
         rss_kb();
}
close $_->{sock} for @open;
@open = ();
sleep 1;

# POST-to-event latency
my $st = open_stream();
my $init = '{"jsonrpc":"2.0","id":0,"method":"initialize","params":'
         . '{"protocolVersion":"2024-11-05","capabilities":{},'
         . '"clientInfo":{"name":"bench","version":"1"}}}';
my ($status) = answer(post($st->{sid}, $init));
die "initialize: $status" unless $status == 202;

my (%lat, $data);
$data = '';
for my $i (1 .. $messages) {
    my $t0 = time;
    my $c = post($st->{sid}, qq({"jsonrpc":"2.0","id":$i,"method":"ping"}));
    until ($data =~ /^data: \{"jsonrpc":"2\.0","id":$i,/m) {
        $st->{sel}->can_read(5) or die "message $i did not arrive";
        sysread($st->{sock}, my $buf, 65536) or die "stream closed";
        $data .= $buf;
    }
    my $t = time - $t0;
    $data = '';
    my ($code, $worker) = answer($c);
    die "POST $i: $code" unless $code == 202;
    push @{ $lat{ $worker == $st->{worker} ? 'same' : 'other' } }, $t * 1e6;
}

for my $k ('same', 'other') {
    my $l = $lat{$k} || [];
    printf "POST to event, %s worker: %d messages, median %.0f us, "
         . "p99 %.0f us\n", $k, scalar @$l, pct($l, 50), pct($l, 99);
}

my $errors = () = $nginx->error_log =~ /\[(alert|crit|emerg)\]/g;
if ($errors) { print $nginx->error_log; die "nginx logged $errors alerts\n" }
