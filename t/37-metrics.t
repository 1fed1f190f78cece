# mcp_metrics (README "mcp_metrics"): Prometheus text exposition 0.0.4 from
# counters in the session zone, the same whichever worker answers, checked
# with `promtool check metrics` (Debian's prometheus package) and read back
# as traffic flows: requests by method, tool calls by tool and outcome, the
# tool latency histogram, sessions and streams, auth failures by reason,
# rate-limited requests by zone, routed messages by path, Redis up and
# reconnects.  Counters survive nginx -s reload.  Label values are
# escaped.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my $dir = tempdir('mcp-metrics-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my %token = %{ mcp_tokens("$dir/tokens", qw(alice)) };
open my $fh, '>>', "$dir/tokens" or die $!;
my $line = `${\ repo_root()}/tools/mcp-token admin tools:admin`;
my ($admin) = $line =~ /^token: (\S+)$/m;
Test::McpNginx::register_secret($admin);
print $fh ($line =~ /^line:  (.+)$/m)[0], "\n";
close $fh;

my $root = repo_root();
my $backend = start_backend('example_backend.py');
my $dead = free_port();

my $nginx = start_nginx(
    workers => 2,
    listen_params => 'reuseport',
    backend_port => $backend->port,
    http_config => <<HTTP,
mcp_session_zone zone=mcp:1m;
mcp_limit_req_zone \$mcp_client zone=per_client:64k rate=1r/m;
mcp_limit_req_zone \$mcp_client "zone=odd\\"zone:64k" rate=1r/m;
keepalive_timeout 0;
HTTP
    config => <<CONF);
location = /mcp {
    mcp;
    mcp_auth bearer file=$dir/tokens;
    mcp_tool echo /t/echo;
    mcp_tool add /t/add input_schema=$root/conf-examples/schemas/add.input.json;
    mcp_tool nap "/t/sleep?ms=1500" timeout=200ms;
    mcp_tool broken /t/status/500;
    mcp_tool gone /dead/;
    mcp_tool secret /t/echo scopes=tools:admin;
}
location = /limited {
    mcp;
    mcp_auth bearer file=$dir/tokens;
    mcp_tool echo /t/echo;
    mcp_limit_req zone=per_client burst=1 nodelay;
}
location = /metrics { mcp_metrics; }
location /t/ { internal; proxy_pass http://127.0.0.1:\$TEST_BACKEND_PORT/; }
location /dead/ { internal; proxy_pass http://127.0.0.1:$dead/; }
CONF

my $port = $nginx->port;

sub scrape {
    my ($p) = @_;
    my $r = http_request(port => $p // $port, path => '/metrics');
    return $r;
}

# name{labels} value, as a hash; labels in the order the exposition has
sub parse {
    my ($text) = @_;
    my %m;
    for (split /\n/, $text) {
        next if /^#/ || !/\S/;
        my ($series, $value) = /^(\S+(?:\{.*\})?) (\S+)$/ or next;
        $m{$series} = $value;
    }
    return \%m;
}

sub promtool_ok {
    my ($text, $what) = @_;
    my $file = "$dir/scrape.txt";
    open my $out, '>', $file or die $!;
    print $out $text;
    close $out;
    my $res = `promtool check metrics < $file 2>&1`;
    is($?, 0, "promtool check metrics: $what") or diag($res);
}

sub auth { [['Authorization', "Bearer $_[0]"]] }

sub call {
    my ($sid, $id, $name, $args, %o) = @_;
    return json_rpc(port => $port, path => $o{path} // '/mcp', session => $sid,
                    version => '2025-06-18', headers => auth($o{token} // $token{alice}),
                    message => { jsonrpc => '2.0', id => $id, method => 'tools/call',
                                 params => { name => $name, arguments => $args } });
}

# ---------------------------------------------------------------------------
# before any traffic

my $r = scrape();
is($r->status, 200, 'GET /metrics: 200');
like($r->header('Content-Type'), qr{^text/plain; version=0\.0\.4}, 'the 0.0.4 text format');
is($r->header('Cache-Control'), 'no-store', 'not cached');
promtool_ok($r->body, 'at rest');
my $m0 = parse($r->body);
is($m0->{'mcp_requests_total{method="tools/call"}'}, 0, 'no tools/call yet');
is($m0->{'mcp_tool_calls_total{tool="echo",outcome="ok"}'}, 0,
   'a series for each configured tool and outcome, at 0');
is($m0->{'mcp_tool_call_duration_seconds_bucket{tool="echo",le="+Inf"}'}, 0,
   'and its histogram');
is($m0->{'mcp_sessions_active'}, 0, 'no session');
is($m0->{'mcp_streams_active'}, 0, 'no stream');
ok(exists $m0->{'mcp_rate_limited_total{zone="odd\"zone"}'},
   'a zone name with a quote is escaped in its label') or diag($r->body);
ok(!exists $m0->{'mcp_redis_up'}, 'no Redis series without mcp_redis');
is(http_request(port => $port, path => '/metrics', method => 'POST', body => '')->status, 405,
   'POST /metrics: 405');

# ---------------------------------------------------------------------------
# traffic

my ($sid) = mcp_initialize(port => $port, headers => auth($token{alice}));
ok($sid, 'alice initializes');

is(call($sid, $_, 'echo', { message => "m$_" })->status, 200, "echo $_") for 2 .. 4;
like(call($sid, 5, 'broken', {})->body, qr/"isError":true/, 'broken: an isError result');
like(call($sid, 6, 'nap', {})->body, qr/timed out/, 'nap: timed out');
like(call($sid, 7, 'gone', {})->body, qr/unavailable/, 'gone: unreachable');
like(call($sid, 8, 'secret', {})->body, qr/-32003/, 'secret: denied for lack of a scope');
like(call($sid, 9, 'add', { a => 'x' })->body, qr/Invalid/, 'add: invalid arguments');
like(call($sid, 10, 'nope', {})->body, qr/-32602/, 'an unknown tool');
is(json_rpc(port => $port, session => $sid, version => '2025-06-18',
            headers => auth($token{alice}),
            message => { jsonrpc => '2.0', id => 11, method => 'x/unknown' })->status,
   200, 'a method of no MCP revision');

is(json_rpc(port => $port, message => { jsonrpc => '2.0', id => 1, method => 'ping' })->status,
   401, 'no token: 401');
is(json_rpc(port => $port, headers => auth('wrong'),
            message => { jsonrpc => '2.0', id => 1, method => 'ping' })->status,
   401, 'a wrong token: 401');
is(json_rpc(port => $port, headers => [['Authorization', 'Bearer '], ]
            , message => { jsonrpc => '2.0', id => 1, method => 'ping' })->status,
   400, 'an empty token: 400');

my ($lsid) = mcp_initialize(port => $port, path => '/limited', headers => auth($token{alice}));
my @st = map { call($lsid, $_, 'echo', { message => 'x' }, path => '/limited')->status } 2 .. 4;
is("@st", '200 429 429', 'two requests over the rate limit');

# an SSE stream is counted while it is open
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die $!;
print $s "GET /mcp HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
       . "Authorization: Bearer $token{alice}\r\n\r\n";
my $text = '';
my $sel = IO::Select->new($s);
my $end = time + 5;
while ($text !~ /sessionId=/ && time < $end) {
    last unless $sel->can_read($end - time);
    sysread($s, my $buf, 4096) or last;
    $text .= $buf;
}
my ($legacy) = $text =~ /sessionId=([0-9a-f]{32})/;
ok($legacy, 'a legacy stream is open');
is(json_rpc(port => $port, path => "/mcp?sessionId=$legacy", headers => auth($token{alice}),
            message => { jsonrpc => '2.0', id => 1, method => 'initialize',
                         params => { protocolVersion => '2024-11-05', capabilities => {},
                                     clientInfo => { name => 't', version => '1' } } })->status,
   202, 'its initialize is put on the stream');

# every scrape, whichever worker takes it, sees the same figures
my %bodies;
for (1 .. 6) {
    my $b = scrape()->body;
    $b =~ s/^mcp_sessions_active .*$//m;
    $bodies{$b}++;
}
is(scalar keys %bodies, 1, 'six scrapes on fresh connections (both workers) agree');

$r = scrape();
promtool_ok($r->body, 'after traffic');
my $m = parse($r->body);

is($m->{'mcp_requests_total{method="tools/call"}'}, 12, 'tools/call: 12 requests');
is($m->{'mcp_requests_total{method="initialize"}'}, 3, 'initialize: 3');
is($m->{'mcp_requests_total{method="notifications/initialized"}'}, 2,
   'notifications/initialized: 2');
is($m->{'mcp_requests_total{method="other"}'}, 1, 'the unknown method is "other"');

is($m->{'mcp_tool_calls_total{tool="echo",outcome="ok"}'}, 4, 'echo ok: 4 (3 + 1 on /limited)');
is($m->{'mcp_tool_calls_total{tool="broken",outcome="error"}'}, 1, 'broken: error');
is($m->{'mcp_tool_calls_total{tool="nap",outcome="timeout"}'}, 1, 'nap: timeout');
is($m->{'mcp_tool_calls_total{tool="gone",outcome="failed"}'}, 1, 'gone: failed');
is($m->{'mcp_tool_calls_total{tool="secret",outcome="denied"}'}, 1, 'secret: denied');
is($m->{'mcp_tool_calls_total{tool="add",outcome="invalid"}'}, 1, 'add: invalid');
ok(!grep({ /tool="nope"/ } keys %$m), 'an unknown tool makes no series');

is($m->{'mcp_tool_call_duration_seconds_count{tool="echo"}'}, 4, 'echo: 4 timed calls');
is($m->{'mcp_tool_call_duration_seconds_bucket{tool="echo",le="+Inf"}'}, 4,
   '+Inf bucket = count');
is($m->{'mcp_tool_call_duration_seconds_count{tool="secret"}'}, 0,
   'a denied call reached no backend: not timed');
cmp_ok($m->{'mcp_tool_call_duration_seconds_sum{tool="nap"}'}, '>=', 0.19,
       'nap: its 200 ms timeout in the sum');
is($m->{'mcp_tool_call_duration_seconds_bucket{tool="nap",le="0.1"}'}, 0,
   'nap: not within 0.1 s');
is($m->{'mcp_tool_call_duration_seconds_bucket{tool="nap",le="1"}'}, 1, 'nap: within 1 s');

is($m->{'mcp_sessions_active'}, 3, 'three sessions');
is($m->{'mcp_streams_active'}, 1, 'one stream');
is($m->{'mcp_auth_failures_total{reason="missing"}'}, 1, 'auth failures: missing 1');
is($m->{'mcp_auth_failures_total{reason="invalid_token"}'}, 1, 'invalid_token 1');
is($m->{'mcp_auth_failures_total{reason="invalid_request"}'}, 1, 'invalid_request 1');
is($m->{'mcp_rate_limited_total{zone="per_client"}'}, 2, 'rate limited by per_client: 2');
is($m->{'mcp_messages_routed_total{path="local"}'} + $m->{'mcp_messages_routed_total{path="ipc"}'},
   1, 'one message routed to the stream, by this worker or through the other');

close $s;
ok(wait_for(5, sub { parse(scrape()->body)->{mcp_streams_active} == 0 }),
   'the stream closed: 0 streams');

# ---------------------------------------------------------------------------
# a reload keeps the counters

ok($nginx->reload, 'nginx -s reload');
$m = parse(scrape()->body);
is($m->{'mcp_tool_calls_total{tool="echo",outcome="ok"}'}, 4, 'echo ok still 4 after it');
call($sid, 12, 'echo', { message => 'again' });
$m = parse(scrape()->body);
is($m->{'mcp_tool_calls_total{tool="echo",outcome="ok"}'}, 5, 'and counting on: 5');
is($m->{'mcp_tool_call_duration_seconds_count{tool="echo"}'}, 5, 'its histogram too');

unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert');

# ---------------------------------------------------------------------------
# Redis up and reconnects

{
    my $redis = start_redis();
    my $rn = start_nginx(
        workers => 2,
        http_config => "mcp_session_zone zone=mcp:1m;\n"
                     . 'mcp_redis 127.0.0.1:' . $redis->port . ' prefix=t37:;',
        config => 'location = /metrics { mcp_metrics; } location = /mcp { mcp; }');
    my $get = sub { parse(scrape($rn->port)->body) };
    ok(wait_for(10, sub { ($get->()->{mcp_redis_up} // '') eq '1' }), 'mcp_redis_up 1');
    promtool_ok(scrape($rn->port)->body, 'with Redis');
    is($get->()->{mcp_redis_reconnects_total}, 0, 'no reconnect yet');
    $redis->stop;
    ok(wait_for(10, sub { ($get->()->{mcp_redis_up} // '') eq '0' }),
       'Redis stopped: mcp_redis_up 0');
    $redis->start;
    ok(wait_for(15, sub { ($get->()->{mcp_redis_up} // '') eq '1' }), 'back: 1');
    cmp_ok($get->()->{mcp_redis_reconnects_total}, '>=', 2,
           'reconnects counted (each worker at least once)');
    $rn->stop;
}

# ---------------------------------------------------------------------------
# the README's example, as written, behind a server-wide mcp_auth

{
    open my $rf, '<', "$root/README.md" or die $!;
    my $readme = do { local $/; <$rf> };
    my ($section) = $readme =~ /^### mcp_metrics\n(.*?)^### /ms;
    my ($example) = $section =~ /\n\n((?:    location = \/metrics.*\n)(?:    .*\n)+)/;
    ok($example, 'README has an mcp_metrics example');
    $example =~ s/^    //mg;
    for my $case (['as written', $example, 403],
                  ['allowing loopback', $example =~ s{10\.0\.0\.0/8}{127.0.0.0/8}r, 200])
    {
        my ($what, $conf, $want) = @$case;
        my $ex = start_nginx(http_config => 'mcp_session_zone zone=mcp:1m;',
                             config => "mcp_auth bearer file=$dir/tokens;\n$conf");
        is(scrape($ex->port)->status, $want, "the example $what: $want from 127.0.0.1");
        $ex->stop;
    }
}

# ---------------------------------------------------------------------------
# configuration

my ($ok, $out) = start_nginx(test_only => 1, http_config => '',
    config => 'location = /metrics { mcp_metrics; }');
ok(!$ok, 'mcp_metrics without mcp_session_zone: nginx -t fails');
like($out, qr/"mcp_metrics" directive requires "mcp_session_zone"/, 'saying so');
($ok, $out) = start_nginx(test_only => 1, http_config => 'mcp_session_zone zone=mcp:1m;',
    config => 'location = /metrics { mcp_metrics; mcp_health live; }');
ok(!$ok, 'mcp_metrics and mcp_health in one location: nginx -t fails');

no_secrets_logged();

done_testing();
