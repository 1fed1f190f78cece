#!/usr/bin/perl
# Server streams: what an idle stream costs and how long a message takes
# from its POST to the client's stream.
#
#   - memory: the workers' RSS (summed) before and after opening
#     SSE_STREAMS idle HTTP with SSE streams, per stream, and the kernel's
#     TCP socket memory (/proc/net/sockstat, both ends: on loopback the
#     client's sockets are this machine's too).
#   - capacity: streams opened by several client processes, each from a
#     source address of its own, until SSE_MAX are open or one fails: the
#     largest count held at once on this machine (nginx's descriptors and
#     worker_connections, as this shell's limit sets them, bound it).
#   - one stream: SSE_RATE_MESSAGES POSTs, SSE_WINDOW of them in flight,
#     and the messages per second that reach the stream.
#   - latency: SSE_MESSAGES POSTs of ping, one at a time, each on a new
#     connection so that any worker may take it; the time from sending the
#     POST to reading its answer on the stream, split by whether the POST
#     was taken by the worker holding the stream or by another one (each
#     response names its worker in X-Worker).
#
#     perl tools/bench/sse.pl
#
# Environment: SSE_WORKERS (default 2), SSE_STREAMS (10000), SSE_MAX
# (60000; 0: no capacity run), SSE_MESSAGES (1000), SSE_RATE_MESSAGES
# (5000), SSE_WINDOW (32), MCP_MODULE, TEST_NGINX_BINARY.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../../t/lib";
use Test::McpNginx;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_LINGER);
use IO::Select;
use Time::HiRes qw(time);
use POSIX ();

my $workers  = $ENV{SSE_WORKERS}  || 2;
my $streams  = $ENV{SSE_STREAMS}  || 10000;
my $max      = $ENV{SSE_MAX} // 60000;
my $messages = $ENV{SSE_MESSAGES} || 1000;

# room for the streams' descriptors, within what this shell may have
chomp(my $hard = `sh -c 'ulimit -Hn'`);
$hard = 65536 if $hard !~ /^\d+$/ || $hard > 65536;

my $nginx = start_nginx(
    workers => $workers,
    main_config => "worker_rlimit_nofile $hard;",
    error_log_level => 'warn',
    worker_connections => $hard - 100,
    http_config => "mcp_session_zone zone=mcp:64m;\n"
                 . "keepalive_timeout 0;\naccess_log off;",
    config => <<'CONF');
location = /mcp {
    mcp;
    mcp_max_session_requests 0;
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
    my (%o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  ($o{local} ? (LocalAddr => $o{local},
                                                ReuseAddr => 1) : ()),
                                  Timeout => 5) or die "connect: $!\n";
    # closed with a reset: tens of thousands of them must not leave
    # their ports in TIME_WAIT for the next run
    setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
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

close $_->{sock} for @open;
@open = ();
sleep 1;

# capacity: client processes of their own, each from a source address of
# its own (descriptors and ephemeral ports are per process and address),
# open streams until one fails or SSE_MAX are open; then all are held
# together for a second and checked
if ($max > 0) {
    my $per = $hard - 64;
    my $kids = int(($max + $per - 1) / $per);
    my $quota = int(($max + $kids - 1) / $kids);
    my (@kids, @from);
    for my $k (1 .. $kids) {
        pipe(my $r, my $w) or die "pipe: $!";
        pipe(my $go_r, my $go_w) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $r;
            close $go_w;
            my (@held, $why);
            $why = 'its share of SSE_MAX';
            while (@held < $quota) {
                my $st = eval { open_stream(local => '127.0.0.' . (1 + $k)) };
                if (!$st) { chomp($why = $@ || 'error'); last }
                push @held, $st;
            }
            syswrite $w, scalar(@held) . " $why\n";
            sysread $go_r, my $x, 1;           # the parent has counted
            my $closed = 0;
            for my $st (@held) {
                next unless $st->{sel}->can_read(0);
                my $n = sysread($st->{sock}, my $buf, 65536);
                $closed++ if defined $n && $n == 0;
            }
            syswrite $w, "$closed\n";
            POSIX::_exit(0);
        }
        close $w;
        close $go_r;
        push @kids, [$pid, $r, $go_w];
    }
    my ($held, %why) = (0);
    for my $kid (@kids) {
        my $line = readline $kid->[1] // "0 no answer\n";
        my ($n, $why) = $line =~ /^(\d+) (.*)$/;
        $held += $n // 0;
        $why{$why // 'no answer'}++;
    }
    sleep 1;
    my $rss = rss_kb();
    my $closed = 0;
    for my $kid (@kids) {
        syswrite $kid->[2], 'x';
        my $line = readline $kid->[1] // "0\n";
        $closed += $line =~ /^(\d+)/ ? $1 : 0;
        waitpid $kid->[0], 0;
    }
    printf "capacity: %d streams held at once by %d client processes "
         . "(each stopped by: %s), %d of them closed by the server a second "
         . "later, worker RSS %d kB\n", $held, $kids,
         join('; ', map { "$_ x$why{$_}" } sort keys %why), $closed, $rss;
    sleep 1;
}

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

# messages through one stream: POSTs with up to SSE_WINDOW of them in
# flight, each on a connection of its own, until SSE_RATE_MESSAGES answers
# have arrived on the stream
{
    my $total = $ENV{SSE_RATE_MESSAGES} || 5000;
    my $window = $ENV{SSE_WINDOW} || 32;
    my ($sent, $seen, $text) = (0, 0, '');
    my %posts;
    my $t0 = time;
    while ($seen < $total) {
        while ($sent < $total && keys %posts < $window) {
            $sent++;
            my $c = post($st->{sid}, qq({"jsonrpc":"2.0","id":"r$sent","method":"ping"}));
            $c->blocking(0);
            $posts{fileno $c} = $c;
        }
        my $sel = IO::Select->new($st->{sock}, values %posts);
        for my $fh ($sel->can_read(5)) {
            if ($fh == $st->{sock}) {
                sysread($st->{sock}, my $buf, 65536) or die "stream closed";
                $text .= $buf;
                my $n = () = $text =~ /\nevent: message\n/g;
                $seen += $n;
                $text = substr($text, rindex($text, "\n") + 1)
                    if $n;
                next;
            }
            my $n = sysread($fh, my $buf, 4096);
            die "a POST was answered: $1\n" if $n && $buf =~ m{^HTTP/1\.1 ((?!202)\d+.*)}m;
            if (defined $n && $n == 0) {
                delete $posts{fileno $fh};
                close $fh;
            }
        }
        die "messages stopped at $seen of $total" if time - $t0 > 120;
    }
    my $took = time - $t0;
    printf "one stream: %d messages in %.2f s, %.0f messages/s (%d POSTs in "
         . "flight, any worker)\n", $total, $took, $total / $took, $window;
    close $_ for values %posts;
}

# running out of connections is what the capacity run looks for
my $full = () = $nginx->error_log
    =~ /worker_connections are not enough|accept4?\(\) failed \(24:/g;
print "nginx said $full times that it had no connection left "
    . "(the capacity run's end)\n" if $full;
my $errors = () = $nginx->error_log
    =~ /\[(alert|crit|emerg)\](?!.*(?:worker_connections are not enough|accept4?\(\) failed \(24:))/g;
if ($errors) { print $nginx->error_log; die "nginx logged $errors alerts\n" }
