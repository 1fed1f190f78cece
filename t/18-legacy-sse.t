# The legacy transport of MCP revision 2024-11-05 (basic/transports, "HTTP
# with SSE") on an `mcp` location, spoken on raw sockets:
#
#   "When a client connects, the server MUST send an endpoint event containing
#    a URI for the client to use for sending messages. All subsequent client
#    messages MUST be sent as HTTP POST requests to this endpoint.  Server
#    messages are sent as SSE message events, with the message content encoded
#    as JSON in the event data."
#
# A GET with Accept: text/event-stream and no Mcp-Session-Id opens a stream
# whose first event is `endpoint` (the URL of the message endpoint with
# ?sessionId=<32 hex>); every POST to that URL is answered 202 once its
# JSON-RPC response is on the stream as an `event: message` with an `id:`.
# Also: mcp_sse_endpoint, mcp_public_base (fixed and from a variable, hostile
# values ignored), errors (400 / 415 / 404), the end of the session with its
# stream, keepalive comments, unique event ids, two workers (POSTs on fresh
# connections land on either one; responses cross over to the worker holding
# the stream, exactly once and never into another session's stream) and a
# client that stops reading (mcp_sse_max_backlog).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx qw(:DEFAULT json_subset_diff json_equal_diff);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Socket qw(PF_INET SOCK_STREAM IPPROTO_TCP SOL_SOCKET SO_RCVBUF inet_aton pack_sockaddr_in);
use Time::HiRes qw(time sleep);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

my $be = start_backend('example_backend.py');
my $nginx = start_nginx(
    workers => 2,
    backend_port => $be->port,
    listen_params => 'reuseport',
    http_config => <<'HTTP',
    mcp_session_zone zone=mcp:1m;
    keepalive_timeout 0;
    log_format workers '$pid $request_method $status $uri $arg_sessionId';
HTTP
    config => <<'CONF');
access_log $TEST_PREFIX/logs/workers.log workers;
location = /sse {
    mcp;
    mcp_sse_ping_interval 200ms;
    mcp_tool echo /t/echo;
    mcp_tool nap "/t/sleep?ms=1500";
}
location = /sse2 { mcp; mcp_sse_endpoint /messages; }
location = /messages { mcp; mcp_tool echo /t/echo; }
location = /sseq { mcp; mcp_sse_endpoint "/messages?v=1"; }
location = /ssev { mcp; mcp_sse_endpoint "/m/$arg_t"; }
location /pfx/ { mcp; }
location = /fixed { mcp; mcp_public_base https://gw.example.com/api/; }
location = /fwd { mcp; mcp_public_base $http_x_forwarded_prefix; }
location = /slow {
    mcp;
    mcp_sse_max_backlog 64k;
    mcp_tool big "/t/big?bytes=48000";
}
location = /health/ready { mcp_health ready; }
location /t/ { internal; proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/; }
CONF

my $port = $nginx->port;
my $HEX32 = qr/[0-9a-f]{32}/;

# ---------------------------------------------------------------------------
# a stream on a raw socket: the status line and headers, then its body
# de-chunked into {text} and parsed into {events} as it arrives

sub open_stream {
    my (%o) = @_;
    my $sock;
    if ($o{rcvbuf}) {       # a small receive buffer must be set before connect
        socket($sock, PF_INET, SOCK_STREAM, IPPROTO_TCP) or die "socket: $!";
        setsockopt($sock, SOL_SOCKET, SO_RCVBUF, pack('i', $o{rcvbuf})) or die "SO_RCVBUF: $!";
        connect($sock, pack_sockaddr_in($o{port} // $port, inet_aton('127.0.0.1')))
            or die "connect: $!";
    } else {
        $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $o{port} // $port,
                                      Proto => 'tcp', Timeout => 5) or die "connect: $!";
    }
    binmode $sock;
    my $req = 'GET ' . ($o{path} // '/sse') . " HTTP/1.1\r\nHost: localhost\r\n"
            . "Accept: text/event-stream\r\n"
            . join('', map { "$_->[0]: $_->[1]\r\n" } @{ $o{headers} || [] }) . "\r\n";
    syswrite($sock, $req) == length $req or die "write: $!";
    my $st = { sock => $sock, sel => IO::Select->new($sock), raw => '', text => '', pos => 0,
               events => [], status => 0, head => '', closed => 0, bytes => 0 };
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

# reads until $cond->($st) holds, the server closes, or $timeout seconds pass
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
            $st->{bytes} += $n;
        } elsif (defined $n || (!$!{EAGAIN} && !$!{EINTR})) {
            $st->{closed} = defined $n ? 'eof' : "error: $!";
        }
    }
}

sub read_for { my ($st, $s) = @_; read_until($st, sub { 0 }, $s); return $st->{closed} }

sub messages { grep { ($_->{event} // '') eq 'message' } @{ $_[0]{events} } }

sub messages_since { my ($st, $n) = @_; my @m = messages($st); return @m[$n .. $#m] }

# the message events answering JSON-RPC id $id
sub answers {
    my ($st, $id) = @_;
    return grep { ref $_->{json} eq 'HASH' && defined $_->{json}{id} && "$_->{json}{id}" eq "$id" }
           messages($st);
}

sub wait_answer {
    my ($st, $id, $timeout) = @_;
    read_until($st, sub { answers($_[0], $id) }, $timeout // 10);
    my ($ev) = answers($st, $id);
    return $ev;
}

# a legacy stream with its endpoint event read
sub open_legacy {
    my (%o) = @_;
    my $st = open_stream(%o);
    read_until($st, sub { @{ $_[0]{events} } }, 5) if $st->{status} == 200;
    my $first = $st->{events}[0];
    if ($first && ($first->{event} // '') eq 'endpoint') {
        $st->{endpoint} = $first->{data};
        ($st->{sid}) = $first->{data} =~ /[?&]sessionId=([^&]*)$/;
    }
    return $st;
}

sub post {
    my ($path, $msg, %o) = @_;
    my $body = ref $msg ? $JSON->encode($msg) : $msg;
    my $res = http_request(port => $o{port} // $port, method => 'POST', path => $path, body => $body,
                           timeout => $o{timeout} // 20,
                           headers => [['Content-Type', $o{type} // 'application/json'],
                                       @{ $o{headers} || [] }]);
    $res->{json} = eval { $JSON->decode($res->body) } if length($res->body // '');
    return $res;
}

sub initialize_msg {
    my ($id, $version) = @_;
    return { jsonrpc => '2.0', id => $id, method => 'initialize',
             params => { protocolVersion => $version, capabilities => {},
                         clientInfo => { name => 'legacy-test', version => '1' } } };
}

# a legacy stream on $path with an initialized session; POSTs go to $post
sub legacy_session {
    my (%o) = @_;
    my $st = open_legacy(path => $o{path} // '/sse');
    my $post = ($o{post} // $o{path} // '/sse') . "?sessionId=" . ($st->{sid} // 'none');
    my $r = post($post, initialize_msg('init', $o{version} // '2024-11-05'));
    my $ok = $st->{status} == 200 && defined $st->{sid} && ($r->status // 0) == 202
             && wait_answer($st, 'init');
    $r = post($post, { jsonrpc => '2.0', method => 'notifications/initialized' });
    $ok &&= ($r->status // 0) == 202;
    $st->{post} = $post;
    return ($st, $ok);
}

sub describe {
    my ($res) = @_;
    return 'status ' . ($res->status // 'none') . ', body ' . ($res->body // '')
         . ($res->error ? ', error ' . $res->error : '');
}

sub stream_dump { my ($st) = @_; 'stream so far: ' . substr($st->{text}, 0, 3000) }

# ---------------------------------------------------------------------------
# the endpoint event

{
    my $st = open_legacy(path => '/sse');
    is($st->{status}, 200, 'GET with Accept: text/event-stream and no session: 200');
    like($st->{head}, qr{^Content-Type: text/event-stream\r?$}mi, 'Content-Type: text/event-stream');
    like($st->{head}, qr{^Cache-Control: no-cache\r?$}mi, 'Cache-Control: no-cache');
    like($st->{head}, qr{^X-Accel-Buffering: no\r?$}mi, 'X-Accel-Buffering: no');
    is($st->{events}[0]{event}, 'endpoint', 'the first event is "endpoint"')
        or diag(stream_dump($st));
    like($st->{endpoint} // '', qr{^/sse\?sessionId=$HEX32$},
         'its data: the location URI with ?sessionId=<32 lowercase hex>');

    # each stream is a session of its own
    my $other = open_legacy(path => '/sse');
    ok(defined $other->{sid} && defined $st->{sid} && $other->{sid} ne $st->{sid},
       'a second legacy stream gets another session');
    close $other->{sock};
    close $st->{sock};

    # the path of the GET, not its query string, and the whole of a prefix location's URI
    $st = open_legacy(path => '/sse?foo=bar&sessionId=0123456789abcdef0123456789abcdef');
    like($st->{endpoint} // '', qr{^/sse\?sessionId=$HEX32$},
         'the query string of the GET is not part of the endpoint');
    isnt($st->{sid} // '', '0123456789abcdef0123456789abcdef', 'nor is a sessionId the client chose');
    close $st->{sock};
    $st = open_legacy(path => '/pfx/tenant/a');
    like($st->{endpoint} // '', qr{^/pfx/tenant/a\?sessionId=$HEX32$},
         'a prefix location: the endpoint is the URI of the GET');
    close $st->{sock};
}

# ---------------------------------------------------------------------------
# mcp_sse_endpoint

{
    my $st = open_legacy(path => '/sse2');
    like($st->{endpoint} // '', qr{^/messages\?sessionId=$HEX32$},
         'mcp_sse_endpoint /messages: the endpoint URL path is /messages');
    my $url = $st->{endpoint} // '/messages?sessionId=none';
    my $r = post($url, initialize_msg(1, '2024-11-05'));
    is($r->status, 202, 'POST initialize to /messages?sessionId=: 202') or diag(describe($r));
    my $ev = wait_answer($st, 1);
    is(($ev->{json}{result} // {})->{protocolVersion}, '2024-11-05',
       'its result arrives on the /sse2 stream') or diag(stream_dump($st));
    $r = post($url, { jsonrpc => '2.0', method => 'notifications/initialized' });
    is($r->status, 202, 'notifications/initialized to /messages: 202');
    $r = post($url, { jsonrpc => '2.0', id => 2, method => 'tools/list' });
    is($r->status, 202, 'tools/list to /messages: 202');
    $ev = wait_answer($st, 2);
    is(join(',', map { $_->{name} } @{ ($ev->{json}{result} // {})->{tools} || [] }), 'echo',
       'tools/list is answered with the tools of the /messages location');
    close $st->{sock};

    $st = open_legacy(path => '/sseq');
    like($st->{endpoint} // '', qr{^/messages\?v=1&sessionId=$HEX32$},
         'an endpoint path with a query string gets &sessionId=');
    $r = post($st->{endpoint} // '/messages?v=1&sessionId=none', initialize_msg(1, '2024-11-05'));
    is($r->status, 202, 'and a POST to that URL works');
    close $st->{sock};

    $st = open_legacy(path => '/ssev?t=abc');
    like($st->{endpoint} // '', qr{^/m/abc\?sessionId=$HEX32$},
         'mcp_sse_endpoint with a variable ($arg_t)');
    close $st->{sock};
}

# ---------------------------------------------------------------------------
# mcp_public_base

{
    my $st = open_legacy(path => '/fixed');
    like($st->{endpoint} // '', qr{^https://gw\.example\.com/api/fixed\?sessionId=$HEX32$},
         'mcp_public_base https://gw.example.com/api/ (its trailing / dropped) in front of the path');
    my $r = post("/fixed?sessionId=" . ($st->{sid} // 'none'), initialize_msg(1, '2024-11-05'));
    is($r->status, 202, 'the session works (POST to the location itself)');
    close $st->{sock};

    my @cases = (
        ['/prefix',          qr{^/prefix/fwd\?sessionId=$HEX32$},  'X-Forwarded-Prefix: /prefix'],
        ['/prefix/',         qr{^/prefix/fwd\?sessionId=$HEX32$},  'X-Forwarded-Prefix: /prefix/ (trailing / dropped)'],
        [undef,              qr{^/fwd\?sessionId=$HEX32$},         'no X-Forwarded-Prefix: the path alone'],
        ['https://a.example/x', qr{^https://a\.example/x/fwd\?sessionId=$HEX32$}, 'an https:// base is taken'],
        ['//evil.example',   qr{^/fwd\?sessionId=$HEX32$},         'X-Forwarded-Prefix: //evil.example is ignored'],
        ['javascript:x',     qr{^/fwd\?sessionId=$HEX32$},         'X-Forwarded-Prefix: javascript:x is ignored'],
        ['evil.example/x',   qr{^/fwd\?sessionId=$HEX32$},         'X-Forwarded-Prefix: evil.example/x (no scheme, no /) is ignored'],
    );
    for my $c (@cases) {
        my $from = $nginx->error_log_size;
        my $s = open_legacy(path => '/fwd',
                            headers => [defined $c->[0] ? ['X-Forwarded-Prefix', $c->[0]] : ()]);
        like($s->{endpoint} // '', $c->[1], $c->[2]) or diag("endpoint: " . ($s->{endpoint} // 'none'));
        if (defined $c->[0] && $c->[0] =~ /^(?:\/\/|javascript|evil)/) {
            my $ok = 0;
            for (1 .. 50) {
                last if $ok = $nginx->error_log($from) =~ /\[warn\].*mcp_public_base/;
                sleep 0.05;
            }
            ok($ok, "$c->[2]: with a warning naming mcp_public_base in the error log")
                or diag($nginx->error_log($from));
        }
        my $r = post("/fwd?sessionId=" . ($s->{sid} // 'none'), initialize_msg(1, '2024-11-05'));
        is($r->status, 202, "$c->[2]: the session works");
        close $s->{sock};
    }
}

# ---------------------------------------------------------------------------
# the messages of a session

{
    my $st = open_legacy(path => '/sse');
    my $url = "/sse?sessionId=" . ($st->{sid} // 'none');

    # before initialize: requests other than ping are refused on the stream
    my $r = post($url, { jsonrpc => '2.0', id => 'early', method => 'tools/list' });
    is($r->status, 202, 'tools/list before initialize: 202');
    my $ev = wait_answer($st, 'early');
    is(($ev->{json}{error} // {})->{code}, -32600,
       'tools/list before initialize: error -32600 on the stream') or diag(stream_dump($st));
    ok(!exists(($ev->{json} // {})->{result}), 'and no result');
    $r = post($url, { jsonrpc => '2.0', id => 'early-ping', method => 'ping' });
    is($r->status, 202, 'ping before initialize: 202');
    $ev = wait_answer($st, 'early-ping');
    ok(!json_equal_diff({ jsonrpc => '2.0', id => 'early-ping', result => {} }, $ev->{json}),
       'ping before initialize: answered {} on the stream') or diag(stream_dump($st));

    # initialize
    $r = post($url, initialize_msg(1, '2024-11-05'));
    is($r->status, 202, 'POST initialize: 202');
    is($r->body, '', 'with an empty body');
    $ev = wait_answer($st, 1);
    ok($ev, 'the initialize result is on the stream') or diag(stream_dump($st));
    is($ev->{event}, 'message', 'as "event: message"');
    like($ev->{id} // '', qr/^\S+$/, 'with an "id:" line');
    my $d = json_subset_diff({ jsonrpc => '2.0', id => 1,
                               result => { protocolVersion => '2024-11-05', capabilities => { tools => '*ANY*' },
                                           serverInfo => { name => '*ANY*', version => '*ANY*' } } },
                             $ev->{json});
    ok(!defined $d, 'negotiated 2024-11-05, tools capability, serverInfo') or diag($d);
    unlike($ev->{data}, qr/\n/, 'the data is one line of compact JSON');

    # the notification: 202 and nothing on the stream (the next message is the marker's answer)
    my $n_before = () = messages($st);
    $r = post($url, { jsonrpc => '2.0', method => 'notifications/initialized' });
    is($r->status, 202, 'notifications/initialized: 202');
    is($r->body, '', 'with an empty body');
    post($url, { jsonrpc => '2.0', id => 'mark-1', method => 'ping' });
    wait_answer($st, 'mark-1');
    my @new = messages_since($st, $n_before);
    is(scalar @new, 1, 'nothing on the stream for the notification') or diag(stream_dump($st));

    # a client response (to no request of ours) is taken quietly too
    $n_before = () = messages($st);
    $r = post($url, { jsonrpc => '2.0', id => 'srv-1', result => {} });
    is($r->status, 202, 'a JSON-RPC response from the client: 202');
    post($url, { jsonrpc => '2.0', id => 'mark-2', method => 'ping' });
    wait_answer($st, 'mark-2');
    @new = messages_since($st, $n_before);
    is(scalar @new, 1, 'nothing on the stream for it') or diag(stream_dump($st));

    # tools/list, tools/call
    $r = post($url, { jsonrpc => '2.0', id => 2, method => 'tools/list' });
    is($r->status, 202, 'tools/list: 202');
    $ev = wait_answer($st, 2);
    is(join(',', sort map { $_->{name} } @{ ($ev->{json}{result} // {})->{tools} || [] }), 'echo,nap',
       'tools/list: the tools on the stream') or diag(stream_dump($st));
    $r = post($url, { jsonrpc => '2.0', id => 3, method => 'tools/call',
                      params => { name => 'echo', arguments => { message => 'hello legacy' } } });
    is($r->status, 202, 'tools/call: 202');
    $ev = wait_answer($st, 3);
    $d = json_subset_diff({ jsonrpc => '2.0', id => 3,
                            result => { content => [{ type => 'text', text => 'hello legacy' }] } },
                          $ev->{json});
    ok(!defined $d, 'tools/call: the backend result on the stream') or diag($d // '', "\n", stream_dump($st));

    # a call that takes 1.5 s: the 202 comes only once the answer is on the stream
    my $t0 = time;
    $r = post($url, { jsonrpc => '2.0', id => 'nap', method => 'tools/call', params => { name => 'nap' } });
    my $took = time - $t0;
    is($r->status, 202, 'a slow tools/call: 202');
    cmp_ok($took, '>=', 1.4, sprintf('the 202 waited for the backend (%.2f s, it sleeps 1.5 s)', $took));
    # the event was written before the 202; allow a moment for loopback delivery
    read_until($st, sub { answers($_[0], 'nap') }, 0.3);
    my ($nap) = answers($st, 'nap');
    like(((($nap // {})->{json}{result} // {})->{content}[0] // {})->{text} // '', qr/slept 1500 ms/,
         'the answer was already on the stream when the 202 arrived') or diag(stream_dump($st));

    # a second initialize
    $r = post($url, initialize_msg('again', '2024-11-05'));
    is($r->status, 202, 'a second initialize: 202');
    $ev = wait_answer($st, 'again');
    is(($ev->{json}{error} // {})->{code}, -32600, 'a second initialize: error -32600 on the stream')
        or diag(stream_dump($st));

    # unknown method: the usual JSON-RPC error, on the stream
    $r = post($url, { jsonrpc => '2.0', id => 'nope', method => 'no/such' });
    is($r->status, 202, 'an unknown method: 202');
    $ev = wait_answer($st, 'nope');
    is(($ev->{json}{error} // {})->{code}, -32601, 'an unknown method: -32601 on the stream');

    # parse error: 400 -32700, nothing on the stream
    $n_before = () = messages($st);
    $r = post($url, '{"jsonrpc":"2.0","id":9,"method":');
    is($r->status, 400, 'unparseable JSON: 400') or diag(describe($r));
    is((($r->{json} // {})->{error} // {})->{code}, -32700, 'with a JSON-RPC -32700 error body');
    $r = post($url, { jsonrpc => '2.0', id => 'wrong-type', method => 'ping' }, type => 'text/plain');
    is($r->status, 415, 'Content-Type: text/plain: 415') or diag(describe($r));
    post($url, { jsonrpc => '2.0', id => 'mark-3', method => 'ping' });
    wait_answer($st, 'mark-3');
    @new = messages_since($st, $n_before);
    is(join(',', map { $_->{json}{id} // 'null' } @new), 'mark-3',
       'nothing on the stream for the refused POSTs') or diag(stream_dump($st));

    # event ids: on every message, unique over many
    for my $i (1 .. 40) {
        my $p = post($url, { jsonrpc => '2.0', id => "many-$i", method => 'ping' });
        last unless ($p->status // 0) == 202;
    }
    wait_answer($st, 'many-40');
    my @msgs = messages($st);
    my @ids = grep { defined && length } map { $_->{id} } @msgs;
    my %seen;
    $seen{$_}++ for @ids;
    is(scalar @ids, scalar @msgs, 'every message event has an id (' . scalar(@msgs) . ' messages)');
    is(scalar keys %seen, scalar @ids, 'event ids are unique');
    is(scalar(grep { /^many-/ } map { $_->{json}{id} // '' } @msgs), 40, 'all 40 pings answered once');

    # keepalive comments (mcp_sse_ping_interval 200ms)
    my $pings_before = () = $st->{text} =~ /^: ping$/mg;
    read_for($st, 1.5);
    my $pings = (() = $st->{text} =~ /^: ping$/mg) - $pings_before;
    cmp_ok($pings, '>=', 2, "keepalive comments every 200ms ($pings in 1.5 s)");
    ok(!$st->{closed}, 'the stream is still open');

    # unknown session
    $r = post('/sse?sessionId=0123456789abcdef0123456789abcdef',
              { jsonrpc => '2.0', id => 1, method => 'ping' });
    is($r->status, 404, 'unknown sessionId: 404') or diag(describe($r));
    is((($r->{json} // {})->{error} // {})->{code}, -32001, 'with JSON-RPC error -32001');

    # a transport's sessions are reached through it only: DELETE (a
    # Streamable HTTP request) does not end an HTTP with SSE session
    my $sid = ($url =~ /sessionId=([0-9a-f]{32})/)[0];
    $r = http_request(port => $port, method => 'DELETE', path => '/sse',
                      headers => [['Mcp-Session-Id', $sid]]);
    is($r->status, 404, 'DELETE with a legacy session id: 404');
    ok(!read_for($st, 0.3), 'and the stream stays open');

    # the client goes: the session ends
    close $st->{sock};
    my $gone;
    my $end = time + 5;
    while (time < $end) {
        $gone = post($url, { jsonrpc => '2.0', id => 'after', method => 'ping' });
        last if ($gone->status // 0) == 404;
        sleep 0.1;
    }
    is($gone->status, 404, 'after the client closed the stream, its session is gone (404) within 5 s')
        or diag(describe($gone));
    is((($gone->{json} // {})->{error} // {})->{code}, -32001, 'with -32001');
}

# ---------------------------------------------------------------------------
# the stream closes while a request runs: its POST cannot be answered 202

{
    my ($st, $ok) = legacy_session(path => '/sse');
    ok($ok, 'a session for a call outlived by its stream');
    my $pid = fork // die "fork: $!";
    if (!$pid) {                    # the child closes the stream 0.3 s into the 1.5 s call
        sleep 0.3;
        close $st->{sock};
        POSIX::_exit(0);
    }
    close $st->{sock};
    my $r = post($st->{post}, { jsonrpc => '2.0', id => 'orphan', method => 'tools/call',
                                params => { name => 'nap' } });
    waitpid $pid, 0;
    like($r->status // '', qr/^(?:410|404)$/, 'the stream closed during a tools/call: 410 (or 404)')
        or diag(describe($r));
    ok(ref $r->{json} eq 'HASH' && ref $r->{json}{error} eq 'HASH', 'with a JSON-RPC error body')
        or diag(describe($r));
}

# ---------------------------------------------------------------------------
# protocol versions

for my $v (['2025-06-18', '2025-06-18'], ['2025-03-26', '2025-03-26'], ['1999-01-01', '2025-11-25']) {
    my $st = open_legacy(path => '/sse');
    my $r = post("/sse?sessionId=" . ($st->{sid} // 'none'), initialize_msg(7, $v->[0]));
    my $ev = wait_answer($st, 7);
    is((($ev // {})->{json}{result} // {})->{protocolVersion}, $v->[1],
       "initialize asking $v->[0]: negotiated $v->[1]");
    close $st->{sock};
}

# ---------------------------------------------------------------------------
# two workers, two streams: every POST on a fresh connection, each answer
# exactly once and in its own session's stream

{
    my $log = $nginx->prefix . '/logs/workers.log';
    my $log_from = -s $log || 0;
    my $counters = sub {
        my $h = http_request(port => $port, path => '/health/ready');
        my $m = ($h->json // {})->{messages};
        return ref $m eq 'HASH' ? $m : { body => $h->body };
    };
    my $before = $counters->();
    my ($sa, $ok_a) = legacy_session(path => '/sse');
    my ($sb, $ok_b) = legacy_session(path => '/sse');
    ok($ok_a && $ok_b, 'two legacy sessions initialized');
    my (%bad, $sent);
    for my $i (1 .. 40) {
        for my $s (['a', $sa], ['b', $sb]) {
            my ($tag, $st) = @$s;
            my $msg = $i % 2
                ? { jsonrpc => '2.0', id => "$tag-$i", method => 'tools/call',
                    params => { name => 'echo', arguments => { message => "$tag-$i" } } }
                : { jsonrpc => '2.0', id => "$tag-$i", method => 'ping' };
            my $r = post($st->{post}, $msg);
            $sent++;
            $bad{"$tag-$i"} = describe($r) unless ($r->status // 0) == 202;
        }
    }
    is(scalar keys %bad, 0, "all $sent POSTs answered 202")
        or diag(join "\n", map { "$_: $bad{$_}" } sort keys %bad);
    read_until($sa, sub { answers($_[0], 'a-40') }, 10);
    read_until($sb, sub { answers($_[0], 'b-40') }, 10);
    read_for($sa, 0.5);      # duplicates, if any, would show up now
    read_for($sb, 0.5);
    for my $s (['a', $sa, 'b'], ['b', $sb, 'a']) {
        my ($tag, $st, $other) = @$s;
        my %count;
        $count{ $_->{json}{id} // '' }++ for grep { ref $_->{json} eq 'HASH' } messages($st);
        my @missing = grep { ($count{"$tag-$_"} // 0) != 1 } 1 .. 40;
        is(scalar @missing, 0, "stream $tag: each of its 40 answers exactly once")
            or diag('wrong count for ' . join(', ', map { "$tag-$_ x" . ($count{"$tag-$_"} // 0) } @missing));
        my @foreign = grep { /^\Q$other\E-/ } keys %count;
        is(scalar @foreign, 0, "stream $tag: nothing of the other session") or diag("@foreign");
        my @echo = grep { ref $_->{json} eq 'HASH' && ($_->{json}{id} // '') =~ /^\Q$tag\E-(\d+)$/ && $1 % 2 }
                   messages($st);
        my @wrong = grep { ((($_->{json}{result} // {})->{content} // [])->[0] // {})->{text} ne $_->{json}{id} }
                    @echo;
        is(scalar @wrong, 0, "stream $tag: each tools/call result is its own") or diag(stream_dump($st));
    }
    my %ids;
    $ids{ $_->{id} // '' }++ for messages($sa);
    is(scalar(grep { $ids{$_} > 1 || $_ eq '' } keys %ids), 0, 'event ids unique in stream a');

    # the POSTs really went to both workers
    my $text = '';
    for (1 .. 20) {
        open my $fh, '<', $log or last;
        seek $fh, $log_from, 0;
        $text = do { local $/; <$fh> } // '';
        last if $text =~ /\Q$sa->{sid}\E/;
        sleep 0.1;
    }
    my %pids = map { /^(\d+) POST 202 /; ($1 // 'x') => 1 } grep { / POST 202 / } split /\n/, $text;
    delete $pids{x};
    is(scalar keys %pids, 2, 'the POSTs were taken by both workers') or diag($text);

    my $after = $counters->();
    my %delta = map { $_ => ($after->{$_} // 0) - ($before->{$_} // 0) } qw(local ipc failed);
    my $show = "before: " . $JSON->encode($before) . "\nafter: " . $JSON->encode($after);
    cmp_ok($delta{ipc}, '>', 0, "/health/ready: messages that crossed workers counted (ipc +$delta{ipc})")
        or diag($show);
    cmp_ok($delta{local}, '>', 0, "and messages put on the stream by the worker that ran them (local +$delta{local})")
        or diag($show);
    is($delta{ipc} + $delta{local}, 80 + 2, 'ipc + local: the 80 answers and the 2 initialize results')
        or diag($show);
    is($delta{failed}, 0, 'and none failed') or diag($show);
    close $sa->{sock};
    close $sb->{sock};
}

# ---------------------------------------------------------------------------
# a client that never reads: cut off at mcp_sse_max_backlog (64k), not
# buffered without limit

{
    my $from = $nginx->error_log_size;
    my $st = open_legacy(path => '/slow', rcvbuf => 4096);
    my $url = "/slow?sessionId=" . ($st->{sid} // 'none');
    my $r = post($url, initialize_msg(1, '2024-11-05'));
    is($r->status, 202, 'slow reader: initialize 202');
    wait_answer($st, 1);
    post($url, { jsonrpc => '2.0', method => 'notifications/initialized' });

    # from now on nothing is read from the stream. Whatever the kernel holds
    # (at most tcp_wmem's maximum on nginx's side plus our small receive
    # buffer) and the backlog bound what can be accepted before the cut.
    my ($wmem_max) = (do { local $/; open my $f, '<', '/proc/sys/net/ipv4/tcp_wmem'; <$f> } // '') =~ /(\d+)\s*$/;
    $wmem_max ||= 4 * 1024 * 1024;
    my $msg_size = 48000;
    my $bound = $wmem_max + 65536 + 65536 + 2 * $msg_size;
    my $max_posts = int($bound / $msg_size) + 20;
    my ($accepted, $cut) = (0);
    for my $i (1 .. $max_posts) {
        my $p = post($url, { jsonrpc => '2.0', id => "big-$i", method => 'tools/call', params => { name => 'big' } },
                     timeout => 30);
        if (($p->status // 0) == 202) { $accepted++; next }
        $cut = $p;
        last;
    }
    ok($cut, "slow reader: a POST is refused before $max_posts (${\ ($accepted)} accepted)")
        or diag("every POST was accepted: the stream is buffered without limit");
    like($cut ? $cut->status // '' : '', qr/^(?:404|410)$/, 'slow reader: with 410 or 404')
        or diag($cut ? describe($cut) : 'no refused POST');
    cmp_ok($accepted * $msg_size, '<=', $bound,
           'slow reader: what was accepted fits in the kernel buffers plus the backlog');

    # the stream is closed: reading it now ends, and not after an unbounded amount
    read_until($st, sub { 0 }, 30);
    ok($st->{closed}, 'slow reader: the server closed the stream (' . ($st->{closed} || 'still open') . ')');
    cmp_ok($st->{bytes}, '<=', $bound + 65536, "slow reader: $st->{bytes} bytes were left to read");

    my $gone;
    my $end = time + 5;
    while (time < $end) {
        $gone = post($url, { jsonrpc => '2.0', id => 'after', method => 'ping' });
        last if ($gone->status // 0) == 404;
        sleep 0.1;
    }
    is($gone->status, 404, 'slow reader: the session has ended (404)') or diag(describe($gone));
    my $log = '';
    for (1 .. 40) {
        last if ($log = $nginx->error_log($from)) =~ /mcp_sse_max_backlog/;
        sleep 0.05;
    }
    like($log, qr/mcp_sse_max_backlog/, 'slow reader: the error log names mcp_sse_max_backlog');
    close $st->{sock};
}

$nginx->stop;
my @bad = $nginx->error_log =~ /^(.*(?:\[(?:alert|crit|emerg)\]|exited on signal).*)$/mg;
is(scalar @bad, 0, 'no alert, crit, emerg or crash in the error log') or diag(join "\n", @bad);

done_testing();
