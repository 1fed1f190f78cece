# mcp_auth bearer (README "mcp_auth"; MCP authorization, 2025-06-18 and
# 2025-11-25, and RFC 6750): a token file of names and SHA-256 digests made
# by tools/mcp-token; every method and transport checked; 401 with
# WWW-Authenticate (error="invalid_token" for a wrong token, no error code
# without one); the principal in $mcp_client; failures logged without the
# token; sessions bound to the client that made them; nginx -t names the
# line of a malformed file; mcp_auth off.  A token in the query string is
# no token; the scheme is matched in any case; tokens over 4096 bytes are
# malformed.  No registered token is left in a log (no_secrets_logged).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Select;

my $root = repo_root();
my $dir = tempdir('mcp-auth-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# a token and its line for the token file; the token is registered as a
# secret, to be looked for in the logs at the end, unless $burnt
sub token_for {
    my ($name, @scopes) = @_;
    my $burnt = @scopes && $scopes[0] eq '-burnt' ? shift @scopes : 0;
    my $out = `$root/tools/mcp-token $name @scopes`;
    my ($token) = $out =~ /^token: (\S+)$/m;
    my ($line) = $out =~ /^line:  (.+)$/m;
    register_secret($token) unless $burnt;
    return ($token, $line);
}

my ($alice, $alice_line) = token_for('alice', 'tools:call');
my ($bob, $bob_line) = token_for('bob');
# carol's token is sent in a URL below, and nginx logs request lines (the
# error log's "request:" context): a token in a URL is burnt, which is why
# the gateway never takes one from there.  So it is not looked for.
my ($carol, $carol_line) = token_for('carol', '-burnt');
like($alice, qr/^[A-Za-z0-9_-]{43}$/, 'tools/mcp-token makes a 256-bit token');
like($alice_line, qr/^alice [0-9a-f]{64} tools:call$/,
     'and the line for the token file');
unlike($alice_line, qr/\Q$alice\E/, 'which holds no token');

open my $fh, '>', "$dir/tokens" or die $!;
print $fh "# clients of the gateway\n\n$alice_line\n$bob_line\n$carol_line\n";
close $fh;

my $backend = start_backend('example_backend.py');

my $nginx = start_nginx(
    http_config => "mcp_session_zone zone=mcp:1m;\n"
                 . "mcp_auth bearer file=$dir/tokens realm=gw;\n"
                 . "log_format who '\$mcp_client';\n",
    backend_port => $backend->port,
    config => <<'CONF');
location = /mcp {
    mcp;
    access_log $TEST_PREFIX/logs/who.log who;
    mcp_tool echo /tools/echo scopes=tools:call;
    mcp_tool add /tools/add;
}
location /tools/ {
    internal;
    proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/;
}
location = /health/ready { mcp_auth off; mcp_health ready; }
CONF

my $port = $nginx->port;

sub post {
    my ($auth, %o) = @_;
    return json_rpc(port => $port, %o,
                    headers => [defined $auth ? (['Authorization', $auth]) : ()],
                    message => $o{message} // {
                        jsonrpc => '2.0', id => 1, method => 'initialize',
                        params => { protocolVersion => '2025-06-18',
                                    capabilities => {},
                                    clientInfo => { name => 't', version => '1' } } });
}

my $r = post(undef);
is($r->status, 401, 'no token: 401');
is($r->header('WWW-Authenticate'), 'Bearer realm="gw"',
   'WWW-Authenticate without an error code (RFC 6750, 3.1)');
is($r->json->{error}{code}, -32000, 'and a JSON-RPC error body');

$r = post('Bearer not-a-token');
is($r->status, 401, 'a wrong token: 401');
is($r->header('WWW-Authenticate'), 'Bearer realm="gw", error="invalid_token"',
   'WWW-Authenticate with error="invalid_token"');

$r = post('Basic YWxpY2U6eA==');
is($r->status, 401, 'another scheme: 401');
is($r->header('WWW-Authenticate'), 'Bearer realm="gw"', 'as without a token');

$r = post('Bearer ');
is($r->status, 400, 'an empty bearer token: 400');
like($r->header('WWW-Authenticate') // '', qr/error="invalid_request"/,
     'error="invalid_request"');

$r = post("Bearer $alice");
is($r->status, 200, 'alice\'s token: initialize 200');
my $sid = $r->header('Mcp-Session-Id');

$r = post("bearer $alice", session => $sid, version => '2025-06-18',
          message => { jsonrpc => '2.0', id => 2, method => 'ping' });
is($r->status, 200, 'alice\'s session with her token, scheme in any case: 200');

# the token travels in Authorization only (MCP authorization, "Token
# Requirements"; RFC 6750, 2.3 is not supported): never in the query string
is(post("Bearer $carol")->status, 200, 'carol\'s token in Authorization: 200');
$r = post(undef, path => "/mcp?access_token=$carol");
is($r->status, 401, 'carol\'s token as ?access_token= without Authorization: 401');
is($r->header('WWW-Authenticate'), 'Bearer realm="gw"', '... as without a token');
$r = post('Bearer not-a-token', path => "/mcp?access_token=$carol");
is($r->status, 401, 'a wrong token in Authorization and the right one in the query: 401');
is($r->header('WWW-Authenticate'), 'Bearer realm="gw", error="invalid_token"',
   '... for the wrong token');
is(post('Bearer not-a-token', path => "/mcp?x=1&access_token=$carol&y=2")->status, 401,
   '... wherever the parameter is in the query');

# the scheme in any case, then one or more spaces, then the token
for my $scheme ('BEARER', 'bEaReR') {
    is(post("$scheme $alice")->status, 200, "\"$scheme <token>\": 200");
}
is(post("Bearer  $alice")->status, 200, 'two spaces after the scheme: skipped, 200');
is(post("Bearer $alice ")->status, 200, 'a trailing space (nginx trims it): 200');
for my $bad (["Bearer$alice", 'no space after the scheme'],
             ["Bearer\t$alice", 'a tab after the scheme'],
             ["Bearerx $alice", 'a longer scheme'])
{
    $r = post($bad->[0]);
    is($r->status, 401, "$bad->[1]: 401");
    is($r->header('WWW-Authenticate'), 'Bearer realm="gw"',
       "$bad->[1]: another scheme, as without a token");
}

# tokens over 4096 bytes are malformed; a header over nginx's buffers
# (large_client_header_buffers, 8k) is nginx's own 400
{
    my $from = $nginx->error_log_size;
    $r = post('Bearer ' . ('a' x 4096));
    is($r->status, 401, 'a 4096-byte token: looked up, 401');
    is($r->header('WWW-Authenticate'), 'Bearer realm="gw", error="invalid_token"',
       '... an unknown token');
    for my $len (4097, 5000) {
        $r = post('Bearer ' . ('a' x $len));
        is($r->status, 400, "a $len-byte token: 400");
        is($r->header('WWW-Authenticate'), 'Bearer realm="gw", error="invalid_request"',
           '... error="invalid_request"');
    }
    $r = post('Bearer ' . ('a' x 20000));
    is($r->status, 400, 'a 20000-byte Authorization header: 400');
    like($r->body, qr/Request Header Or Cookie Too Large/, '... from nginx itself');
    is($r->header('WWW-Authenticate'), undef, '... before mcp_auth saw it');
    is(post("Bearer $alice")->status, 200, 'the worker serves on: 200');
    like($nginx->error_log($from), qr/\[info\].*client sent too long header line/,
         'nginx logs the long line at info');
    unlike($nginx->error_log($from), qr/\[(alert|crit|emerg)\]|exited on signal/,
           '... and nothing worse');
}

# per-tool scopes: echo needs tools:call, which alice has and bob has not
{
    my $bsid = post("Bearer $bob")->header('Mcp-Session-Id');
    my $call = sub {
        my ($token, $sid, $method, $params) = @_;
        return post("Bearer $token", session => $sid, version => '2025-06-18',
                    message => { jsonrpc => '2.0', id => 7, method => $method,
                                 params => $params });
    };
    my @names = map { $_->{name} }
                @{ $call->($alice, $sid, 'tools/list', {})->json->{result}{tools} };
    is_deeply(\@names, ['echo', 'add'], 'alice sees both tools');
    @names = map { $_->{name} }
             @{ $call->($bob, $bsid, 'tools/list', {})->json->{result}{tools} };
    is_deeply(\@names, ['add'], 'bob sees only the tool he may call');
    my $r = $call->($bob, $bsid, 'tools/call',
                    { name => 'echo', arguments => { message => 'x' } });
    is($r->json->{error}{code}, -32003, 'bob calling echo anyway: -32003');
    like($r->json->{error}{message}, qr/requires the scope "tools:call"/,
         'naming the missing permission');
    $r = $call->($alice, $sid, 'tools/call',
                 { name => 'echo', arguments => { message => 'hi' } });
    like($r->body, qr/"result".*hi/, 'alice calls it');
}

# sessions bound to principals: another client's session does not exist
$r = post("Bearer $bob", session => $sid, version => '2025-06-18',
          message => { jsonrpc => '2.0', id => 3, method => 'ping' });
is($r->status, 404, 'bob asking for alice\'s session: 404');
is($r->json->{error}{code}, -32001, 'as for a session that does not exist');
$r = http_request(port => $port, method => 'DELETE', path => '/mcp',
                  headers => [['Mcp-Session-Id', $sid],
                              ['Authorization', "Bearer $bob"]]);
is($r->status, 404, 'nor may he end it');
is(post("Bearer $bob")->status, 200, 'bob has sessions of his own');

# every method and transport
$r = http_request(port => $port, method => 'DELETE', path => '/mcp',
                  headers => [['Mcp-Session-Id', $sid]]);
is($r->status, 401, 'DELETE without a token: 401');

for my $get (["GET /mcp HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
              . "Mcp-Session-Id: $sid\r\n", 'the Streamable HTTP GET stream'],
             ["GET /mcp HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n",
              'an HTTP with SSE stream'])
{
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
        or die $!;
    print $s "$get->[0]Connection: close\r\n\r\n";
    my $head = '';
    while (sysread($s, my $buf, 4096)) { $head .= $buf; last if $head =~ /\r\n\r\n/ }
    like($head, qr{^HTTP/1\.1 401}, "$get->[1] without a token: 401");
}

$r = http_request(port => $port, method => 'DELETE', path => '/mcp',
                  headers => [['Mcp-Session-Id', $sid],
                              ['Authorization', "Bearer $alice"]]);
is($r->status, 200, 'DELETE with a token: 200');

# an HTTP with SSE session is its opener's too
{
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
        or die $!;
    print $s "GET /mcp HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
           . "Authorization: Bearer $alice\r\n\r\n";
    my $data = '';
    my $sel = IO::Select->new($s);
    while ($data !~ /sessionId=[0-9a-f]{32}\n\n/) {
        $sel->can_read(5) or last;
        sysread($s, my $buf, 4096) or last;
        $data .= $buf;
    }
    my ($endpoint) = $data =~ /data: (\S+sessionId=[0-9a-f]{32})/;
    ok($endpoint, 'alice opens an HTTP with SSE stream');
    my $lp = sub {
        http_request(port => $port, method => 'POST', path => $endpoint,
                     headers => [['Content-Type', 'application/json'],
                                 ['Authorization', "Bearer $_[0]"]],
                     body => '{"jsonrpc":"2.0","id":1,"method":"ping"}');
    };
    is($lp->($bob)->status, 404, 'bob POSTing to it: 404');
    is($lp->($alice)->status, 202, 'alice: 202');
    close $s;
}

# mcp_auth off, for probes
is(http_request(port => $port, path => '/health/ready')->status, 200,
   'mcp_auth off: the probe needs no token');

# the principal is $mcp_client; the token is never logged
my $who = do { local (@ARGV, $/) = $nginx->prefix . '/logs/who.log'; <> } // '';
like($who, qr/^alice$/m, '$mcp_client names the principal');
like($who, qr/^bob$/m, '... for each client');
my $log = $nginx->error_log;
like($log, qr/\[warn\].*mcp: authentication failed: an unknown bearer token/,
     'a wrong token is logged as a warning, with its reason');
like($log, qr/\[info\].*mcp: authentication required: no bearer token/,
     'a missing one at info');
unlike($log, qr/\Q$alice\E|\Q$bob\E|not-a-token/, 'no token in the log');
like($log, qr/\[warn\].*client "bob" asked for session \Q$sid\E of another client/,
     'a client reaching for another\'s session is logged');

# nginx -t names the line of a malformed file
open $fh, '>', "$dir/bad" or die $!;
print $fh "$alice_line\nmallory 1234\n";
close $fh;
my ($ok, $out) = start_nginx(test_only => 1,
    http_config => "mcp_session_zone zone=mcp:1m;\n"
                 . "mcp_auth bearer file=$dir/bad;",
    config => 'location = /mcp { mcp; }');
ok(!$ok, 'a malformed token file fails nginx -t');
like($out, qr/invalid line in the token file "\Q$dir\E\/bad", line 2/,
     'naming the file and the line');

open $fh, '>', "$dir/dup" or die $!;
print $fh "$alice_line\n$alice_line\n";
close $fh;
($ok, $out) = start_nginx(test_only => 1,
    http_config => "mcp_session_zone zone=mcp:1m;\n"
                 . "mcp_auth bearer file=$dir/dup;",
    config => 'location = /mcp { mcp; }');
like($out, qr/duplicate client "alice" in .*line 2/, 'a duplicate client too');

open $fh, '>', "$dir/colon" or die $!;
print $fh "$bob_line\n" =~ s/^bob /bob:x /r;
close $fh;
($ok, $out) = start_nginx(test_only => 1,
    http_config => "mcp_session_zone zone=mcp:1m;\n"
                 . "mcp_auth bearer file=$dir/colon;",
    config => 'location = /mcp { mcp; }');
like($out, qr/invalid line in the token file .*line 1/,
     'a name with ":" (kept for JWT principals) too');

($ok, $out) = start_nginx(test_only => 1,
    http_config => "mcp_session_zone zone=mcp:1m;\n"
                 . "mcp_auth bearer file=$dir/tokens \"realm=a\\nb\";",
    config => 'location = /mcp { mcp; }');
like($out, qr/takes a realm of visible characters/,
     'a realm with a newline fails nginx -t (no header injection)');

($ok, $out) = start_nginx(test_only => 1,
    http_config => "mcp_session_zone zone=mcp:1m;\n"
                 . "mcp_auth bearer;",
    config => 'location = /mcp { mcp; }');
like($out, qr/needs "file=" for "bearer"/, 'bearer without a file');

for my $bad ('scopes=', 'scopes=a,', 'scopes=,a', 'scopes=a,,b') {
    ($ok, $out) = start_nginx(test_only => 1,
        http_config => 'mcp_session_zone zone=mcp:1m;',
        config => "location = /mcp { mcp; mcp_tool t /t $bad; }");
    like($out, qr/tool "t": invalid "\Q$bad\E"/, "mcp_tool $bad fails nginx -t");
}

# a reload picks up a new file
open $fh, '>', "$dir/tokens" or die $!;
print $fh "$bob_line\n";
close $fh;
ok($nginx->reload, 'reload with alice removed');
ok(wait_for(5, sub { post("Bearer $alice")->status == 401 }),
   'alice\'s token is refused after the reload');
is(post("Bearer $bob")->status, 200, 'bob\'s still works');

unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert');

no_secrets_logged();

done_testing();
