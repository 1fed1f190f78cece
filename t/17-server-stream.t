# The Streamable HTTP GET stream of a session (2025-06-18 and 2025-11-25
# basic/transports#listening-for-messages-from-the-server): text/event-stream
# with keepalive comments, one stream per session (409 for a second one, on
# any worker), prompt release when the client goes, the end of the stream
# when its session ends, and clean closing on reload and shutdown (HTTP
# with SSE streams too).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

my $nginx = start_nginx(
    workers => 2,
    http_config => 'mcp_session_zone zone=mcp:1m idle_timeout=1s;',
    config => <<'CONF');
location = /mcp {
    mcp;
    mcp_sse_ping_interval 200ms;
}
CONF

our $port = $nginx->port;

# a GET stream on a raw socket: status line and headers, then the events
sub open_stream {
    my ($sid, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    my $req = "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
            . "Accept: text/event-stream\r\n"
            . ($sid ? "Mcp-Session-Id: $sid\r\n" : '')
            . join('', map { "$_->[0]: $_->[1]\r\n" } @{ $o{headers} || [] })
            . "\r\n";
    print $s $req;
    my $head = '';
    my $sel = IO::Select->new($s);
    my $end = time + 5;
    while ($head !~ /\r\n\r\n/ && time < $end) {
        last unless $sel->can_read($end - time);
        my $n = sysread($s, my $buf, 4096);
        last unless $n;
        $head .= $buf;
    }
    my ($h, $rest) = split /\r\n\r\n/, $head, 2;
    my ($status) = ($h // '') =~ m{^HTTP/1\.1 (\d+)};
    return { sock => $s, sel => $sel, status => $status // 0,
             head => $h // '', data => $rest // '' };
}

# read for a while; returns true when the server closed the connection
sub read_for {
    my ($st, $seconds) = @_;
    my $end = time + $seconds;
    while (time < $end) {
        last unless $st->{sel}->can_read($end - time);
        my $n = sysread($st->{sock}, my $buf, 4096);
        return 1 unless $n;
        $st->{data} .= $buf;
    }
    return 0;
}

my ($sid, $ver) = mcp_initialize(port => $port, version => '2025-06-18');

my $st = open_stream($sid, headers => [['MCP-Protocol-Version', $ver]]);
is($st->{status}, 200, 'GET with a session opens its stream');
like($st->{head}, qr{^Content-Type: text/event-stream\r?$}mi,
     'Content-Type: text/event-stream');
like($st->{head}, qr{^Cache-Control: no-cache\r?$}mi, 'Cache-Control: no-cache');
like($st->{head}, qr{^X-Accel-Buffering: no\r?$}mi, 'X-Accel-Buffering: no');

read_for($st, 1);
my $pings = () = $st->{data} =~ /^: ping$/mg;
ok($pings >= 3, "keepalive comments every mcp_sse_ping_interval ($pings in 1 s)");

# one stream per session, whichever worker takes the second GET
my @conflicts = map { open_stream($sid)->{status} } 1 .. 8;
is_deeply(\@conflicts, [ (409) x 8 ],
          'a second GET for the session gets 409, on every worker');

# the stream keeps its session alive past idle_timeout (1 s)
read_for($st, 1.3);
my $res = json_rpc(port => $port, session => $sid, version => $ver,
                   message => { jsonrpc => '2.0', id => 2, method => 'ping' });
is($res->status, 200, 'an open stream keeps its idle session alive');

# the client goes: the stream is released at once
close $st->{sock};
my $again;
for (1 .. 20) {
    $again = open_stream($sid);
    last if $again->{status} == 200;
    close $again->{sock};
    sleep 0.05;
}
is($again->{status}, 200, 'after the client left, a new GET gets the stream');

# the session ends: its stream ends too, cleanly
$res = http_request(port => $port, method => 'DELETE', path => '/mcp',
                    headers => [['Mcp-Session-Id', $sid]]);
is($res->status, 200, 'DELETE ends the session');
my $t0 = time;
ok(read_for($again, 3), 'the stream of a deleted session is closed');
ok(time - $t0 < 1, 'within a ping interval or so');
like($again->{data}, qr/0\r\n\r\n\z/, 'with the last chunk: a clean end');

is(open_stream('0123456789abcdef0123456789abcdef')->{status}, 404,
   'GET for an unknown session: 404');
is(open_stream($sid, headers => [['Content-Length', 2]])->{status}, 400,
   'a GET with a body: 400 (it would hide the client going away)');
is(open_stream($sid)->{status}, 404, 'GET for the deleted session: 404');

# reload: the old workers close their streams and go, quickly
my @sids = map { (mcp_initialize(port => $port, version => '2025-11-25'))[0] }
           1 .. 3;
my @streams = map { open_stream($_) } @sids;

# and an HTTP with SSE stream (2024-11-05), which is its session
push @streams, open_stream(undef);
my ($legacy) = $streams[-1]{data} =~ /sessionId=([0-9a-f]{32})/;
is_deeply([ map { $_->{status} } @streams ], [200, 200, 200, 200],
          'four streams open, one of them HTTP with SSE');

my @old = $nginx->worker_pids;
ok($nginx->reload, 'nginx -s reload');
$t0 = time;
my @closed = map { read_for($_, 5) } @streams;
is_deeply(\@closed, [1, 1, 1, 1], 'every stream is closed by the old workers');
for my $s (@streams) {
    like($s->{data}, qr/0\r\n\r\n\z/, 'each with the last chunk');
}
my $gone = 0;
while (time - $t0 < 5) {
    $gone = !grep { kill 0, $_ } @old;
    last if $gone;
    sleep 0.05;
}
ok($gone, sprintf('the old workers exited (%.1f s after the reload)',
                  time - $t0));

# the sessions survive the reload; their streams can be reopened
my $back = open_stream($sids[0]);
is($back->{status}, 200, 'a stream reopens on the new workers');

# the HTTP with SSE session ended with its stream
my $r = http_request(port => $port, method => 'POST',
                     path => "/mcp?sessionId=$legacy",
                     headers => [['Content-Type', 'application/json']],
                     body => '{"jsonrpc":"2.0","id":1,"method":"ping"}');
is($r->status, 404, 'the HTTP with SSE session ended with its stream');

# shutdown with a stream open
my $master = $nginx->master_pid;
$t0 = time;
kill 'QUIT', $master;
ok(read_for($back, 5), 'nginx -s quit closes the open stream');
like($back->{data}, qr/0\r\n\r\n\z/, 'with the last chunk');
while (kill(0, $master) && time - $t0 < 5) { sleep 0.05 }
ok(!kill(0, $master), sprintf('nginx exits (%.1f s)', time - $t0));

my $log = $nginx->error_log;
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert: no socket left open');

# DELETE ends the stream at once, whichever worker holds it and whichever
# takes the DELETE: the keepalive is far off, so only the worker-to-worker
# message can end it in time
{
    my $far = start_nginx(
        workers => 2,
        http_config => 'mcp_session_zone zone=mcp:1m;',
        config => 'location = /mcp { mcp; mcp_sse_ping_interval 30s; }',
        listen_params => 'reuseport');
    my $fp = $far->port;
    local $port = $fp;

    my ($fast, $clean) = (0, 0);
    for my $i (1 .. 12) {
        my ($s) = mcp_initialize(port => $fp, version => '2025-06-18');
        my $open = open_stream($s);
        next unless $open->{status} == 200;
        my $del = http_request(port => $fp, method => 'DELETE', path => '/mcp',
                               headers => [['Mcp-Session-Id', $s]]);
        next unless $del->status == 200;
        my $t = time;
        my $closed = read_for($open, 3);
        $fast++ if $closed && time - $t < 0.5;
        $clean++ if $open->{data} =~ /0\r\n\r\n\z/;
    }
    is($fast, 12, 'DELETE ends the stream within 0.5 s, on any worker (12 of 12)');
    is($clean, 12, 'each with the last chunk');

    # a message from another user is ignored: it could otherwise end any
    # stream whose session id it knew
    SKIP: {
        skip 'needs root to send as another user', 2 if $> != 0;
        my ($s) = mcp_initialize(port => $fp, version => '2025-06-18');
        my $open = open_stream($s);
        for my $w ($far->worker_pids) {
            system('python3', '-c', <<'PY', $w, $s);
import os, socket, struct, sys
os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(2)
# the worker's name, as /proc/net/unix shows it: @ngx_http_mcp:<instance>:<pid>
name = next(l.split()[-1] for l in open("/proc/net/unix")
            if l.rstrip().endswith(":" + sys.argv[1])
            and l.split()[-1].startswith("@ngx_http_mcp:"))
s.connect(b"\0" + name[1:].encode())
# a frame: type 1 (end the stream), no payload, the session id
s.sendall(struct.pack("=II", 1, 0) + sys.argv[2].encode())
try:
    s.recv(4)
except OSError:
    pass
PY
        }
        ok(!read_for($open, 0.5), 'a stream stays open when another user '
                                  . 'asks a worker to end it');
        like($far->error_log, qr/a message from uid 65534 was ignored/,
             'and the worker logs that it ignored the message');
        close $open->{sock};
    }

    my $pids = () = $far->error_log =~ /closing its stream/g;
    ok($pids == 12, 'each close is logged by the worker holding the stream');
    unlike($far->error_log, qr/\[(alert|crit|emerg)\]|could not reach/,
           'every worker was reached');
    $far->stop;
}

# HTTP/2: a stream is not a connection of its own; reload must still end it
SKIP: {
    skip 'curl is needed for HTTP/2', 4 unless `curl --version 2>/dev/null`
                                              =~ /HTTP2/;
    my $nginx_v = `${\ nginx_binary()} -V 2>&1`;
    skip 'nginx is built without http_v2', 4
        unless $nginx_v =~ /--with-http_v2_module/;

    my $h2 = start_nginx(
        http_config => 'mcp_session_zone zone=mcp:1m;',
        config => 'location = /mcp { mcp; mcp_sse_ping_interval 200ms; }',
        listen_params => 'http2');
    my $p2 = $h2->port;

    my $init = `curl -s -i --http2-prior-knowledge -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}' http://127.0.0.1:$p2/mcp`;
    my ($s2) = $init =~ /^mcp-session-id: (\w+)/mi;

    my $out = $h2->prefix . '/h2-stream.txt';
    my $pid = fork // die;
    if (!$pid) {
        exec 'curl', '-sN', '--max-time', '8', '--http2-prior-knowledge',
             '-o', $out, '-H', 'Accept: text/event-stream',
             '-H', "Mcp-Session-Id: $s2", "http://127.0.0.1:$p2/mcp";
    }

    sleep 0.7;
    my @w = $h2->worker_pids;
    ok($h2->reload, 'HTTP/2: reload with a stream open');
    my $t = time;
    waitpid $pid, 0;
    is($? >> 8, 0, sprintf('HTTP/2: the stream ended cleanly (%.1f s)',
                           time - $t));
    my $text = do { local $/; open my $f, '<', $out; <$f> } // '';
    like($text, qr/^: ping$/m, 'HTTP/2: it carried keepalives');
    while (grep({ kill 0, $_ } @w) && time - $t < 5) { sleep 0.05 }
    $h2->stop;
    unlike($h2->error_log, qr/\[(alert|crit|emerg)\]/,
           'HTTP/2: the old worker exited with no socket left open');
}

done_testing();
