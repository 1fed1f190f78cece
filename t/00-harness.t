# Self-test of t/lib/Test/McpNginx.pm. Uses plain nginx features only, so it
# passes whether or not the MCP module has been built.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx qw(:DEFAULT parse_blocks json_subset_diff json_equal_diff secrets_found);
use Test::Builder::Tester;
use JSON::PP ();
use POSIX ();

my $root = repo_root();
my $fake = '../t/harness-fixtures/fake_backend.py';
ok(-f "$root/t/00-harness.t" && -d "$root/tools", 'repo_root points at the repository');
like(module_path(), qr{ngx_http_mcp_module\.so$}, 'module path');

# --- helpers ----------------------------------------------------------------

my %seen;
my @ports = map { free_port() } 1 .. 50;
$seen{$_}++ for @ports;
is(scalar(keys %seen), 50, 'free_port never repeats a port');

my @blocks = parse_blocks(<<'EOT');
preamble is ignored
=== TEST 1: one
--- error_code: 201
--- config
location / {
    return 200;
}

--- request
POST /x
{"a":1}
--- no_module
=== TEST 2: two
--- response_body: abc
EOT
is(scalar @blocks, 2, 'parse_blocks: two blocks');
is($blocks[0]{title}, 'TEST 1: one', 'parse_blocks: title');
is_deeply($blocks[0]{sections}, {
    error_code => '201',
    config     => "location / {\n    return 200;\n}",
    request    => "POST /x\n{\"a\":1}",
    no_module  => '',
}, 'parse_blocks: sections, inline values and trailing newlines');
ok(!eval { parse_blocks("=== T\n--- respnse_body: x\n"); 1 } && $@ =~ /unknown section/,
   'parse_blocks rejects unknown sections');

@blocks = parse_blocks(<<'EOT', defaults => { workers => 2, config => "from run_blocks\n", backend => 'b.py' });
=== DEFAULTS
--- no_module
--- config
location / { return 204; }

=== A: takes the defaults
--- request
GET /
=== B: sets its own
--- config
location / { return 200; }
--- backend
--- workers: 3
EOT
is_deeply([map { $_->{title} } @blocks], ['A: takes the defaults', 'B: sets its own'],
          'defaults: the DEFAULTS block is not run');
is_deeply($blocks[0]{sections}, {
    no_module => '', config => 'location / { return 204; }', workers => '2', backend => 'b.py',
    request   => 'GET /',
}, 'defaults: applied to a block without those sections; DEFAULTS wins over run_blocks defaults');
is_deeply($blocks[1]{sections}, {
    no_module => '', config => 'location / { return 200; }', workers => '3', backend => '',
}, 'defaults: a section the block sets, even empty, overrides the default');
is_deeply([map { $_->{sections} } parse_blocks("=== T\n--- config: x\n=== U\n", defaults => { config => 'y' })],
          [{ config => 'x' }, { config => 'y' }], 'defaults: run_blocks defaults without a DEFAULTS block');
ok(!eval { parse_blocks("=== DEFAULTS\n--- request\nGET /\n=== T\n"); 1 }
   && $@ =~ /section 'request' cannot have a default/, 'defaults: only server sections');
ok(!eval { parse_blocks("=== T\n", defaults => { confg => 'x' }); 1 }
   && $@ =~ /section 'confg' cannot have a default/, 'defaults: run_blocks defaults are checked too');
ok(!eval { parse_blocks("=== T\n--- config: x\n=== DEFAULTS\n--- config: y\n"); 1 }
   && $@ =~ /DEFAULTS at line 3 is not the first block/, 'defaults: DEFAULTS must come first');

my $got = JSON::PP->new->decode('{"a":1,"b":[true,{"c":"x","d":null}],"e":"1","f":{}}');
my $dec = sub { JSON::PP->new->decode($_[0]) };
is(json_subset_diff($dec->('{"b":[true,{"c":"x"}],"e":"1"}'), $got), undef, 'subset: nested match');
is(json_subset_diff($dec->('{"a":"*ANY*","b":["*ANY*","*ANY*"]}'), $got), undef, 'subset: *ANY*');
like(json_subset_diff($dec->('{"z":"*ANY*"}'), $got), qr/missing key "z"/, 'subset: *ANY* needs the key');
like(json_subset_diff($dec->('{"b":[true]}'), $got), qr/expected 1 elements, got 2/, 'subset: array length');
like(json_subset_diff($dec->('{"a":"1"}'), $got), qr/expected "1", got 1/, 'subset: string is not number');
like(json_subset_diff($dec->('{"e":1}'), $got), qr/expected 1, got "1"/, 'subset: number is not string');
like(json_subset_diff($dec->('{"b":[false,{}]}'), $got), qr/\$\.b\[0\]/, 'subset: booleans and path');
is(json_equal_diff($dec->('{"f":{},"e":"1","b":[true,{"d":null,"c":"x"}],"a":1.0}'), $got), undef,
   'equal: key order irrelevant');
ok(defined json_equal_diff($dec->('{"a":1}'), $got), 'equal: extra keys are a difference');

# --- nginx and HTTP client ---------------------------------------------------

my ($ok, $out) = start_nginx(module => 0, config => 'location / { nonsense_directive; }', test_only => 1);
ok(!$ok, 'test_only: broken config rejected');
like($out, qr/unknown directive "nonsense_directive"/, 'test_only: nginx -t output returned');
($ok) = start_nginx(module => 0, config => 'location / { return 204; }', test_only => 1);
ok($ok, 'test_only: valid config accepted');
ok(!eval { start_nginx(module => 0, config => 'location / { nonsense_directive; }') },
   'start_nginx croaks on a broken config');
like($@, qr/nonsense_directive/, 'start_nginx error carries the nginx message');

my $be = start_backend($fake);
ok($be->port, 'backend started');
my $ng = start_nginx(module => 0, workers => 2, backend_port => $be->port,
    http_config => 'map $http_x_in $x_out { default "none"; ~. "seen"; }',
    config => <<'EOC');
location = /hello { add_header X-Port $TEST_NGINX_PORT; add_header X-Multi a; add_header X-Multi b;
                    return 200 "hello world\n"; }
location = /prefix { return 200 "$TEST_PREFIX $TEST_ROOT"; }
location = /map { return 200 $x_out; }
location / { proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT; }
EOC
my $port = $ng->port;
ok(-f $ng->prefix . '/conf/nginx.conf', 'prefix has conf/nginx.conf');
is(scalar(my @w = $ng->worker_pids), 2, 'two workers');
ok(kill(0, $ng->master_pid), 'master pid alive');

my $r = http_request(port => $port, path => '/hello');
is($r->status, 200, 'GET status');
is($r->body, "hello world\n", 'Content-Length body');
is($r->header('X-PORT'), $port, '$TEST_NGINX_PORT substituted, header lookup case-insensitive');
is_deeply([$r->header_values('x-multi')], ['a', 'b'], 'repeated header values kept');
is($r->error, undef, 'no error');
is(http_request(port => $port, path => '/prefix')->body, $ng->prefix . " $root",
   '$TEST_PREFIX and $TEST_ROOT substituted');
is(http_request(port => $port, path => '/map', headers => [['X-In', 'y']])->body, 'seen',
   'http_config placed in http{}');
is(http_request(port => $port, method => 'HEAD', path => '/hello')->body, '', 'HEAD has no body');

$r = http_request(port => $port, path => '/chunked');
is($r->header('transfer-encoding'), 'chunked', 'proxied answer is chunked');
is($r->body, 'alpha-beta-gamma', 'chunked body decoded');
$r = http_request(port => $be->port, path => '/chunked');
is($r->body, 'alpha-beta-gamma', 'chunked body decoded (direct)');
$r = http_request(port => $be->port, path => '/close');
is_deeply([$r->status, $r->body, $r->error], [200, 'until the connection closes', undef],
          'read-until-close body');

$r = http_request(port => $port, method => 'POST', path => '/echo', body => 'xyz',
                  headers => [['X-B', '2'], ['X-A', '1'], ['Connection', 'keep-alive']]);
my $echo = $r->json;
is($echo->{body}, 'xyz', 'POST body sent');
is($echo->{headers}{'content-length'}, '3', 'Content-Length added');
is($echo->{headers}{'x-b'} . $echo->{headers}{'x-a'}, '21', 'custom headers sent');
like($r->{request}, qr/X-B: 2\r\nX-A: 1\r\n/, 'header order kept');
unlike($r->{request}, qr/Connection: close/, 'Connection default replaceable');
$r = http_request(port => $port, path => '/hello', headers => [['Host', undef]]);
is($r->status, 400, 'Host can be suppressed');

$r = http_request(port => $port, path => '/sse');
is_deeply([map { $_->{data} } $r->sse_events], ['{"a":1}', '{"b":2}'], 'sse_events');
is_deeply($r->json, [{ a => 1 }, { b => 2 }], 'json of an event stream');

$r = http_request(port => $port, path => '/slow?ms=2000', timeout => 0.3);
like($r->error, qr/timeout/, 'timeout reported');
is(http_request(port => free_port(), path => '/')->status, undef, 'refused connection: no status');
like(http_request(port => free_port(), path => '/')->error, qr/cannot connect/, 'refused connection: error');

my ($sid, $version, $init) = mcp_initialize(port => $port);
like($sid, qr/^fake-session-\d+$/, 'mcp_initialize: session id');
is($version, '2025-06-18', 'mcp_initialize: negotiated version');
is($init->{initialized_response}->status, 202, 'mcp_initialize: notification accepted');
$r = json_rpc(port => $port, session => $sid, version => $version,
              message => { jsonrpc => '2.0', id => 7, method => 'tools/list' });
is($r->{json}{id}, 7, 'json_rpc: decoded answer');
is($r->{json}{result}{headers}{'mcp-session-id'}, $sid, 'json_rpc: session header');
is($r->{json}{result}{headers}{accept}, 'application/json, text/event-stream', 'json_rpc: Accept');

my $master = $ng->master_pid;
my %old = map { $_ => 1 } $ng->worker_pids;
ok($ng->reload(config => 'location = /hello { return 200 "reloaded"; }'), 'reload with a new config');
is($ng->master_pid, $master, 'reload keeps the master');
ok(!grep({ $old{$_} } $ng->worker_pids), 'reload replaced the workers');
is(http_request(port => $port, path => '/hello')->body, 'reloaded', 'new config active');
ok(!$ng->reload(config => 'location = /hello { nonsense_directive; }'), 'reload rejects a broken config');
is(http_request(port => $port, path => '/hello')->body, 'reloaded', 'old config still serves');
like($ng->error_log, qr/\[emerg\].*nonsense_directive/, 'error_log text');

my $prefix = $ng->prefix;
$ng->stop;
ok(!kill(0, $master) || `ps -o stat= -p $master` =~ /Z/, 'stop ends the master');
ok(!-d $prefix || $ENV{TEST_KEEP}, 'stop removes the prefix');
like($ng->error_log, qr/exiting/, 'error log still readable after stop');
my $bpid = $be->pid;
$be->stop;
ok(!kill(0, $bpid), 'backend stopped');

# --- secrets in logs ----------------------------------------------------------

# A fake token, registered, sent to an nginx that logs Authorization: the
# check must find it, in the running instance and after it stopped.
my $secret = 'fake-secret-' . join '', map { ('a' .. 'z')[rand 26] } 1 .. 24;
is(register_secret($secret, undef, ''), 1, 'register_secret: one secret (undef and empty ignored)');
ok(!eval { register_secret('short'); 1 } && $@ =~ /fewer than 8 bytes/,
   'register_secret refuses a secret too short to look for');
my $leaky = start_nginx(module => 0, http_config => q{log_format auth '$http_authorization';},
    config => 'location / { access_log $TEST_PREFIX/logs/auth.log auth; return 204; }');
is(http_request(port => $leaky->port, headers => [['X-Not-Logged', $secret]])->status, 204,
   'a request carrying the secret in a header that is not logged');
is_deeply([secrets_found()], [], 'secrets_found: nothing while no log holds it');
http_request(port => $leaky->port, headers => [['Authorization', "Bearer $secret"]]);
my $where = 'logs/auth.log (nginx on port ' . $leaky->port . "): fake-s\xe2\x80\xa6";
wait_for(2, sub { secrets_found() });
is_deeply([secrets_found()], [$where], 'secrets_found: the file, the instance and a shortened secret');

test_out('not ok 1 - no registered secret (1) in the nginx logs');
test_fail(+2);
test_diag('secrets found in nginx logs:', "    $where");
no_secrets_logged();
test_test('no_secrets_logged fails when a registered secret is in a log');

my $leaky_prefix = $leaky->prefix;
$leaky->stop;
ok(!-d $leaky_prefix || $ENV{TEST_KEEP}, 'the leaky nginx stopped, its prefix gone');
is_deeply([secrets_found()], [$where], 'the finding is kept from the stop');
test_out('not ok 1 - leak remembered');
test_fail(+2);
test_diag('secrets found in nginx logs:', "    $where");
no_secrets_logged('leak remembered');
test_test('no_secrets_logged still fails after that nginx stopped');

# whole test files: the check passes without a leak; a file that registered
# secrets and never looked for them fails; so does a check without secrets
sub run_perl {
    my ($code) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT;
        exec $^X, "-I$root/t/lib", '-e', "use Test::McpNginx; $code" or POSIX::_exit(127);
    }
    my $out = do { local $/; <$fh> };
    close $fh;
    return ($? >> 8, $out);
}
my $reg = 'my $ng = start_nginx(module => 0, config => "location / { return 204; }");'
        . 'register_secret("fake-secret-0123456789");'
        . 'http_request(port => $ng->port, headers => [["Authorization", "Bearer fake-secret-0123456789"]]);';
my ($st, $tap) = run_perl("$reg no_secrets_logged(); done_testing();");
is($st, 0, 'a file whose nginx did not log its secret passes') or diag($tap);
like($tap, qr/^ok 1 - no registered secret \(1\) in the nginx logs$/m, '... with the check as a test');
($st, $tap) = run_perl("$reg ok(1, 'something'); done_testing();");
isnt($st, 0, 'a file that registered secrets but never called no_secrets_logged fails');
like($tap, qr/^# secrets were registered .* but no_secrets_logged\(\) was never called$/m,
     '... saying why') or diag($tap);
like($tap, qr/^ok 1 - something$/m, '... though its tests passed');
($st, $tap) = run_perl("no_secrets_logged(); done_testing();");
isnt($st, 0, 'no_secrets_logged without a registered secret fails');
like($tap, qr/^# no secret was registered: nothing to look for$/m, '... saying so') or diag($tap);

# --- failures are detected -------------------------------------------------

my $child;      # the fixture run; stopped (and so cleaned up) if we are interrupted
END { kill 'TERM', $child if $child }

{
    my $fixture = "$root/t/harness-fixtures/failing-blocks.pl";
    local $ENV{MCP_MODULE} = '/nonexistent/ngx_http_mcp_module.so';
    $child = open(my $fh, '-|') // die "fork: $!";
    if (!$child) { open STDERR, '>&', \*STDOUT; exec $^X, $fixture or POSIX::_exit(127) }
    my $tap = do { local $/; <$fh> };
    close $fh;
    undef $child;
    my $status = $? >> 8;
    my (%result, @order);
    while ($tap =~ /^(not )?ok \d+ - (.*)$/mg) {
        push @order, $2;
        $result{$2} = $1 ? 'fail' : 'pass';
    }
    my @expected = (
        'F1: wrong status - status code',
        'F2: wrong body - response body',
        'F3: like and unlike - response body like',
        'F3: like and unlike - response body unlike',
        'F4: header with another value - response headers',
        'F5: header that should be absent - response headers',
        'F6: header regex - response headers',
        'F7: json mismatch - response json',
        'F8: body is not json - response json',
        'F9: subset missing key - response json subset',
        'F10: subset array length - response json subset',
        'F11: subset type - response json subset',
        'F12: expected log line missing - error_log',
        'F13: unwanted log line present - no_error_log',
        'F14: must_die on a valid config - nginx -t fails',
        'F15: must_die with a wrong message - nginx -t fails matching /some other message/',
        'F16: nginx does not start - nginx starts',
        'F17: a worker dies - no alert/crit/emerg in error log',
        'F18: second repetition differs - response body',
        'F19: initialize against a non-MCP location - initialize',
        'F20: request timeout - status code',
        'F21: backend that does not exist - backend starts',
        'F22: module required but not found - nginx starts',
    );
    is_deeply([grep { $result{$_} eq 'fail' } @order], \@expected,
              'failing fixture: exactly the intended tests fail')
        or diag($tap);
    for my $pass ('F1: wrong status - no alert/crit/emerg in error log',
                  'F13: unwanted log line present - status code',
                  'F18: second repetition differs - status code',
                  'F23: passing control block - response body',
                  'F23: passing control block - nginx shutdown without alert/crit/emerg') {
        is($result{$pass}, 'pass', "failing fixture: '$pass' passes");
    }
    is($status, scalar @expected, 'failing fixture: exit status counts the failures');
    like($tap, qr/^1\.\.\d+$/m, 'failing fixture: done_testing plan printed');
}

# --- blocks ------------------------------------------------------------------

# Every block gets no_module from run_blocks and, unless it has its own, the
# config of the DEFAULTS block.
our ($first_master, $defaults_master);
run_blocks(defaults => { no_module => '' });

__DATA__

=== DEFAULTS
--- config
location = /hello { add_header X-Answer 42; return 200 "hello world"; }
location /missing { root $TEST_PREFIX/html; }

=== TEST 1: plain return
--- request
GET /hello
--- response_body: hello world
--- response_headers
Content-Type: text/plain
X-Answer: 42
Content-Length: ~ ^\d+$
!X-Absent
--- response_body_like: ^hello
--- response_body_unlike: bye

=== TEST 2: same config reuses the running nginx
--- request_eval
$main::first_master = $Test::McpNginx::NGINX->master_pid; "GET /missing/file"
--- error_code: 404
--- error_log
~ open\(\) ".*/html/missing/file" failed
No such file or directory
--- no_error_log
[warn]

=== TEST 3: still the same instance
--- request_eval
Test::More::is($Test::McpNginx::NGINX->master_pid, $main::first_master, 'TEST 3: nginx reused');
"GET /hello"
--- repeat: 5
--- response_body_eval: "hello " . "world"

=== TEST 4: default POST headers and more_headers
--- backend: ../t/harness-fixtures/fake_backend.py
--- config
location / { proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT; }
--- request
POST /echo
{"k":"v"}
--- more_headers
Accept: text/plain
X-Extra: 1
--- response_json_subset
{"method":"POST","body":"{\"k\":\"v\"}","body_length":9,
 "headers":{"content-type":"application/json","accept":"text/plain","x-extra":"1",
            "content-length":"9","host":"*ANY*"}}

=== TEST 5: empty more_headers value removes a default
--- backend: ../t/harness-fixtures/fake_backend.py
--- config
location / { proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT; }
--- request
POST /echo
--- more_headers
Content-Type:
--- response_body_unlike: content-type
--- response_json_subset
{"body_length":0,"headers":{"accept":"application/json, text/event-stream"}}

=== TEST 6: init sends the session headers
--- backend: ../t/harness-fixtures/fake_backend.py
--- config
location / { proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT; }
--- init: 2025-03-26
--- request
POST /mcp
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
--- response_headers
Content-Type: application/json
--- response_json_subset
{"jsonrpc":"2.0","id":2,"result":{"method":"tools/list",
 "headers":{"mcp-session-id":"$SESSION_ID","mcp-protocol-version":"2025-03-26"}}}
--- response_body_like: "mcp-session-id": "$SESSION_ID"

=== TEST 7: more_headers overrides the session headers
--- backend: ../t/harness-fixtures/fake_backend.py
--- config
location / { proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT; }
--- init: 2025-06-18
--- request
POST /mcp
{"jsonrpc":"2.0","id":3,"method":"ping"}
--- more_headers
Mcp-Session-Id:
MCP-Protocol-Version: 2025-11-25
--- response_body_unlike: mcp-session-id
--- response_json_subset
{"result":{"headers":{"mcp-protocol-version":"2025-11-25"}}}

=== TEST 8: exact JSON of an event stream, through nginx
--- backend: ../t/harness-fixtures/fake_backend.py
--- config
location / { proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT; }
--- request
GET /sse
--- response_json
[{"a":1.0},{"b":2}]
--- response_json_subset: ["*ANY*",{"b":2}]

=== TEST 9: generated large body
--- backend: ../t/harness-fixtures/fake_backend.py
--- config
location / { proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT; client_max_body_size 4m; }
--- request_eval
"POST /echo\n" . ('x' x 2_000_000)
--- response_json_subset: {"body_length":2000000}

=== TEST 10: workers, main_config and HTTP/1.0
--- workers: 2
--- main_config
env TEST_MCP_HARNESS;
--- error_log_level: notice
--- config
location = /hello { return 200 "hello world"; }
--- request_eval
Test::More::is(scalar(my @w = $Test::McpNginx::NGINX->worker_pids), 2, 'TEST 10: workers');
"GET /hello HTTP/1.0"
--- response_body: hello world
--- no_error_log
[info]

=== TEST 11: missing Host is rejected
--- config
location = /hello { return 200 "hello world"; }
--- request
GET /hello
--- more_headers
Host:
--- error_code: 400

=== TEST 12: a bad directive is refused
--- config
location = /hello { no_such_directive on; }
--- must_die: unknown directive "no_such_directive"

=== TEST 13: skipped block
--- skip: shows that skip works
--- request
GET /never

=== TEST 14: a block's own config overrides the default one
--- config
location = /hello { return 200 "own config"; }
--- request_eval
Test::More::unlike($Test::McpNginx::NGINX->conf_text, qr/load_module/, 'TEST 14: default no_module applies');
"GET /hello"
--- response_body: own config
--- response_headers
!X-Answer

=== TEST 15: the next block without a config is back on the default one
--- request_eval
$main::defaults_master = $Test::McpNginx::NGINX->master_pid; "GET /hello"
--- response_body: hello world
--- response_headers
X-Answer: 42

=== TEST 16: blocks sharing the defaults reuse one nginx
--- request_eval
Test::More::is($Test::McpNginx::NGINX->master_pid, $main::defaults_master, 'TEST 16: nginx reused');
"GET /missing/file"
--- error_code: 404
