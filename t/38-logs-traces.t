# Logs and traces (README "Logs and traces"): conf-examples/json-log.conf
# as an access log, each line JSON with the MCP variables; each tool call
# carries X-Request-ID ($request_id) and a W3C traceparent, continued from
# the client's (with its tracestate) or new, so the backend's logs join the
# gateway's; error log lines of a request name its session, method and
# tool.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use File::Temp qw(tempdir);
use JSON::PP ();

my $JSON = JSON::PP->new->utf8;
my $dir = tempdir('mcp-logs-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my %token = %{ mcp_tokens("$dir/tokens", qw(alice)) };
my $root = repo_root();

my $backend = start_backend('example_backend.py');

my $nginx = start_nginx(
    backend_port => $backend->port,
    http_config => <<HTTP,
mcp_session_zone zone=mcp:1m;
mcp_limit_req_zone \$mcp_client zone=per_client:64k rate=1r/m;
include $root/conf-examples/json-log.conf;
HTTP
    config => <<CONF);
access_log \$TEST_PREFIX/logs/mcp.json.log mcp_json;
location = /mcp {
    mcp;
    mcp_auth bearer file=$dir/tokens;
    mcp_tool hdrs /t/headers;
    mcp_tool broken /t/status/500;
    mcp_tool nap "/t/sleep?ms=1000" timeout=100ms;
}
location = /limited {
    mcp;
    mcp_auth bearer file=$dir/tokens;
    mcp_limit_req zone=per_client nodelay;
}
location /t/ { internal; proxy_pass http://127.0.0.1:\$TEST_BACKEND_PORT/; }
CONF

my $port = $nginx->port;
my @auth = (['Authorization', "Bearer $token{alice}"]);

my ($sid, $version) = mcp_initialize(port => $port, headers => \@auth);
ok($sid, 'a session');

sub call {
    my ($id, $name, @headers) = @_;
    return json_rpc(port => $port, session => $sid, version => $version,
                    headers => [@auth, @headers],
                    message => { jsonrpc => '2.0', id => $id, method => 'tools/call',
                                 params => { name => $name, arguments => {} } });
}

sub seen_headers { $_[0]->json->{result}{structuredContent} // {} }

sub log_lines {
    my $text = Test::McpNginx::_read_file($nginx->prefix . '/logs/mcp.json.log');
    return map { my $l = $_; my $j = eval { $JSON->decode($l) }; $j // { unparsed => $l } }
           grep { /\S/ } split /\n/, $text;
}

# the line of a request: nginx writes it a moment after the response
sub entry {
    my ($session, $id) = @_;
    my $found;
    wait_for(5, sub {
        ($found) = grep { ($_->{session} // '') eq $session
                          && ($_->{jsonrpc_id} // '') eq $id } log_lines();
        return $found;
    });
    return $found // {};
}

# ---------------------------------------------------------------------------
# a new trace: the request id names it

my $r = call(2, 'hdrs', ['X-Request-ID', 'client-chosen']);
is($r->status, 200, 'a call to the headers tool');
my $h = seen_headers($r);
like($h->{'x-request-id'} // '', qr/^[0-9a-f]{32}$/, 'X-Request-ID: nginx\'s $request_id');
my $rid = $h->{'x-request-id'} // 'none';
like($h->{traceparent} // '', qr/^00-\Q$rid\E-[0-9a-f]{16}-01$/,
     'traceparent: a new trace named by the request id, sampled');
ok(!exists $h->{tracestate}, 'no tracestate of its own');

my $entry = entry($sid, '2');
ok(%$entry, 'the access log has the call, as JSON');
is($entry->{request_id}, $rid, 'its request_id is the backend\'s X-Request-ID');
is($entry->{method}, 'tools/call', 'method');
is($entry->{tool}, 'hdrs', 'tool');
is($entry->{tool_status}, 'ok', 'tool_status ok');
is($entry->{client}, 'alice', 'client');
is($entry->{session}, $sid, 'session');
is($entry->{protocol_version}, $version, 'protocol_version');
is($entry->{status}, 200, 'status, a number');

# ---------------------------------------------------------------------------
# the client's trace continued

my $tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
$r = call(3, 'hdrs', ['traceparent', $tp], ['tracestate', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE']);
$h = seen_headers($r);
my ($span) = ($h->{traceparent} // '') =~ /^00-4bf92f3577b34da6a3ce929d0e0e4736-([0-9a-f]{16})-01$/;
ok($span, 'traceparent: the client\'s trace id and flags') or diag($h->{traceparent});
isnt($span // '', '00f067aa0ba902b7', 'with the gateway\'s span as the parent');
is($h->{tracestate}, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', 'tracestate passed on');

$r = call(4, 'hdrs', ['traceparent', $tp]);
my ($span2) = (seen_headers($r)->{traceparent} // '') =~ /-([0-9a-f]{16})-01$/;
isnt($span2 // '', $span // '', 'each call a span of its own');

$r = call(5, 'hdrs', ['traceparent', '00-00000000000000000000000000000000-00f067aa0ba902b7-01']);
$h = seen_headers($r);
like($h->{traceparent} // '', qr/^00-\Q$h->{'x-request-id'}\E-[0-9a-f]{16}-01$/,
     'an invalid traceparent (zero trace id): a new trace');

$r = call(6, 'hdrs', ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00']);
like(seen_headers($r)->{traceparent} // '', qr/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/,
     'a trace not sampled stays so');

# ---------------------------------------------------------------------------
# tool outcomes and limits in the log; error log context

call(7, 'broken');
call(8, 'nap');
is(entry($sid, '7')->{tool_status}, 'error', 'a backend 500: tool_status error');
is(entry($sid, '8')->{tool_status}, 'timeout', 'a timeout: tool_status timeout');

like($nginx->error_log,
     qr/\[warn\].*mcp: tool "nap" timed out.*, mcp_session: \Q$sid\E, mcp_method: tools\/call, mcp_tool: nap/,
     'the error log line of a request names its session, method and tool');

my ($lsid) = mcp_initialize(port => $port, path => '/limited', headers => \@auth);
for my $id (2, 3) {
    json_rpc(port => $port, path => '/limited', session => $lsid, version => $version,
             headers => \@auth, message => { jsonrpc => '2.0', id => $id, method => 'ping' });
}
is(entry($lsid, '3')->{limit}, 'REJECTED', 'a refused request: limit REJECTED');
is(entry($lsid, '3')->{status}, 429, '... status 429');

my @bad = grep { $_->{unparsed} } log_lines();
is(scalar @bad, 0, 'every access log line is JSON') or diag($bad[0]{unparsed});

# a client's method with control characters cannot forge error log lines
is(json_rpc(port => $port, path => '/limited', session => $lsid, version => $version,
            headers => \@auth,
            message => qq({"jsonrpc":"2.0","id":9,"method":"x\\nFAKE [emerg] line"}))->status,
   429, 'a refused request with a newline in its method (logged)');
like($nginx->error_log, qr/limiting requests.*, mcp_method: x\?FAKE \[emerg\] line/,
     'its method in the error log, the newline replaced');
unlike($nginx->error_log, qr/^FAKE/m, 'no forged line');

unlike($nginx->error_log, qr/^\S+ \S+ \[(alert|crit|emerg)\]/m, 'no alert');

no_secrets_logged();

done_testing();
