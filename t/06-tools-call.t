# tools/call forwarding to HTTP tool backends.
#
# MCP specification, revisions 2025-06-18 and 2025-11-25, server/tools:
#   "Tool Result"      - a result holds a content array of text, image, audio,
#                        resource_link and embedded resource blocks;
#   "Structured Content" - a JSON object result is also returned as
#                        structuredContent, with its serialization in a text
#                        block for backwards compatibility;
#   "Output Schema"    - a tool that declares an output schema must return
#                        structured content conforming to it;
#   "Error Handling"   - failures of the tool itself are tool results with
#                        isError true, never protocol errors (and never another
#                        HTTP status).
# Revision 2025-03-26 has no structuredContent, so it is left out for sessions
# that negotiated it.
#
# The first part drives flows that need their own backend (raw bytes, chunked
# bodies, empty error bodies, a closed port) or several requests; the blocks
# after __DATA__ share one server configuration, $COMMON below.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use Encode ();
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

my $ROOT    = repo_root();
my $SCHEMAS = "$ROOT/conf-examples/schemas";
my $JSON    = JSON::PP->new->utf8->canonical->allow_nonref;
binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

# ---------------------------------------------------------------------------
# A raw HTTP backend whose answer is described by the request body (the tool
# arguments): {"status":N, "type":T, "hex":HEX | "bytes":N,
# "framing":"length"|"chunked"|"close"} or {"echo":true}, which answers 200
# application/json with the request line, headers and body it received.

my @RAW_PIDS;

sub raw_answer {
    my ($c, $request_line, $headers, $body) = @_;
    my $spec = eval { $JSON->decode($body) } || {};
    if ($spec->{echo}) {
        my $out = $JSON->encode({ request_line => $request_line, headers => $headers,
                                  body => $body });
        print {$c} "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 . 'Content-Length: ' . length($out) . "\r\nConnection: close\r\n\r\n$out";
        return;
    }
    my $status = $spec->{status} // 200;
    my $data = defined $spec->{hex} ? pack('H*', $spec->{hex}) : 'x' x ($spec->{bytes} // 0);
    my $framing = $spec->{framing} // 'length';
    my $head = "HTTP/1.1 $status Whatever\r\n";
    $head .= "Content-Type: $spec->{type}\r\n" if defined $spec->{type};
    if ($framing eq 'chunked') {
        print {$c} $head . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        for (my $off = 0; $off < length $data; $off += 1000) {
            my $part = substr $data, $off, 1000;
            printf {$c} "%x\r\n%s\r\n", length $part, $part;
        }
        print {$c} "0\r\n\r\n";
    } elsif ($framing eq 'close') {
        print {$c} $head . "Connection: close\r\n\r\n" . $data;
    } else {
        print {$c} $head . 'Content-Length: ' . length($data) . "\r\nConnection: close\r\n\r\n" . $data;
    }
}

sub raw_serve {
    my ($c) = @_;
    binmode $c;
    $c->autoflush(1);
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        sysread($c, $buf, 65536, length $buf) or return;
    }
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    my ($request_line, @lines) = split /\r\n/, $head;
    my %headers;
    for (@lines) {
        next unless /^([^:]+):\s*(.*)$/;
        my $k = lc $1;
        $headers{$k} = exists $headers{$k} ? "$headers{$k}, $2" : $2;
    }
    my $want = $headers{'content-length'} // 0;
    while (length $body < $want) {
        sysread($c, $body, 65536, length $body) or last;
    }
    raw_answer($c, $request_line, \%headers, $body);
    shutdown $c, 1;
    1 while sysread($c, my $junk, 65536);
    close $c;
}

sub start_raw_backend {
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 64,
                                   ReuseAddr => 1, Proto => 'tcp') or die "raw backend: $!";
    my $port = $ls->sockport;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $SIG{CHLD} = 'IGNORE';
        while (1) {
            my $c = $ls->accept or next;
            my $kid = fork;
            if (defined $kid && !$kid) {
                close $ls;
                raw_serve($c);
                POSIX::_exit(0);
            }
            close $c;
        }
    }
    close $ls;
    push @RAW_PIDS, $pid;
    return $port;
}

END {
    local $?;
    for my $pid (@RAW_PIDS) { kill 'KILL', $pid; waitpid $pid, 0 }
}

# one tools/call; returns (http response, decoded JSON-RPC answer)
sub call_tool {
    my ($port, $sid, $version, $name, $args, %o) = @_;
    my $msg = { jsonrpc => '2.0', id => $o{id} // 2, method => 'tools/call',
                params => { name => $name, (defined $args ? (arguments => $args) : ()) } };
    my $res = json_rpc(port => $port, session => $sid, version => $version, message => $msg,
                       headers => $o{headers}, timeout => $o{timeout});
    return ($res, $res->{json});
}

sub tool_error_result {
    my ($text) = @_;
    return { content => [{ type => 'text', text => $text }], isError => JSON::PP::true };
}

# ---------------------------------------------------------------------------
# Part 1: flows outside the blocks

{
    my $be = start_backend('example_backend.py');
    my $raw_port = start_raw_backend();
    my $dead_port = free_port();      # nobody listens there
    my $ng = start_nginx(backend_port => $be->port, http_config => 'mcp_session_zone zone=mcp:1m;',
                         vars => { RAW_PORT => $raw_port, DEAD_PORT => $dead_port },
                         config => <<'EOC');
location = /mcp {
    mcp;
    mcp_tool_max_response 4k;
    mcp_tool raw /raw/any;
    mcp_tool raw_query "/raw/some/path?alpha=1&beta=two%20words";
    mcp_tool dead /dead/x;
    mcp_tool slow "/t/sleep?ms=3000" timeout=700ms;
    mcp_tool nap "/t/sleep?ms=1500";
    mcp_tool echo /t/echo;
}
location = /mcp-short {
    mcp;
    mcp_tool_timeout 400ms;
    mcp_tool slow "/t/sleep?ms=3000";
}
location /raw/ { internal; proxy_http_version 1.1; proxy_pass http://127.0.0.1:$RAW_PORT/; }
location /dead/ { internal; proxy_pass http://127.0.0.1:$DEAD_PORT/; }
location /t/ { internal; proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/; }
EOC
    my $port = $ng->port;
    my ($sid, $v) = mcp_initialize(port => $port, version => '2025-06-18');
    like($sid // '', qr/^[0-9a-f]{32}$/, 'part 1: session initialized');

    # --- what the backend receives ------------------------------------------
    my ($res, $j) = call_tool($port, $sid, $v, 'raw_query', { echo => JSON::PP::true, n => 1 },
        id => 'req-1',
        headers => [['Authorization', 'Bearer secret-token'], ['Cookie', 'a=b'], ['X-Client', '1']]);
    is($res->status, 200, 'backend request: HTTP 200');
    my $seen = $j->{result}{structuredContent} // {};
    is($seen->{request_line}, 'POST /some/path?alpha=1&beta=two%20words HTTP/1.1',
       'backend request: method POST, path and ?query of the tool URI');
    is($seen->{body}, '{"echo":true,"n":1}', 'backend request: body is the compact arguments');
    my $h = $seen->{headers} // {};
    is($h->{'content-type'}, 'application/json', 'backend request: Content-Type application/json');
    is($h->{'content-length'}, '19', 'backend request: Content-Length of the arguments');
    is($h->{'mcp-tool-name'}, 'raw_query', 'backend request: Mcp-Tool-Name');
    is($h->{'mcp-session-id'}, $sid, 'backend request: Mcp-Session-Id is the session');
    is($h->{'mcp-protocol-version'}, '2025-06-18', 'backend request: Mcp-Protocol-Version');
    is($h->{'mcp-request-id'}, '"req-1"', 'backend request: Mcp-Request-Id of a string id is JSON text');
    ok(!exists $h->{$_}, "backend request: no $_ header from the client")
        for qw(authorization cookie x-client);

    # nothing else of the client's request either: only nginx's proxy headers
    # and the tool contract's headers arrive
    my %allowed = map { $_ => 1 } qw(host connection content-length content-type accept
        mcp-tool-name mcp-session-id mcp-protocol-version mcp-request-id
        x-request-id traceparent);
    ($res, $j) = call_tool($port, $sid, $v, 'raw', { echo => JSON::PP::true },
        headers => [['Authorization', 'Bearer secret-token'], ['Cookie', 'a=b'], ['X-Client', '1'],
                    ['Accept-Encoding', 'gzip'], ['User-Agent', 'test-client/1'],
                    ['X-Forwarded-For', '10.1.2.3'], ['Proxy-Authorization', 'Basic eDp5'],
                    ['Accept', 'application/json, text/event-stream, */*'],
                    ['Content-Type', 'application/json; charset=utf-8']]);
    $h = $j->{result}{structuredContent}{headers} // {};
    is_deeply([sort grep { !$allowed{$_} } keys %$h], [],
              'backend request: no client header passes (only the tool contract headers)');
    is($h->{'content-type'}, 'application/json', 'backend request: Content-Type is our own');
    isnt($h->{accept} // '', 'application/json, text/event-stream, */*',
         'backend request: the client Accept is not passed on');

    # a chunked client request: the backend still gets a Content-Length body
    my $msg = '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"raw","arguments":{"echo":true,"pad":"' . ('p' x 3000) . '"}}}';
    my $chunked = join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) } unpack('(a700)*', $msg)) . "0\r\n\r\n";
    $res = http_request(port => $port, method => 'POST', path => '/mcp', body => $chunked,
        headers => [['Content-Type', 'application/json'], ['Accept', 'application/json, text/event-stream'],
                    ['Transfer-Encoding', 'chunked'], ['Mcp-Session-Id', $sid], ['MCP-Protocol-Version', $v]]);
    is($res->status, 200, 'chunked client body: HTTP 200');
    $seen = ($res->json // {})->{result}{structuredContent} // {};
    my $want_body = '{"echo":true,"pad":"' . ('p' x 3000) . '"}';
    is($seen->{body}, $want_body, 'chunked client body: arguments forwarded');
    is($seen->{headers}{'content-length'}, length $want_body, 'chunked client body: backend gets a Content-Length');
    ok(!exists $seen->{headers}{'transfer-encoding'}, 'chunked client body: no Transfer-Encoding to the backend');

    ($res, $j) = call_tool($port, $sid, $v, 'raw', { echo => JSON::PP::true }, id => 77);
    is($j->{result}{structuredContent}{headers}{'mcp-request-id'}, '77',
       'backend request: Mcp-Request-Id of an integer id');
    is($j->{result}{structuredContent}{request_line}, 'POST /any HTTP/1.1',
       'backend request: no query string when the tool URI has none');

    # --- invalid UTF-8 from the backend -> U+FFFD, and the answer stays JSON --
    my @utf8_cases = (
        ['6162ff6364',           qr/^ab\x{FFFD}+cd$/,             'a lone 0xFF byte'],
        ['78c3287a',             qr/^x\x{FFFD}+\(z$/,             'a lead byte followed by ASCII'],
        # BUG: a lead byte followed by another lead byte (78 c3 c3 a9 79) is
        # taken for a two-byte sequence; the bytes are copied unchanged, the
        # JSON string cannot be built and the client gets an HTML 500 page
        # instead of a tool result ("x\x{FFFD}\x{e9}y" expected).
        ['78c3c3a979',           qr/^x\x{FFFD}+(?:\x{e9})?y$/,    'a lead byte followed by another lead byte'],
        ['c0af41',               qr/^\x{FFFD}+A$/,                'an overlong encoding'],
        ['41eda08042',           qr/^A\x{FFFD}+B$/,               'a UTF-16 surrogate'],
        ['f48fbfbd4b',           qr/^\x{10FFFD}K$/,               'a character of the last plane is kept'],
        ['f490808041',           qr/^\x{FFFD}+A$/,                'a code point above U+10FFFF'],
        ['c3a9f09f988061e282',   qr/^\x{e9}\x{1F600}a\x{FFFD}+$/, 'valid text then a truncated sequence'],
    );
    for my $case (@utf8_cases) {
        my ($hex, $re, $what) = @$case;
        ($res) = call_tool($port, $sid, $v, 'raw', { type => 'text/plain', hex => $hex });
        is($res->status, 200, "invalid UTF-8 ($what): HTTP 200");
        my $text = eval {
            my $chars = Encode::decode('UTF-8', $res->body, Encode::FB_CROAK());
            JSON::PP->new->decode($chars)->{result}{content}[0]{text};
        };
        ok(defined $text, "invalid UTF-8 ($what): the answer is valid UTF-8 JSON")
            or diag('got ' . length($res->body) . ' bytes: ' . unpack('H*', substr($res->body, 0, 300)));
        like($text // '', $re, "invalid UTF-8 ($what): invalid bytes replaced by U+FFFD");
    }
    ($res, $j) = call_tool($port, $sid, $v, 'raw', { status => 500, type => 'text/plain', hex => '6f6f7073ff' });
    is_deeply($j->{result}, tool_error_result("oops\x{FFFD}"),
              'invalid UTF-8 in an error body: U+FFFD in the isError text');
    # BUG: same decoding flaw as above on the error path (c3 c3 at the end)
    ($res, $j) = call_tool($port, $sid, $v, 'raw', { status => 500, type => 'text/plain', hex => '6f6f7073c3c3' });
    is($res->status, 200, 'lead byte pair in an error body: HTTP 200');
    is(ref $j eq 'HASH' && $j->{result}{isError}, JSON::PP::true, 'lead byte pair in an error body: isError');
    like(ref $j eq 'HASH' ? $j->{result}{content}[0]{text} // '' : '', qr/^oops\x{FFFD}+$/,
         'lead byte pair in an error body: U+FFFD in the text');

    # --- framing and size limits (mcp_tool_max_response 4k) --------------------
    my $limit_text = 'tool "raw" returned more than the 4096 bytes allowed by mcp_tool_max_response';
    for my $framing (qw(length chunked close)) {
        ($res, $j) = call_tool($port, $sid, $v, 'raw', { type => 'text/plain', bytes => 4096, framing => $framing });
        is_deeply($j->{result}, { content => [{ type => 'text', text => 'x' x 4096 }] },
                  "$framing body of exactly mcp_tool_max_response: the whole text");
        ($res, $j) = call_tool($port, $sid, $v, 'raw', { type => 'text/plain', bytes => 4097, framing => $framing });
        is($res->status, 200, "$framing body one byte over mcp_tool_max_response: HTTP 200");
        is_deeply($j->{result}, tool_error_result($limit_text),
                  "$framing body one byte over mcp_tool_max_response: isError");
        ($res, $j) = call_tool($port, $sid, $v, 'raw', { type => 'text/plain', bytes => 300000, framing => $framing });
        is_deeply($j->{result}, tool_error_result($limit_text),
                  "$framing body far over mcp_tool_max_response: isError");
    }

    # --- error statuses without a body -----------------------------------------
    for my $status (500, 503, 404) {
        ($res, $j) = call_tool($port, $sid, $v, 'raw', { status => $status });
        is($res->status, 200, "backend $status with an empty body: HTTP 200");
        is_deeply($j->{result}, tool_error_result(qq{tool "raw" failed with HTTP status $status}),
                  "backend $status with an empty body: isError \"failed with HTTP status $status\"");
    }
    ($res, $j) = call_tool($port, $sid, $v, 'raw', { status => 502, type => 'text/plain', hex => unpack('H*', 'upstream said no') });
    is_deeply($j->{result}, tool_error_result('upstream said no'), 'backend 502 with a body: the body is the isError text');

    # --- a malformed CallToolResult body ------------------------------------------
    ($res, $j) = call_tool($port, $sid, $v, 'raw',
        { type => 'application/vnd.mcp.tool-result+json', hex => unpack('H*', '{"content":[') });
    is($res->status, 200, 'unparsable CallToolResult: HTTP 200');
    is($j->{result}{isError}, JSON::PP::true, 'unparsable CallToolResult: isError');
    like($j->{result}{content}[0]{text} // '', qr/^tool "raw" returned an invalid CallToolResult: \S/,
         'unparsable CallToolResult: reason given');

    # --- unreachable backend ---------------------------------------------------------
    my $t0 = Time::HiRes::time();
    ($res, $j) = call_tool($port, $sid, $v, 'dead', { a => 1 });
    is($res->status, 200, 'unreachable backend: HTTP 200');
    is_deeply($j->{result}, tool_error_result('tool "dead" is unavailable: its backend could not be '
                                              . 'reached or sent an invalid response'),
              'unreachable backend: isError "is unavailable"');
    cmp_ok(Time::HiRes::time() - $t0, '<', 3, 'unreachable backend: answered at once');

    # --- timeout= : the answer comes at the timeout, not after the backend's sleep --
    $t0 = Time::HiRes::time();
    ($res, $j) = call_tool($port, $sid, $v, 'slow', undef, timeout => 10);
    my $took = Time::HiRes::time() - $t0;
    is($res->status, 200, 'tool timeout: HTTP 200');
    is_deeply($j->{result}, tool_error_result('tool "slow" timed out after 700 ms'),
              'tool timeout: isError "timed out after 700 ms"');
    ok($took >= 0.6 && $took < 2.0, 'tool timeout: answered near 700 ms, not after 3 s')
        or diag("answered after ${took}s");
    ($res, $j) = json_rpc(port => $port, session => $sid, version => $v,
                          message => '{"jsonrpc":"2.0","id":9,"method":"ping"}');
    is_deeply($res->json, { jsonrpc => '2.0', id => 9, result => {} }, 'session usable after a timeout');

    # --- a slow tool call does not hold up other sessions --------------------------
    my ($sid2) = mcp_initialize(port => $port, version => '2025-06-18');
    pipe(my $rd, my $wr) or die "pipe: $!";
    my $kid = fork // die "fork: $!";
    if (!$kid) {
        close $rd;
        my ($r) = call_tool($port, $sid, $v, 'nap', undef, timeout => 10);
        print {$wr} ($r->status // 0) . "\n" . $r->body;
        close $wr;
        POSIX::_exit(0);
    }
    close $wr;
    Time::HiRes::sleep(0.3);            # the slow call is under way
    $t0 = Time::HiRes::time();
    my $ping = json_rpc(port => $port, session => $sid2, version => $v, timeout => 5,
                        message => '{"jsonrpc":"2.0","id":5,"method":"ping"}');
    my $ping_took = Time::HiRes::time() - $t0;
    is_deeply($ping->json, { jsonrpc => '2.0', id => 5, result => {} },
              'concurrency: another session is answered during a slow tool call');
    cmp_ok($ping_took, '<', 0.5, 'concurrency: ...without waiting for the tool');
    my $sleeper = do { local $/; <$rd> };
    waitpid $kid, 0;
    my ($st, $body) = split /\n/, $sleeper // '', 2;
    is($st, 200, 'concurrency: the slow call completes');
    is_deeply(eval { $JSON->decode($body) }, { jsonrpc => '2.0', id => 2,
              result => { content => [{ type => 'text', text => 'slept 1500 ms' }] } },
              'concurrency: the slow call has its result');

    # --- tool calls in a batch (2025-03-26): one response each, in order --------
    my ($sid3, $v3) = mcp_initialize(port => $port, version => '2025-03-26');
    $res = json_rpc(port => $port, session => $sid3, version => $v3, message =>
        '[{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"nap"}},'
        . '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}},'
        . '{"jsonrpc":"2.0","id":"b","method":"tools/call","params":{"name":"echo","arguments":{"message":"two"}}},'
        . '{"jsonrpc":"2.0","id":"c","method":"ping"},'
        . '{"jsonrpc":"2.0","id":"d","method":"tools/call","params":{"name":"dead"}}]');
    is($res->status, 200, 'batch of tool calls: HTTP 200');
    is_deeply($res->json, [
        { jsonrpc => '2.0', id => 'a', result => { content => [{ type => 'text', text => 'slept 1500 ms' }] } },
        { jsonrpc => '2.0', id => 'b', result => { content => [{ type => 'text', text => 'two' }] } },
        { jsonrpc => '2.0', id => 'c', result => {} },
        { jsonrpc => '2.0', id => 'd', result => tool_error_result('tool "dead" is unavailable: its backend '
                                                 . 'could not be reached or sent an invalid response') },
    ], 'batch of tool calls: the responses in request order');

    # --- mcp_tool_timeout applies to tools without timeout= ------------------------
    my ($sid4, $v4) = mcp_initialize(port => $port, path => '/mcp-short', version => '2025-11-25');
    $t0 = Time::HiRes::time();
    $res = json_rpc(port => $port, path => '/mcp-short', session => $sid4, version => $v4, timeout => 10,
                    message => '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}');
    $took = Time::HiRes::time() - $t0;
    is_deeply($res->json, { jsonrpc => '2.0', id => 1, result => tool_error_result('tool "slow" timed out after 400 ms') },
              'mcp_tool_timeout: isError "timed out after 400 ms"');
    ok($took >= 0.3 && $took < 2.0, 'mcp_tool_timeout: answered near 400 ms') or diag("answered after ${took}s");

    # --- the client goes away during a tool call -------------------------------------
    {
        my $body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nap"}}';
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
            or die "connect: $!";
        print {$s} "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            . "Accept: application/json, text/event-stream\r\nMcp-Session-Id: $sid\r\n"
            . "Content-Length: " . length($body) . "\r\n\r\n$body";
        Time::HiRes::sleep(0.3);
        close $s;
        Time::HiRes::sleep(1.5);
        $res = json_rpc(port => $port, session => $sid, version => $v,
                        message => '{"jsonrpc":"2.0","id":6,"method":"ping"}');
        is_deeply($res->json, { jsonrpc => '2.0', id => 6, result => {} },
                  'client gone during a tool call: nginx and the session still serve');
    }

    my @bad = $ng->error_log =~ /^(.*(?:\[alert\]|\[crit\]|\[emerg\]|exited on signal).*)$/mg;
    ok(!@bad, 'part 1: no alert/crit/emerg in the error log') or diag(join "\n", @bad);
    $ng->stop;
    $be->stop;
}

# ---------------------------------------------------------------------------
# Part 2: blocks sharing one configuration

my $COMMON = <<"EOC";
location = /mcp {
    mcp;
    mcp_tool_max_response 4k;
    mcp_tool headers /t/headers;
    mcp_tool headers_gw /gw/headers;
    mcp_tool json_object "/t/json-text?value=%7B%22a%22%3A%201%2C%20%22b%22%3A%20%5Btrue%2C%20null%5D%2C%20%22c%22%3A%20%22x%22%7D";
    mcp_tool json_array "/t/json-text?value=%5B1%2C%20%22two%22%2C%20%7B%22three%22%3A%203%7D%5D";
    mcp_tool json_number "/t/json-text?value=42";
    mcp_tool json_string "/t/json-text?value=%22just%20a%20string%22";
    mcp_tool json_broken "/t/json-text?value=%7B%22a%22%3A%201";
    mcp_tool reply_json "/t/reply?type=application%2Fjson";
    mcp_tool reply_json_charset "/t/reply?type=application%2Fjson%3B%20charset%3Dutf-8";
    mcp_tool reply_text "/t/reply?type=text%2Fplain%3B%20charset%3Dutf-8";
    mcp_tool echo /t/echo;
    mcp_tool result /t/result;
    mcp_tool http_418 /t/status/418;
    mcp_tool http_500 /t/status/500;
    mcp_tool http_204 /t/status/204;
    mcp_tool nginx_503 /nginx/503;
    mcp_tool nginx_404 /nginx/404;
    mcp_tool nginx_404_text /nginx/404-text;
    mcp_tool missing /no/such/location;
    mcp_tool closer /t/close;
    mcp_tool slow "/t/sleep?ms=4000" timeout=300ms;
    mcp_tool big "/t/big?bytes=5000";
    mcp_tool big_ok "/t/big?bytes=4096";
    mcp_tool huge "/t/big?bytes=200000000";
    mcp_tool drip "/t/drip?bytes=5000&ms=20";
    mcp_tool echo_checked /t/echo input_schema=$SCHEMAS/echo.input.json;
    mcp_tool add /t/add output_schema=$SCHEMAS/add.output.json;
    mcp_tool add_text /t/echo output_schema=$SCHEMAS/add.output.json;
    mcp_tool add_array "/t/json-text?value=%5B%7B%22sum%22%3A%203%7D%5D" output_schema=$SCHEMAS/add.output.json;
    mcp_tool add_mismatch "/t/json-text?value=%7B%22sum%22%3A%20%22three%22%7D" output_schema=$SCHEMAS/add.output.json;
    mcp_tool add_extra "/t/json-text?value=%7B%22sum%22%3A%203%2C%20%22x%22%3A%201%7D" output_schema=$SCHEMAS/add.output.json;
    mcp_tool add_failing /t/status/500 output_schema=$SCHEMAS/add.output.json;
    mcp_tool result_checked /t/result output_schema=$SCHEMAS/add.output.json;
}
location /t/ { internal; proxy_pass http://127.0.0.1:\$TEST_BACKEND_PORT/; }
location /gw/ {
    internal;
    proxy_set_header X-Gateway nginx;
    proxy_pass http://127.0.0.1:\$TEST_BACKEND_PORT/;
}
location = /nginx/503 { internal; return 503; }
location = /nginx/404 { internal; return 404; }
location = /nginx/404-text { internal; default_type text/plain; return 404 "no such record"; }
EOC

run_blocks(defaults => { backend => 'example_backend.py', config => $COMMON });

__DATA__

=== TEST 1: Structured Content: a JSON object becomes structuredContent and the exact text
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"json_object"}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":2,"result":{
  "content":[{"type":"text","text":"{\"a\": 1, \"b\": [true, null], \"c\": \"x\"}"}],
  "structuredContent":{"a":1,"b":[true,null],"c":"x"}}}

=== TEST 2: Structured Content at 2025-11-25
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"name":"json_object","arguments":{}}}
--- response_json
{"jsonrpc":"2.0","id":"s","result":{
  "content":[{"type":"text","text":"{\"a\": 1, \"b\": [true, null], \"c\": \"x\"}"}],
  "structuredContent":{"a":1,"b":[true,null],"c":"x"}}}

=== TEST 3: 2025-03-26 has no structuredContent: only the text block
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"json_object"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{
  "content":[{"type":"text","text":"{\"a\": 1, \"b\": [true, null], \"c\": \"x\"}"}]}}

=== TEST 4: Structured Content: a JSON array is text only
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"json_array"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"[1, \"two\", {\"three\": 3}]"}]}}

=== TEST 5: Structured Content: a JSON number is text only
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"json_number"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"42"}]}}

=== TEST 6: Structured Content: a JSON string is text only
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"json_string"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"\"just a string\""}]}}

=== TEST 7: Error Handling: application/json that does not parse is a tool error
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"json_broken"}}
--- response_json_subset
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text","text":"*ANY*"}]}}
--- response_body_like: "text":"tool \\"json_broken\\" returned invalid JSON: [^"]
--- response_body_unlike: structuredContent

=== TEST 8: Structured Content: application/json with a charset parameter is JSON
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"reply_json_charset","arguments":{"k":"v","n":[1,2]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{\"k\":\"v\",\"n\":[1,2]}"}],
 "structuredContent":{"k":"v","n":[1,2]}}}

=== TEST 9: Tool Result: text/plain becomes a text block; the backend got the compact arguments
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"reply_text","arguments":{ "x" : 1,
  "y" : [ 1, 2, { "z" : "é ✓" } ], "e" : { } }}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{\"x\":1,\"y\":[1,2,{\"z\":\"é ✓\"}],\"e\":{}}"}]}}

=== TEST 10: Tool Result: a text/plain tool (echo)
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello\nworld \"quoted\""}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"hello\nworld \"quoted\""}]}}

=== TEST 11: Tool Result: 204 No Content is an empty text block
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"http_204"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":""}]}}

=== TEST 12: backend request headers: Mcp-Tool-Name, Mcp-Session-Id, Mcp-Protocol-Version, string Mcp-Request-Id
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":"abc","method":"tools/call","params":{"name":"headers","arguments":{"q":"v"}}}
--- more_headers
Authorization: Bearer secret-token
Cookie: a=b
X-Client: 1
--- response_json_subset
{"jsonrpc":"2.0","id":"abc","result":{"content":[{"type":"text","text":"*ANY*"}],"structuredContent":{
  "content-type":"application/json","content-length":"9",
  "mcp-tool-name":"headers","mcp-session-id":"$SESSION_ID","mcp-protocol-version":"2025-06-18",
  "mcp-request-id":"\"abc\"","body":"{\"q\":\"v\"}"}}}
--- response_body_unlike: (?i)authorization|cookie|x-client|secret-token|a=b

=== TEST 13: backend request headers: integer Mcp-Request-Id, no arguments sends {}
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"headers"}}
--- response_json_subset
{"jsonrpc":"2.0","id":7,"result":{"structuredContent":{
  "content-type":"application/json","content-length":"2",
  "mcp-tool-name":"headers","mcp-session-id":"$SESSION_ID","mcp-protocol-version":"2025-11-25",
  "mcp-request-id":"7","body":"{}"}}}

=== TEST 14: backend request headers at 2025-03-26 (no MCP-Protocol-Version from the client)
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","id":0,"method":"tools/call","params":{"name":"headers","arguments":{}}}
--- more_headers
MCP-Protocol-Version:
Cookie: session=1
--- response_body_like: ^(?=.*\\"mcp-protocol-version\\":\\"2025-03-26\\")(?=.*\\"mcp-request-id\\":\\"0\\")
--- response_body_unlike: (?i)cookie|session=1|structuredContent

=== TEST 15: proxy_set_header in the tool location still adds headers
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"headers_gw","arguments":{"a":1}}}
--- more_headers
Authorization: Basic dXNlcjpwYXNz
--- response_json_subset
{"jsonrpc":"2.0","id":3,"result":{"structuredContent":{"x-gateway":"nginx","mcp-tool-name":"headers_gw",
 "mcp-session-id":"$SESSION_ID","body":"{\"a\":1}"}}}
--- response_body_unlike: (?i)authorization|dXNlcjpwYXNz

=== TEST 16: Tool Result: pass-through image
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"image","data":"iVBORw0KGgo=","mimeType":"image/png"}]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"image","data":"iVBORw0KGgo=","mimeType":"image/png"}]}}

=== TEST 17: Tool Result: pass-through audio
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"audio","data":"UklGRiQAAABXQVZF","mimeType":"audio/wav"}]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"audio","data":"UklGRiQAAABXQVZF","mimeType":"audio/wav"}]}}

=== TEST 18: Tool Result: pass-through embedded resources (text and blob)
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"resource","resource":{"uri":"file:///notes.txt","mimeType":"text/plain","text":"hello"}},
             {"type":"resource","resource":{"uri":"file:///a.bin","mimeType":"application/octet-stream","blob":"AAEC"}}]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[
  {"type":"resource","resource":{"uri":"file:///notes.txt","mimeType":"text/plain","text":"hello"}},
  {"type":"resource","resource":{"uri":"file:///a.bin","mimeType":"application/octet-stream","blob":"AAEC"}}]}}

=== TEST 19: Tool Result: pass-through resource_link
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"resource_link","uri":"file:///project/src/main.rs","name":"main.rs",
              "description":"Primary entry point","mimeType":"text/x-rust"}]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"resource_link","uri":"file:///project/src/main.rs",
  "name":"main.rs","description":"Primary entry point","mimeType":"text/x-rust"}]}}

=== TEST 20: Tool Result: pass-through of several blocks with annotations and _meta
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"text","text":"first","annotations":{"audience":["user"],"priority":0.5}},
             {"type":"image","data":"R0lGOD==","mimeType":"image/gif"},
             {"type":"resource_link","uri":"https://example.com/r","name":"r"},
             {"type":"text","text":"last"}],
  "_meta":{"trace":"t-1"}}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[
  {"type":"text","text":"first","annotations":{"audience":["user"],"priority":0.5}},
  {"type":"image","data":"R0lGOD==","mimeType":"image/gif"},
  {"type":"resource_link","uri":"https://example.com/r","name":"r"},
  {"type":"text","text":"last"}],
 "_meta":{"trace":"t-1"}}}

=== TEST 21: Error Handling: pass-through isError true
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"text","text":"Failed to fetch weather data: API rate limit exceeded"}],"isError":true}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"Failed to fetch weather data: API rate limit exceeded"}],"isError":true}}

=== TEST 22: Structured Content: pass-through structuredContent
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"text","text":"{\"temperature\":22.5}"}],"structuredContent":{"temperature":22.5},"isError":false}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{\"temperature\":22.5}"}],
 "structuredContent":{"temperature":22.5},"isError":false}}

=== TEST 23: pass-through structuredContent is left out for 2025-03-26
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"text","text":"{\"temperature\":22.5}"}],"structuredContent":{"temperature":22.5}}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{\"temperature\":22.5}"}]}}

=== TEST 24: invalid pass-through: content is not an array
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":{"type":"text","text":"x"}}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: \"content\" must be an array"}]}}

=== TEST 25: invalid pass-through: content missing
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":{"isError":false}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: \"content\" must be an array"}]}}

=== TEST 26: invalid pass-through: a block without type
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"text","text":"ok"},{"text":"no type"}]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: a content block has no \"type\""}]}}

=== TEST 27: invalid pass-through: unknown block type
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"video","data":"AAAA","mimeType":"video/mp4"}]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: a content block has an unknown \"type\""}]}}

=== TEST 28: invalid pass-through: image without mimeType
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"image","data":"iVBORw0KGgo="}]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: an image or audio block needs \"data\" and \"mimeType\" strings"}]}}

=== TEST 29: invalid pass-through: text block without text
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"text","text":7}]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: a text block needs a string \"text\""}]}}

=== TEST 30: invalid pass-through: resource without text or blob
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"resource","resource":{"uri":"file:///x"}}]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: a resource block needs a \"resource\" with \"uri\" and \"text\" or \"blob\""}]}}

=== TEST 31: invalid pass-through: resource_link without name
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"resource_link","uri":"file:///x"}]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: a resource_link block needs \"uri\" and \"name\""}]}}

=== TEST 32: invalid pass-through: isError not a boolean
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[{"type":"text","text":"x"}],"isError":"yes"}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: \"isError\" must be a boolean"}]}}

=== TEST 33: invalid pass-through: structuredContent not an object
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[],"structuredContent":[1,2]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: \"structuredContent\" must be an object"}]}}

=== TEST 34: invalid pass-through: _meta not an object
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result","arguments":
 {"content":[],"_meta":"x"}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text",
 "text":"tool \"result\" returned an invalid CallToolResult: \"_meta\" must be an object"}]}}

=== TEST 35: Error Handling: backend 4xx with a body
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"http_418"}}
--- response_headers
Content-Type: application/json
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"status 418"}],"isError":true}}

=== TEST 36: Error Handling: backend 5xx with a body
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"http_500"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"status 500"}],"isError":true}}

=== TEST 37: Error Handling: the backend's 400 explanation reaches the model
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":5}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"argument \"message\" must be a string"}],"isError":true}}

=== TEST 38: Error Handling: nginx error status without a body of the tool's own
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nginx_503"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"tool \"nginx_503\" failed with HTTP status 503"}],"isError":true}}

=== TEST 39: Error Handling: tool location answering 404
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nginx_404"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"tool \"nginx_404\" failed with HTTP status 404"}],"isError":true}}

=== TEST 40: Error Handling: tool URI that no location serves
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"missing"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"tool \"missing\" failed with HTTP status 404"}],"isError":true}}

=== TEST 41: Error Handling: a 404 with a body from nginx itself is the text
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nginx_404_text"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"no such record"}],"isError":true}}

=== TEST 42: Error Handling: backend closes the connection without answering
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"closer"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"tool \"closer\" is unavailable: its backend could not be reached or sent an invalid response"}],"isError":true}}

=== TEST 43: Error Handling: timeout= answers at the timeout (the request would time out after 2 s)
--- init: 2025-06-18
--- timeout: 2
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"tool \"slow\" timed out after 300 ms"}],"isError":true}}

=== TEST 44: mcp_tool_max_response: Content-Length over the limit
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"big"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"tool \"big\" returned more than the 4096 bytes allowed by mcp_tool_max_response"}],"isError":true}}

=== TEST 44a: mcp_tool_max_response: a 200 MB answer is cut short, not read to the end
--- init: 2025-06-18
--- timeout: 3
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"huge"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"tool \"huge\" returned more than the 4096 bytes allowed by mcp_tool_max_response"}],"isError":true}}

=== TEST 45: mcp_tool_max_response: a body of exactly the limit
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"big_ok"}}
--- response_body_eval
'{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"' . ('x' x 4096) . '"}]}}'

=== TEST 46: mcp_tool_max_response: a body dripping in over the limit
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"drip"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"tool \"drip\" returned more than the 4096 bytes allowed by mcp_tool_max_response"}],"isError":true}}

=== TEST 47: Output Schema: conforming structured content
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":40}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{\"sum\":42}"}],"structuredContent":{"sum":42}}}

=== TEST 48: Output Schema: a text result has no structured content
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_text","arguments":{"message":"3"}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"tool \"add_text\" declares an output schema but returned no structured content"}],"isError":true}}

=== TEST 49: Output Schema: a JSON array is no structured content
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_array"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"tool \"add_array\" declares an output schema but returned no structured content"}],"isError":true}}

=== TEST 50: Output Schema: property of the wrong type
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_mismatch"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"tool \"add_mismatch\" returned a result that does not match its output schema: structured content: property \"sum\" has the wrong type"}],"isError":true}}

=== TEST 51: Output Schema: additionalProperties false
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_extra"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"tool \"add_extra\" returned a result that does not match its output schema: structured content: unexpected property \"x\""}],"isError":true}}

=== TEST 52: Output Schema: pass-through structuredContent missing a required property
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result_checked","arguments":
 {"content":[{"type":"text","text":"{}"}],"structuredContent":{}}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"tool \"result_checked\" returned a result that does not match its output schema: structured content: missing required property \"sum\""}],"isError":true}}

=== TEST 53: Output Schema: pass-through conforming structuredContent
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result_checked","arguments":
 {"content":[{"type":"text","text":"{\"sum\":1.5}"}],"structuredContent":{"sum":1.5}}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{\"sum\":1.5}"}],"structuredContent":{"sum":1.5}}}

=== TEST 54: Output Schema: a tool error needs no structured content
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_failing"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"status 500"}],"isError":true}}

=== TEST 55: Output Schema: pass-through isError true needs no structured content
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"result_checked","arguments":
 {"content":[{"type":"text","text":"division by zero"}],"isError":true}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"division by zero"}],"isError":true}}

=== TEST 56: Output Schema: checked for 2025-03-26 too, structuredContent then left out
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{\"sum\":3}"}]}}

=== TEST 57: input_schema (2025-11-25): missing required property is a tool execution error
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo_checked","arguments":{}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"Invalid arguments: missing required property \"message\""}],"isError":true}}

=== TEST 58: input_schema (2025-11-25): absent arguments are checked as {}
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo_checked"}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"Invalid arguments: missing required property \"message\""}],"isError":true}}

=== TEST 59: input_schema (2025-11-25): wrong property type
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo_checked","arguments":{"message":["x"]}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"Invalid arguments: property \"message\" has the wrong type"}],"isError":true}}

=== TEST 60: input_schema (2025-11-25): additionalProperties false
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo_checked","arguments":{"message":"x","loud":true}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text",
 "text":"Invalid arguments: unexpected property \"loud\""}],"isError":true}}

=== TEST 61: input_schema (2025-06-18): a JSON-RPC error -32602
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo_checked","arguments":{"text":"x"}}}
--- response_json
{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"Invalid params: arguments: missing required property \"message\""}}

=== TEST 62: input_schema (2025-03-26): a JSON-RPC error -32602
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","id":"e","method":"tools/call","params":{"name":"echo_checked","arguments":{"message":1}}}
--- response_json
{"jsonrpc":"2.0","id":"e","error":{"code":-32602,"message":"Invalid params: arguments: property \"message\" has the wrong type"}}

=== TEST 63: input_schema: valid arguments reach the tool
--- init: 2025-11-25
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo_checked","arguments":{"message":"checked ✓"}}}
--- response_json
{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"checked ✓"}]}}
