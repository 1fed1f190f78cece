# End to end with the official MCP TypeScript SDK's SSEClientTransport: the
# legacy transport of MCP revision 2024-11-05 (basic/transports, "HTTP with
# SSE"): the client GETs the `mcp` location with Accept: text/event-stream,
# the server opens an SSE stream whose first event is `endpoint` (the URL to
# POST to, with ?sessionId=), the client POSTs each JSON-RPC message there
# and the server answers every request on the SSE stream, then 202 to the
# POST.
#
# nginx runs 4 workers with keepalive_timeout 0, so every POST is a
# connection of its own, and `reuseport`, so the kernel spreads those
# connections over the workers by their address: most POSTs land on a worker
# other than the one holding their session's stream and their responses cross
# over to it (the per-worker Unix sockets).  t/node/sdk-sse.mjs runs 4 SDK
# clients at once, 50 tool calls each (echo and add of
# tools/example_backend.py, every result checked), closes them and checks
# that a POST to a closed stream's endpoint gets 404.  /health/ready must then
# count messages that crossed between workers (messages.ipc > 0) and none that
# failed.
#
# It needs node and `npm ci --prefix t/node`: without them the file is
# skipped, or fails when $ENV{CI} is set.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

my $CLIENTS = 4;
my $CALLS = 50;          # tool calls per client
my $TOTAL = $CLIENTS * $CALLS;

my $root = repo_root();
my $script = "$root/t/node/sdk-sse.mjs";
my $sdk = "$root/t/node/node_modules/\@modelcontextprotocol/sdk/dist/esm/client/sse.js";

my $node = $ENV{NODE} || (grep { -x } map { "$_/node" } split /:/, $ENV{PATH} // '')[0];
my $missing = !$node || !-x $node ? 'node is not installed (not found in PATH)'
            : !-f $sdk ? 't/node/node_modules is missing the MCP SDK (run: npm ci --prefix t/node)'
            : !-f $script ? 't/node/sdk-sse.mjs is missing'
            : undef;
if ($missing) {
    if ($ENV{CI}) {
        fail("SDK SSE end-to-end prerequisites: $missing");
        done_testing();
        exit 1;
    }
    plan skip_all => $missing;
}

my $be = start_backend('example_backend.py');
my $ng = eval {
    start_nginx(
        workers => 4,
        backend_port => $be->port,
        listen_params => 'reuseport',
        http_config => <<'EOC',
    mcp_session_zone zone=mcp:1m;
    keepalive_timeout 0;
EOC
        config => <<'EOC');
        location = /mcp {
            mcp;
            # a closed stream is noticed at the latest at the next ping
            mcp_sse_ping_interval 1s;
            mcp_tool echo /tools/echo "description=Echo a message back unchanged."
                     input_schema=$TEST_ROOT/conf-examples/schemas/echo.input.json;
            mcp_tool add /tools/add "description=Add two numbers."
                     input_schema=$TEST_ROOT/conf-examples/schemas/add.input.json
                     output_schema=$TEST_ROOT/conf-examples/schemas/add.output.json;
        }
        location /tools/ {
            internal;
            proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/;
        }
        location = /health/ready { mcp_health ready; }
EOC
};
ok($ng, 'nginx starts with 4 workers') or BAIL_OUT("nginx: $@");
is(scalar(my @w = $ng->worker_pids), 4, 'four worker processes run');
my $port = $ng->port;

# --- run the SDK clients ---------------------------------------------------------
my $url = "http://127.0.0.1:$port/mcp";
my $out = '';
my $pid = open(my $kid, '-|') // BAIL_OUT("fork: $!");
if (!$pid) {
    open STDERR, '>&', \*STDOUT;
    open STDIN, '<', '/dev/null';
    exec $node, $script, $url, '--clients', $CLIENTS, '--calls', $CALLS or POSIX::_exit(127);
}
eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 180;
    local $/;
    $out = <$kid> // '';
    alarm 0;
    1;
} or do { kill 'KILL', $pid; $out .= "\n(killed after 180 s)\n" };
close $kid;
my $status = $? >> 8;

my ($line) = $out =~ /^SUMMARY (\{.*\})$/m;
my $sum = eval { JSON::PP->new->decode($line // '') };
ok(ref $sum eq 'HASH', 'the script printed its JSON summary') or diag($out);
$sum = {} unless ref $sum eq 'HASH';
is($status, 0, "node sdk-sse.mjs $url exits 0") or diag($out);
is($sum->{failures}, 0, 'no failed check in the script')
    or diag(JSON::PP->new->canonical->pretty->encode($sum->{failed_checks} // []));
is($sum->{connected}, $CLIENTS, "$CLIENTS clients connected (endpoint event, initialize)");
is($sum->{sessions}, $CLIENTS, "$CLIENTS distinct sessions");
is($sum->{streams_opened}, $CLIENTS, 'one stream per client, no reconnection');
is($sum->{tools_listed}, $CLIENTS, 'every client listed echo and add');
is($sum->{calls}, $TOTAL, "$TOTAL tool calls made");
is($sum->{results_ok}, $TOTAL, "all $TOTAL results are right");
is($sum->{results_bad} // -1, 0, 'no wrong result');
is($sum->{call_errors} // -1, 0, 'no call failed');
is($sum->{transport_errors} // -1, 0, 'no transport error');
# initialize, notifications/initialized, tools/list and the calls, per client
is_deeply($sum->{posts}, { 'POST 202' => $CLIENTS * ($CALLS + 3) },
          'every POST answered 202') or diag(JSON::PP->new->canonical->encode($sum->{posts} // {}));
is($sum->{closed}, $CLIENTS, 'every client closed');
is($sum->{closed_sessions_404}, $CLIENTS, 'a POST to a closed stream\'s endpoint gets 404 (-32001)');

# --- the message counters of /health/ready ----------------------------------------
# Every request's response went onto a stream: initialize, tools/list and the
# calls of each client.
my $min_messages = $CLIENTS * ($CALLS + 2);
my ($health, $m);
Test::McpNginx::_wait_until(3, sub {
    $health = http_request(port => $port, path => '/health/ready');
    $m = ref $health->json eq 'HASH' ? $health->json->{messages} : undef;
    return ref $m eq 'HASH' && ($m->{local} // 0) + ($m->{ipc} // 0) >= $min_messages;
});
is($health->status, 200, '/health/ready answers 200') or diag($health->body);
ok(ref $m eq 'HASH', '/health/ready has "messages"') or diag($health->body);
$m = {} unless ref $m eq 'HASH';
cmp_ok($m->{ipc} // 0, '>', 0, 'messages.ipc > 0: responses crossed to the worker holding the stream')
    or diag($health->body);
is($m->{failed}, 0, 'messages.failed == 0') or diag($health->body);
cmp_ok(($m->{local} // 0) + ($m->{ipc} // 0), '>=', $min_messages,
       "messages.local + messages.ipc >= $min_messages (every response went onto a stream)")
    or diag($health->body);
note('health: ' . $health->body);

# --- no alert, crit or emerg ---------------------------------------------------
$ng->stop;
$be->stop;
my @bad = $ng->error_log =~ /^(.*(?:\[alert\]|\[crit\]|\[emerg\]|exited on signal).*)$/mg;
ok(!@bad, 'no alert/crit/emerg in the error log') or diag(join "\n", @bad);

done_testing();
