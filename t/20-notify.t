# `mcp_notify;`: a tool backend pushes a JSON-RPC notification into a
# session's open stream.  POST with Mcp-Session-Id and one notification ->
# 202 once it is on the stream as `event: message` (whichever worker holds the
# stream), for Streamable HTTP GET streams (2025-06-18 / 2025-11-25
# basic/transports, "Listening for Messages from the Server") and for legacy
# 2024-11-05 "HTTP with SSE" streams alike; 404 unknown session, 409 no stream
# open, 400 not a notification, 415 wrong Content-Type, 405 other methods.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx qw(:DEFAULT json_equal_diff);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Time::HiRes qw(time sleep);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

my $nginx = start_nginx(
    workers => 2,
    listen_params => 'reuseport',
    http_config => <<'HTTP',
    mcp_session_zone zone=mcp:1m;
    keepalive_timeout 0;
    log_format workers '$pid $request_method $status $uri';
HTTP
    config => <<'CONF');
access_log $TEST_PREFIX/logs/workers.log workers;
location = /mcp { mcp; mcp_sse_ping_interval 1s; }
location = /notify { mcp_notify; }
location = /health/ready { mcp_health ready; }
CONF

my $port = $nginx->port;

# ---------------------------------------------------------------------------
# a stream on a raw socket, de-chunked into {text}, parsed into {events}

sub open_stream {
    my (%o) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                     Timeout => 5) or die "connect: $!";
    binmode $sock;
    my $req = 'GET ' . ($o{path} // '/mcp') . " HTTP/1.1\r\nHost: localhost\r\n"
            . "Accept: text/event-stream\r\n"
            . join('', map { "$_->[0]: $_->[1]\r\n" } @{ $o{headers} || [] }) . "\r\n";
    syswrite($sock, $req) == length $req or die "write: $!";
    my $st = { sock => $sock, sel => IO::Select->new($sock), raw => '', text => '', pos => 0,
               events => [], status => 0, head => '', closed => 0 };
    my $end = time + 5;
    while ($st->{raw} !~ /\r\n\r\n/ && time < $end) {
        last unless $st->{sel}->can_read($end - time);
        my $n = sysread($sock, my $buf, 4096);
        last unless $n;
        $st->{raw} .= $buf;
    }
    if ($st->{raw} =~ /\r\n\r\n/) {
        ($st->{head}, $st->{raw}) = split /\r\n\r\n/, $st->{raw}, 2;
        ($st->{status}) = $st->{head} =~ m{^HTTP/1\.\d (\d{3})};
        $st->{chunked} = $st->{head} =~ /^Transfer-Encoding:\s*chunked\s*$/mi;
    }
    _parse($st);
    return $st;
}

sub _parse {
    my ($st) = @_;
    if (!$st->{chunked}) {
        $st->{text} .= $st->{raw};
        $st->{raw} = '';
    } else {
        while ($st->{raw} =~ /\A([0-9a-fA-F]+)[^\r\n]*\r\n/) {
            my ($size, $hl) = (hex $1, $+[0]);
            if ($size == 0) { $st->{last_chunk} = 1; $st->{raw} = ''; last }
            last if length($st->{raw}) < $hl + $size + 2;
            $st->{text} .= substr($st->{raw}, $hl, $size);
            substr($st->{raw}, 0, $hl + $size + 2, '');
        }
    }
    while (substr($st->{text}, $st->{pos}) =~ /\A(.*?)(?:\r\n|\n)(?:\r\n|\n)/s) {
        my $block = $1;
        $st->{pos} += $+[0];
        my (%ev, @data);
        for my $line (split /\r?\n/, $block) {
            next if $line =~ /^:/;
            if ($line =~ /^data:\s?(.*)$/) { push @data, $1 }
            elsif ($line =~ /^(event|id|retry):\s?(.*)$/) { $ev{$1} = $2 }
        }
        next unless @data || %ev;
        $ev{data} = join "\n", @data;
        $ev{json} = eval { $JSON->decode($ev{data}) } if ($ev{event} // 'message') eq 'message';
        push @{ $st->{events} }, \%ev;
    }
}

sub read_until {
    my ($st, $cond, $timeout) = @_;
    my $end = time + $timeout;
    while (1) {
        _parse($st);
        return 1 if $cond->($st);
        return 0 if $st->{closed};
        my $left = $end - time;
        return 0 if $left <= 0;
        next unless $st->{sel}->can_read($left);
        my $n = sysread($st->{sock}, my $buf, 65536);
        if ($n) {
            $st->{raw} .= $buf;
        } elsif (defined $n || (!$!{EAGAIN} && !$!{EINTR})) {
            $st->{closed} = defined $n ? 'eof' : "error: $!";
        }
    }
}

sub messages { grep { ($_->{event} // '') eq 'message' } @{ $_[0]{events} } }

# the notifications/message events whose params.data is $tag
sub tagged {
    my ($st, $tag) = @_;
    return grep { ref $_->{json} eq 'HASH' && ref $_->{json}{params} eq 'HASH'
                  && ($_->{json}{params}{data} // '') eq $tag } messages($st);
}

sub stream_dump { 'stream so far: ' . substr($_[0]{text}, 0, 3000) }

sub note_msg {
    my ($tag) = @_;
    return { jsonrpc => '2.0', method => 'notifications/message',
             params => { level => 'info', logger => 'backend', data => $tag } };
}

sub notify {
    my ($sid, $msg, %o) = @_;
    my $body = ref $msg ? $JSON->encode($msg) : $msg;
    return http_request(port => $port, method => $o{method} // 'POST', path => '/notify',
                        timeout => 15,
                        (defined $body && ($o{method} // 'POST') eq 'POST' ? (body => $body) : ()),
                        headers => [['Content-Type', $o{type} // 'application/json'],
                                    (defined $sid ? ['Mcp-Session-Id', $sid] : ())]);
}

sub describe {
    my ($res) = @_;
    return 'status ' . ($res->status // 'none') . ', body ' . ($res->body // '')
         . ($res->error ? ', error ' . $res->error : '');
}

# sends $n notifications tagged "$prefix-$i", each on a fresh connection, and
# checks that each is on the stream when its 202 arrives, exactly once, in order
sub push_many {
    my ($what, $st, $sid, $prefix, $n) = @_;
    my (@bad, @late);
    for my $i (1 .. $n) {
        my $r = notify($sid, note_msg("$prefix-$i"));
        if (($r->status // 0) != 202) { push @bad, "$prefix-$i: " . describe($r); next }
        # the 202 follows the write to the stream: allow only loopback delivery
        push @late, "$prefix-$i" unless read_until($st, sub { tagged($_[0], "$prefix-$i") }, 1);
    }
    is(scalar @bad, 0, "$what: $n notifications, each 202") or diag(join "\n", @bad);
    is(scalar @late, 0, "$what: each on the stream when its 202 arrived") or diag("late: @late");
    read_until($st, sub { tagged($_[0], "$prefix-$n") }, 5);
    read_until($st, sub { 0 }, 0.5);        # duplicates would show up now
    my @got = map { $_->{json}{params}{data} } grep { ($_->{json}{params}{data} // '') =~ /^\Q$prefix\E-/ }
              grep { ref $_->{json} eq 'HASH' && ref $_->{json}{params} eq 'HASH' } messages($st);
    is(join(' ', @got), join(' ', map { "$prefix-$_" } 1 .. $n), "$what: each exactly once, in order")
        or diag(stream_dump($st));
    my ($ev) = tagged($st, "$prefix-1");
    is(($ev // {})->{event}, 'message', "$what: as event: message");
    like(($ev // {})->{id} // '', qr/^\S+$/, "$what: with an id: line");
    my $d = json_equal_diff(note_msg("$prefix-1"), ($ev // {})->{json});
    ok(!defined $d, "$what: the notification as sent") or diag($d);
    my %ids;
    $ids{ $_->{id} // '' }++ for messages($st);
    is(scalar(grep { $_ eq '' || $ids{$_} > 1 } keys %ids), 0, "$what: event ids unique");
}

my $log = $nginx->prefix . '/logs/workers.log';

# ---------------------------------------------------------------------------
# a Streamable HTTP session with its GET stream

my ($sid, $ver) = mcp_initialize(port => $port, version => '2025-06-18');
like($sid // '', qr/^[0-9a-f]{32}$/, 'Streamable HTTP session initialized');
my $st = open_stream(headers => [['Mcp-Session-Id', $sid], ['MCP-Protocol-Version', $ver]]);
is($st->{status}, 200, 'its GET stream is open');
push_many('Streamable HTTP stream', $st, $sid, 'sh', 30);

# ---------------------------------------------------------------------------
# a legacy session

my $lg = open_stream(path => '/mcp');
read_until($lg, sub { @{ $_[0]{events} } }, 5);
my ($lsid) = (($lg->{events}[0] // {})->{data} // '') =~ /[?&]sessionId=([0-9a-f]{32})$/;
ok($lg->{status} == 200 && defined $lsid, 'a legacy stream with its endpoint event')
    or diag(stream_dump($lg));
$lsid //= 'none';
my $r = http_request(port => $port, method => 'POST', path => "/mcp?sessionId=$lsid",
                     headers => [['Content-Type', 'application/json']],
                     body => '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}');
is($r->status, 202, 'legacy initialize: 202');
http_request(port => $port, method => 'POST', path => "/mcp?sessionId=$lsid",
             headers => [['Content-Type', 'application/json']],
             body => '{"jsonrpc":"2.0","method":"notifications/initialized"}');
push_many('legacy stream', $lg, $lsid, 'lg', 30);
is(scalar(grep { ($_->{json}{params}{data} // '') =~ /^sh-/ }
          grep { ref $_->{json} eq 'HASH' && ref $_->{json}{params} eq 'HASH' } messages($lg)), 0,
   'nothing of the other session on the legacy stream');

# both workers took notifications (so some crossed to the other worker)
{
    my $text = '';
    for (1 .. 20) {
        $text = do { local $/; open my $fh, '<', $log; <$fh> } // '';
        last if (() = $text =~ m{ POST 202 /notify$}mg) >= 60;
        sleep 0.1;
    }
    my %pids = map { /^(\d+) /; $1 => 1 } grep { m{ POST 202 /notify$} } split /\n/, $text;
    is(scalar keys %pids, 2, 'the notifications were taken by both workers') or diag($text);
    my $h = http_request(port => $port, path => '/health/ready');
    my $m = ($h->json // {})->{messages};
    ok(ref $m eq 'HASH' && ($m->{ipc} // 0) > 0, '/health/ready: some crossed workers (ipc > 0)')
        or diag($h->body);
}

# ---------------------------------------------------------------------------
# refusals; the streams stay clean

my $n_sh = () = messages($st);

$r = notify('0123456789abcdef0123456789abcdef', note_msg('x'));
is($r->status, 404, 'unknown session: 404') or diag(describe($r));

my ($quiet) = mcp_initialize(port => $port, version => '2025-06-18');
$r = notify($quiet, note_msg('x'));
is($r->status, 409, 'a session without an open stream: 409') or diag(describe($r));

my @bodies = (
    ['a request (with id)',  { jsonrpc => '2.0', id => 5, method => 'notifications/message', params => { data => 'x' } }],
    ['a response',           { jsonrpc => '2.0', id => 5, result => {} }],
    ['not JSON-RPC',         { foo => 1 }],
    ['jsonrpc 1.0',          { jsonrpc => '1.0', method => 'notifications/message', params => { data => 'x' } }],
    ['method not a string',  { jsonrpc => '2.0', method => 5 }],
    ['a batch',              [note_msg('x')]],
    ['not JSON',             '{"jsonrpc":"2.0","method":'],
    ['an empty body',        ''],
);
for my $c (@bodies) {
    $r = notify($sid, $c->[1]);
    is($r->status, 400, "$c->[0]: 400") or diag(describe($r));
}
$r = notify($sid, note_msg('x'), type => 'text/plain');
is($r->status, 415, 'Content-Type: text/plain: 415') or diag(describe($r));
for my $m (qw(GET DELETE PUT)) {
    $r = notify($sid, undef, method => $m);
    is($r->status, 405, "$m: 405") or diag(describe($r));
}
$r = notify(undef, note_msg('x'));
like($r->status // '', qr/^4\d\d$/, 'no Mcp-Session-Id: refused (4xx)') or diag(describe($r));

$r = notify($sid, note_msg('after-refusals'));
is($r->status, 202, 'a valid notification after the refusals: 202');
read_until($st, sub { tagged($_[0], 'after-refusals') }, 5);
my @m = messages($st);
is(join(',', map { ($_->{json}{params} // {})->{data} // '?' } @m[$n_sh .. $#m]), 'after-refusals',
   'nothing of the refused POSTs reached the stream') or diag(stream_dump($st));

# the stream goes: 409 again (the Streamable HTTP session lives on)
close $st->{sock};
my $end = time + 5;
while (time < $end) {
    $r = notify($sid, note_msg('gone'));
    last if ($r->status // 0) == 409;
    sleep 0.1;
}
is($r->status, 409, 'after the client closed its GET stream: 409 within 5 s') or diag(describe($r));

# the legacy stream goes: its session ends, 404
close $lg->{sock};
$end = time + 5;
while (time < $end) {
    $r = notify($lsid, note_msg('gone'));
    last if ($r->status // 0) == 404;
    sleep 0.1;
}
is($r->status, 404, 'after the legacy stream closed: 404 within 5 s') or diag(describe($r));

$nginx->stop;
my @bad = $nginx->error_log =~ /^(.*(?:\[(?:alert|crit|emerg)\]|exited on signal).*)$/mg;
is(scalar @bad, 0, 'no alert, crit, emerg or crash in the error log') or diag(join "\n", @bad);

done_testing();
