# mcp_limit_req_zone / mcp_limit_req (README "mcp_limit_req"): limit_req's
# leaky bucket in shared memory, paid per JSON-RPC request (each request of
# a batch pays), keyed by any complex value ($mcp_client, $mcp_tool, ...),
# after authentication.  Over the burst: 429 with Retry-After and a
# JSON-RPC error (-32000) per request, nothing of the POST dispatched; on
# the HTTP with SSE transport the POST gets the 429 and nothing reaches the
# stream.  Within the burst without nodelay: the POST waits its turn.
# Limits are shared by the workers and survive nginx -s reload; dry run,
# mcp_limit_req_status and mcp_limit_req_log_level as limit_req's twins.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Time::HiRes qw(time sleep);

my $JSON = JSON::PP->new->utf8->canonical;
my $dir = tempdir('mcp-limit-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my %token = %{ mcp_tokens("$dir/tokens", qw(alice bob carol dave erin)) };

my $backend = start_backend('example_backend.py', '--verbose');

# rate=1r/m: a bucket leaks 1/60 request a second, nothing within a test
my $http = <<'HTTP';
mcp_session_zone zone=mcp:1m;
mcp_limit_req_zone $mcp_client zone=per_client:64k rate=1r/m;
mcp_limit_req_zone $mcp_tool zone=per_tool:64k rate=1r/m;
mcp_limit_req_zone $mcp_method zone=per_method:64k rate=1r/m;
mcp_limit_req_zone $mcp_client zone=paced:64k rate=4r/s;
mcp_limit_req_zone $mcp_session_id zone=per_session:64k rate=1r/m;
mcp_limit_req_zone $binary_remote_addr zone=shared:64k rate=1r/m;
mcp_limit_req_zone $mcp_client zone=dry:64k rate=1r/m;
mcp_limit_req_zone $mcp_client zone=batchy:64k rate=1r/m;
mcp_limit_req_zone $mcp_client zone=twice:64k rate=1r/m;
log_format limits '$pid $status $mcp_client $mcp_method $mcp_limit_req_status';
keepalive_timeout 0;
HTTP

my $nginx = start_nginx(
    workers => 2,
    listen_params => 'reuseport',
    backend_port => $backend->port,
    http_config => $http,
    config => <<CONF);
access_log \$TEST_PREFIX/logs/limits.log limits;
mcp_auth bearer file=$dir/tokens;
location = /mcp {
    mcp;
    mcp_limit_req zone=per_client burst=2 nodelay;
}
location = /tools {
    mcp;
    mcp_tool echo /t/echo;
    mcp_tool add /t/add;
    mcp_limit_req zone=per_tool nodelay tool=echo;
    mcp_limit_req zone=per_method burst=1 nodelay method=tools/list;
}
location = /paced {
    mcp;
    mcp_limit_req zone=paced burst=3;
}
location = /sse {
    mcp;
    mcp_limit_req zone=per_session burst=1 nodelay;
}
location = /shared {
    mcp;
    mcp_limit_req zone=shared burst=2 nodelay;
}
location = /dry {
    mcp;
    mcp_limit_req zone=dry nodelay;
    mcp_limit_req_dry_run on;
}
location = /batchy {
    mcp;
    mcp_limit_req zone=batchy burst=1 nodelay;
}
location = /twice {
    mcp;
    mcp_limit_req zone=twice burst=2 nodelay;
    mcp_limit_req zone=twice burst=2 nodelay method=ping;
}
location = /custom {
    mcp;
    mcp_limit_req zone=dry nodelay;
    mcp_limit_req_status 503;
    mcp_limit_req_log_level warn;
}
location /t/ {
    internal;
    proxy_pass http://127.0.0.1:\$TEST_BACKEND_PORT/;
}
CONF

my $port = $nginx->port;

sub auth { [['Authorization', "Bearer $token{$_[0]}"]] }

sub init {
    my ($who, $path, $version) = @_;
    my ($sid, $v, $r) = mcp_initialize(port => $port, path => $path // '/mcp',
                                       version => $version,
                                       headers => auth($who));
    return ($sid, $v, $r);
}

sub send_msg {
    my ($who, $sid, $msg, %o) = @_;
    return json_rpc(port => $port, path => $o{path} // '/mcp', session => $sid,
                    version => $o{version} // '2025-06-18', headers => auth($who),
                    message => $msg);
}

sub ping { { jsonrpc => '2.0', id => $_[0], method => 'ping' } }

sub call {
    my ($id, $name, $args) = @_;
    return { jsonrpc => '2.0', id => $id, method => 'tools/call',
             params => { name => $name, arguments => $args } };
}

# ---------------------------------------------------------------------------
# one client over its burst, another not

my ($alice, undef, $r) = init('alice');
is($r->status, 200, 'alice: initialize (the first request of her bucket)');
is($r->{initialized_response}->status, 202,
   'notifications/initialized: not a request, not counted');

is(send_msg('alice', $alice, ping(2))->status, 200, 'alice: a ping within the burst');
is(send_msg('alice', $alice, ping(3))->status, 200, 'alice: another, the burst full');

$r = send_msg('alice', $alice, ping(4));
is($r->status, 429, 'alice: one more: 429');
like($r->header('Retry-After') // '', qr/^\d+$/, 'with Retry-After in seconds');
cmp_ok($r->header('Retry-After') // 0, '>=', 50,
       '... the time the bucket takes to leak one request (1r/m)');
is($r->json->{id}, 4, 'a JSON-RPC error for the request');
is($r->json->{error}{code}, -32000, 'code -32000');
like($r->json->{error}{message}, qr/rate limit "per_client" exceeded/,
     'naming the zone');
is($r->json->{error}{data}{retryAfter}, $r->header('Retry-After'),
   'data.retryAfter as Retry-After');

my ($bob, undef, $rb) = init('bob');
is($rb->status, 200, 'bob is counted on his own: initialize 200');
is(send_msg('bob', $bob, ping(2))->status, 200, 'bob: a ping 200');

is(send_msg('alice', $alice, ping(5))->status, 429, 'alice: still 429');

# ---------------------------------------------------------------------------
# a batch (2025-03-26) pays for each request; refused whole

my ($carol, $cv) = init('carol', '/mcp', '2025-03-26');
is($cv, '2025-03-26', 'carol negotiates 2025-03-26 (batches)');
$r = send_msg('carol', $carol, [ping(2), ping(3), ping(4)], version => '2025-03-26');
is($r->status, 429, 'a batch of three pings after initialize: 429 (excess 3 > burst 2)');
is(ref $r->json, 'ARRAY', 'an array of errors');
is_deeply([map { $_->{id} } @{ $r->json || [] }], [2, 3, 4], 'one per request, with its id');
is_deeply([map { $_->{error}{code} } @{ $r->json || [] }], [-32000, -32000, -32000],
          'each -32000');

$r = send_msg('carol', $carol,
              [ping(5), { jsonrpc => '2.0', method => 'notifications/cancelled',
                          params => { requestId => 1 } }, ping(6)],
              version => '2025-03-26');
is($r->status, 200, 'the refused batch was not charged: two pings and a notification pass');
is(scalar @{ $r->json || [] }, 2, 'two answers');
$r = send_msg('carol', $carol, [ping(7)], version => '2025-03-26');
is($r->status, 429, 'then the bucket is full');

# a batch larger than the bucket can ever take: no use retrying
{
    my ($sid) = init('carol', '/batchy', '2025-03-26');
    $r = send_msg('carol', $sid, [ping(2), ping(3), ping(4)], version => '2025-03-26',
                  path => '/batchy');
    is($r->status, 429, 'a batch of three where burst=1: 429');
    is($r->header('Retry-After'), undef, 'without Retry-After: it can never pass');
    like($r->json->[0]{error}{message}, qr/more requests than rate limit "batchy" takes at once/,
         'saying why');
    ok(!exists $r->json->[0]{error}{data}, 'and no retryAfter');
    $r = send_msg('carol', $sid, [ping(5), ping(6)], version => '2025-03-26', path => '/batchy');
    is($r->status, 429, 'a batch of two after initialize: over the burst for now');
    ok(defined $r->header('Retry-After'), 'with Retry-After: it will fit later');
}

# the order of the checks: a malformed POST is told so, not rate limited
$r = send_msg('alice', $alice, [ping(40), ping(41)]);
is($r->status, 400, 'alice, over her limit, sends a batch in 2025-06-18: 400, not 429');
like($r->json->{error}{message}, qr/batches are not supported/, '... saying why');

# two limits on one zone: a request pays the bucket once
{
    my ($sid) = init('dave', '/twice');
    my @st = map { send_msg('dave', $sid, ping($_), path => '/twice')->status } 2 .. 4;
    is("@st", '200 200 429', 'pings named by both limits of one zone pay once each (burst 2)');
}

# ---------------------------------------------------------------------------
# per tool and per method: only what the limit names pays

my ($dave) = init('dave', '/tools');
$r = send_msg('dave', $dave, call(2, 'echo', { message => 'one' }), path => '/tools');
is($r->status, 200, 'echo once: 200');
like($r->body, qr/one/, 'the tool answered');
my $before = () = $backend->log_text =~ m{POST /echo}g;
$r = send_msg('dave', $dave, call(3, 'echo', { message => 'two' }), path => '/tools');
is($r->status, 429, 'echo again: 429 (tool=echo, burst 0)');
like($r->json->{error}{message}, qr/"per_tool"/, 'by the per-tool zone');
my $after = () = $backend->log_text =~ m{POST /echo}g;
is($after, $before, 'the refused call never reached the backend');

for my $id (4 .. 6) {
    is(send_msg('dave', $dave, call($id, 'add', { a => 1, b => $id }), path => '/tools')->status,
       200, "add, call $id: 200 (not limited)");
}
is(send_msg('dave', $dave, call(7, 'nope', {}), path => '/tools')->status, 200,
   'an unknown tool is no tool of tool=echo: answered (-32602)');

my ($erin) = init('erin', '/tools');
is(send_msg('erin', $erin, call(2, 'echo', { message => 'x' }), path => '/tools')->status, 429,
   'the per-tool bucket ($mcp_tool) is shared by all clients');

my $list = { jsonrpc => '2.0', id => 8, method => 'tools/list' };
is(send_msg('dave', $dave, $list, path => '/tools')->status, 200, 'tools/list: 200');
is(send_msg('erin', $erin, $list, path => '/tools')->status, 200, 'tools/list: 200 (burst 1)');
is(send_msg('dave', $dave, $list, path => '/tools')->status, 429, 'tools/list a third time: 429');
is(send_msg('dave', $dave, ping(9), path => '/tools')->status, 200,
   'ping is not tools/list: 200');

# ---------------------------------------------------------------------------
# shared by the workers: on fresh connections POSTs land on either

{
    my (@status, %pid);
    my ($sid) = init('bob', '/shared');
    for my $id (2 .. 17) {
        push @status, send_msg('bob', $sid, ping($id), path => '/shared')->status;
    }
    is(scalar(grep { $_ == 200 } @status), 2,
       'sixteen pings after initialize with burst=2: exactly two pass')
        or diag("@status");
    is(scalar(grep { $_ == 429 } @status), 14, "fourteen are refused");
    my @lines = grep { /^\d+ (200|429) bob ping/ } split /\n/,
        Test::McpNginx::_read_file($nginx->prefix . '/logs/limits.log');
    $pid{(split / /)[0]}++ for @lines;
    is(scalar(keys %pid), 2, 'served by both workers')
        or diag('by ' . keys(%pid) . ' worker(s)');
}

# ---------------------------------------------------------------------------
# within the burst without nodelay: delayed, not refused (rate 4r/s)

{
    my ($sid) = init('dave', '/paced');
    my $t0 = time;
    my @st = map { send_msg('dave', $sid, ping($_), path => '/paced')->status } 2 .. 4;
    my $took = time - $t0;
    is("@st", '200 200 200', 'three pings in a burst of three: all answered');
    cmp_ok($took, '>=', 0.5, sprintf('but paced at the rate (%.2f s for three at 4r/s)', $took));
    like(Test::McpNginx::_read_file($nginx->prefix . '/logs/limits.log'),
         qr/^\d+ 200 dave ping DELAYED$/m, '$mcp_limit_req_status DELAYED');
    like($nginx->error_log, qr/\[warn\].*mcp: delaying requests by \d+ ms of client "dave"/,
         'a delay is logged a level below the refusals');

    # a client that goes away while its POST waits
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die $!;
    my $body = $JSON->encode(ping(10));
    print $s "POST /paced HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
           . "Accept: application/json, text/event-stream\r\nAuthorization: Bearer $token{dave}\r\n"
           . "Mcp-Session-Id: $sid\r\nMCP-Protocol-Version: 2025-06-18\r\n"
           . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    sleep 0.1;
    close $s;
    sleep 1;
    is(send_msg('dave', $sid, ping(11), path => '/paced')->status, 200,
       'a client gone during its delay: the worker serves on');
}

# ---------------------------------------------------------------------------
# HTTP with SSE: the POST gets 429, the stream nothing

{
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die $!;
    print $s "GET /sse HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
           . "Authorization: Bearer $token{erin}\r\n\r\n";
    my $sel = IO::Select->new($s);
    my $text = '';
    my $read = sub {
        my ($cond, $secs) = @_;
        my $end = time + $secs;
        while (!$cond->() && time < $end) {
            last unless $sel->can_read($end - time);
            sysread($s, my $buf, 65536) or last;
            $text .= $buf;
        }
    };
    $read->(sub { $text =~ /sessionId=([0-9a-f]{32})/ }, 5);
    my ($sid) = $text =~ /sessionId=([0-9a-f]{32})/;
    ok($sid, 'a legacy stream with its endpoint');
    my $post = sub {
        json_rpc(port => $port, path => "/sse?sessionId=$sid", headers => auth('erin'),
                 message => $_[0]);
    };
    is($post->({ jsonrpc => '2.0', id => 1, method => 'initialize',
                 params => { protocolVersion => '2024-11-05', capabilities => {},
                             clientInfo => { name => 't', version => '1' } } })->status,
       202, 'initialize: 202 (the session\'s first request)');
    is($post->(ping(2))->status, 202, 'a ping within the burst: 202');
    $r = $post->(ping(3));
    is($r->status, 429, 'one more: 429');
    ok(defined $r->header('Retry-After'), 'with Retry-After');
    is($r->json->{id}, 3, 'and the JSON-RPC error in the POST\'s answer');
    $read->(sub { 0 }, 1);
    like($text, qr/"id":2/, 'the stream has the answer to the ping let through');
    unlike($text, qr/"id":3/, 'nothing of the refused one');
    close $s;
}

# ---------------------------------------------------------------------------
# dry run, status, log level

{
    my ($sid) = init('carol', '/dry');
    my @st = map { send_msg('carol', $sid, ping($_), path => '/dry')->status } 2 .. 3;
    is("@st", '200 200', 'dry run: over the limit, still served');
    like($nginx->error_log, qr/\[error\].*mcp: limiting requests, dry run, excess: 1\.000 by zone "dry"/,
         'logged as a dry run at error (the default level)');
    ok(wait_for(5, sub {
        Test::McpNginx::_read_file($nginx->prefix . '/logs/limits.log')
            =~ /^\d+ 200 carol ping REJECTED_DRY_RUN$/m
    }), '$mcp_limit_req_status REJECTED_DRY_RUN');

    my ($s2, undef, $ri) = init('carol', '/custom');
    is($ri->status, 503, 'the dry run counted too: the real limit on the same zone refuses');
    like($nginx->error_log, qr/\[warn\].*mcp: limiting requests, excess: \S+ by zone "dry"/,
         'mcp_limit_req_log_level warn');
    ok(defined $ri->header('Retry-After'), 'mcp_limit_req_status 503 with Retry-After');
}

# ---------------------------------------------------------------------------
# the buckets survive a reload

ok($nginx->reload, 'nginx -s reload');
is(send_msg('alice', $alice, ping(6))->status, 429, 'alice is still over her limit after it');
is(send_msg('bob', $bob, ping(7))->status, 200, 'bob still has room');

my $lines = Test::McpNginx::_read_file($nginx->prefix . '/logs/limits.log');
like($lines, qr/^\d+ 429 alice ping REJECTED$/m, '$mcp_limit_req_status REJECTED');
like($lines, qr/^\d+ 200 bob ping PASSED$/m, '... PASSED');

unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert');

# ---------------------------------------------------------------------------
# configuration errors

my @bad = (
    ['mcp_limit_req zone=nowhere;' => qr/unknown mcp_limit_req_zone "nowhere"/,
     'a zone never declared'],
    ['mcp_limit_req burst=2;' => qr/must have "zone" parameter/, 'no zone'],
    ['mcp_limit_req zone=z burst=-1;' => qr/invalid burst value/, 'a negative burst'],
    ['mcp_limit_req zone=z delay=0;' => qr/invalid delay value/, 'delay=0'],
    ['mcp_limit_req zone=z method=;' => qr/an empty name/, 'an empty method='],
    ['mcp_limit_req zone=z; mcp_limit_req zone=z;' => qr/is duplicate/, 'the same zone twice'],
    ['mcp_limit_req zone=z; mcp_limit_req_status 200;' => qr/must be between 400 and 599/,
     'a status outside 4xx-5xx'],
    ['mcp_limit_req zone=z; mcp_limit_req_log_level debug;' => qr/invalid value "debug"/,
     'an unknown log level'],
);
for my $case (@bad) {
    my ($conf, $re, $what) = @$case;
    my ($ok, $out) = start_nginx(test_only => 1,
        http_config => "mcp_session_zone zone=mcp:1m;\n"
                     . 'mcp_limit_req_zone $mcp_client zone=z:64k rate=1r/s;',
        config => "location = /mcp { mcp; $conf }");
    ok(!$ok, "$what: nginx -t fails");
    like($out, $re, "$what: naming the problem") or diag($out);
}
for my $case (['rate=1r/h' => qr/invalid rate/], ['rate=0r/s' => qr/invalid rate/],
              ['zone=z rate=1r/s' => qr/invalid parameter "zone=z"|invalid zone size/],
              ['zone=z:1k rate=1r/s' => qr/is too small/])
{
    my ($args, $re) = @$case;
    my $line = $args =~ /zone=/ ? "mcp_limit_req_zone \$mcp_client $args;"
                                : "mcp_limit_req_zone \$mcp_client zone=z:64k $args;";
    my ($ok, $out) = start_nginx(test_only => 1,
        http_config => "mcp_session_zone zone=mcp:1m;\n$line",
        config => 'location = /mcp { mcp; }');
    ok(!$ok, "$args: nginx -t fails");
    like($out, $re, "$args: naming the problem") or diag($out);
}
{
    my ($ok, $out) = start_nginx(test_only => 1,
        http_config => "mcp_session_zone zone=mcp:1m;\n"
                     . 'mcp_limit_req_zone $mcp_client zone=z:64k rate=1r/s;',
        config => 'location = /a { mcp; mcp_limit_req zone=z; } '
                . 'location = /b { mcp; mcp_limit_req zone=z burst=5 tool=t; '
                . 'mcp_limit_req zone=z method=tools/list; }');
    ok($ok, 'one zone in several limits with their own filters: nginx -t passes') or diag($out);
}

# a zone's key cannot change over a reload: its buckets count something else
ok(!$nginx->reload(http_config => $http =~ s/\$mcp_client zone=per_client/\$mcp_tool zone=per_client/r),
   'a reload changing a zone\'s key is refused');
like($nginx->error_log, qr/mcp_limit_req_zone "per_client" uses the "\$mcp_tool" key while previously it used the "\$mcp_client" key/,
     'naming the zone and both keys');
is(send_msg('dave', $dave, ping(10), path => '/tools')->status, 200,
   'the running configuration serves on');

# ---------------------------------------------------------------------------
# the README's example, as written

{
    open my $fh, '<', repo_root() . '/README.md' or die $!;
    my $readme = do { local $/; <$fh> };
    my ($section) = $readme =~ /^### mcp_limit_req\n(.*?)^### /ms;
    my ($example) = $section =~ /\n\n((?:    mcp_limit_req_zone.*\n)+\n(?:    .*\n)+)/;
    ok($example, 'README has an mcp_limit_req example');
    $example =~ s/^    //mg;
    $example =~ s{/etc/nginx/mcp-tokens}{$dir/tokens};
    my ($zones, $location) = split /\n\n/, $example, 2;
    my $ex = start_nginx(
        backend_port => $backend->port,
        http_config => "mcp_session_zone zone=mcp:1m;\n$zones",
        config => $location
                . "location /tools/ { internal; proxy_pass http://127.0.0.1:\$TEST_BACKEND_PORT/; }");
    my ($sid, undef, $ri) = mcp_initialize(port => $ex->port, headers => auth('alice'));
    is($ri->status, 200, 'the example: initialize');
    my @st = map {
        json_rpc(port => $ex->port, session => $sid, version => '2025-06-18',
                 headers => auth('alice'), message => call($_, 'search', { q => 'x' }))->status
    } 1 .. 7;
    is("@st", '200 200 200 200 200 200 429',
       'the example: a client calls search once and five more in the burst, no more');
    unlike($ex->error_log, qr/\[(alert|crit|emerg)\]/, 'the example: no alert');
}

no_secrets_logged();

done_testing();
