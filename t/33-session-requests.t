# mcp_max_session_requests (README): a session has at most that many
# requests in progress at once on a host, whatever worker takes them; one
# more gets 429 with Retry-After and a JSON-RPC error, and nothing of it
# reaches a tool backend.  A request that ends, however it ends (answered,
# or its client gone), makes room.  0 turns the limit off.  Also: a tool
# name of any length in tools/call is an unknown tool, answered briefly.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use IO::Socket::INET;
use IO::Select;

my $backend = start_backend('example_backend.py', '--verbose');

my $nginx = start_nginx(
    workers => 2,
    http_config => 'mcp_session_zone zone=mcp:1m;',
    backend_port => $backend->port,
    config => <<'CONF');
location = /mcp {
    mcp;
    mcp_max_session_requests 2;
    mcp_tool nap "/t/sleep?ms=1500";
    mcp_tool doze "/t/sleep?ms=8000";
    mcp_tool echo /t/tools/echo;
}
location = /free {
    mcp;
    mcp_max_session_requests 0;
    mcp_tool nap "/t/sleep?ms=1500";
}
location /t/ {
    internal;
    proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/;
}
CONF

my $port = $nginx->port;

sub call_body {
    my ($id, $name, $args) = @_;
    return qq({"jsonrpc":"2.0","id":$id,"method":"tools/call","params":)
         . qq({"name":"$name","arguments":) . ($args // '{}') . '}}';
}

# a POST sent on a socket of its own, its answer read later
sub send_post {
    my ($sid, $body, $path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    print $s "POST " . ($path // '/mcp') . " HTTP/1.1\r\nHost: localhost\r\n"
           . "Content-Type: application/json\r\n"
           . "Accept: application/json, text/event-stream\r\n"
           . "Mcp-Session-Id: $sid\r\nMCP-Protocol-Version: 2025-06-18\r\n"
           . "Content-Length: " . length($body) . "\r\n"
           . "Connection: close\r\n\r\n$body";
    return $s;
}

# a response reaches the client a moment before nginx ends the request
# (and its count): let the previous request end before counting anew
sub settle { select undef, undef, undef, 0.3 }

# POSTs that stay in progress: one refused at once, because the request
# before it had not quite ended, is sent again
sub send_held {
    my ($sid, @bodies) = @_;
    my @s = map { send_post($sid, $_) } @bodies;
    for my $i (0 .. $#s) {
        for (1 .. 5) {
            last unless IO::Select->new($s[$i])->can_read(0.3);
            close $s[$i];
            settle();
            $s[$i] = send_post($sid, $bodies[$i]);
        }
    }
    return @s;
}

sub read_all {
    my ($s, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $end = time + ($timeout // 10);
    while (time < $end) {
        next unless $sel->can_read(0.2);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    return $buf;
}

my ($sid) = mcp_initialize(port => $port);
ok($sid, 'a session');
my ($other) = mcp_initialize(port => $port);

settle();
my @slow = send_held($sid, map { call_body($_, 'nap') } 1 .. 2);

my $r = json_rpc(port => $port, session => $sid, version => '2025-06-18',
                 message => call_body(3, 'echo', '{"message":"x"}'));
is($r->status, 429, 'a third request of the session: 429');
is($r->header('Retry-After'), '1', 'with Retry-After');
is($r->json->{error}{code}, -32000, 'and a JSON-RPC error');
like($r->json->{error}{message}, qr/mcp_max_session_requests/,
     'naming the limit');
unlike($backend->log_text, qr/echo/, 'the refused call never reached the backend');

$r = json_rpc(port => $port, session => $other, version => '2025-06-18',
              message => call_body(4, 'echo', '{"message":"y"}'));
is($r->status, 200, 'another session is not held back');

for my $i (0 .. 1) {
    like(read_all($slow[$i]), qr/^HTTP\/1\.1 200.*"result"/s,
         'nap ' . ($i + 1) . ' is answered');
    close $slow[$i];
}

$r = json_rpc(port => $port, session => $sid, version => '2025-06-18',
              message => call_body(5, 'echo', '{"message":"z"}'));
is($r->status, 200, 'once they ended, the session may call again');

# clients that go away mid-call make room as well (dozes last 8 s)
settle();
@slow = send_held($sid, map { call_body(5 + $_, 'doze') } 1 .. 2);
ok(wait_for(5, sub {
    json_rpc(port => $port, session => $sid, version => '2025-06-18',
             message => '{"jsonrpc":"2.0","id":9,"method":"ping"}')->status == 429
}), 'two naps in progress again: a ping is refused');
close $_ for @slow;
ok(wait_for(5, sub {
    json_rpc(port => $port, session => $sid, version => '2025-06-18',
             message => '{"jsonrpc":"2.0","id":10,"method":"ping"}')->status == 200
}), 'their clients gone, a ping is taken');

# the count is the session's, over both workers
{
    settle();
    my @s = map { send_post($sid, call_body(20 + $_, 'nap')) } 1 .. 6;
    my @status = map { read_all($_) =~ /^HTTP\/1\.1 (\d+)/ ? $1 : 0 } @s;
    is(scalar(grep { $_ == 200 } @status), 2, 'six at once: two taken');
    is(scalar(grep { $_ == 429 } @status), 4, 'four refused');
    close $_ for @s;
}

# a session ended with requests in progress leaves no count behind for the
# sessions that take its place in the zone
for my $round (1 .. 3) {
    my ($gone) = mcp_initialize(port => $port);
    settle();
    my @s = map { send_post($gone, call_body(50 + $_, 'nap')) } 1 .. 2;
    select undef, undef, undef, 0.3;
    http_request(port => $port, method => 'DELETE', path => '/mcp',
                 headers => [['Mcp-Session-Id', $gone]]);
    my ($new) = mcp_initialize(port => $port);
    my @st = map {
        json_rpc(port => $port, session => $new, version => '2025-06-18',
                 message => qq({"jsonrpc":"2.0","id":$_,"method":"ping"}))->status
    } 1 .. 2;
    is("@st", '200 200', "round $round: the next session starts with no "
                         . 'request counted');
    close $_ for @s;
}

# mcp_max_session_requests 0: no limit
{
    my ($fsid) = mcp_initialize(port => $port, path => '/free');
    my @s = map { send_post($fsid, call_body(30 + $_, 'nap'), '/free') } 1 .. 4;
    my @status = map { read_all($_) =~ /^HTTP\/1\.1 (\d+)/ ? $1 : 0 } @s;
    is(scalar(grep { $_ == 200 } @status), 4, 'with 0, four at once are taken')
        or diag("statuses: @status");
    close $_ for @s;
}

# a tool name of any length is an unknown tool, and its echo is cut short
{
    my $long = 'n' x 100000;
    my $r = json_rpc(port => $port, session => $other, version => '2025-06-18',
                     message => call_body(40, $long));
    is($r->status, 200, 'a 100000-byte tool name: 200');
    is($r->json->{error}{code}, -32602, 'an unknown tool (-32602)');
    cmp_ok(length($r->body), '<', 400, 'whose message does not repeat it');
}

my ($ok, $out) = start_nginx(test_only => 1,
    http_config => 'mcp_session_zone zone=mcp:1m;',
    config => 'location = /mcp { mcp; mcp_max_session_requests 65536; }');
ok(!$ok, 'mcp_max_session_requests 65536 fails nginx -t');
like($out, qr/"mcp_max_session_requests" must be at most 65535/, 'saying why');

like($nginx->error_log,
     qr/\[info\].*session \Q$sid\E has 2 requests in progress/,
     'a refused request is logged at info');
unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert');

done_testing();
