# End to end with the official MCP TypeScript SDK client (Streamable HTTP
# transport, protocol revision 2025-11-25 / 2025-06-18 "Tool Result",
# "Structured Content", "Output Schema" and "Error Handling" as the SDK
# implements them) against the quick start configuration,
# conf-examples/quickstart.conf, with tools/example_backend.py behind it.
#
# t/node/sdk-e2e.mjs prints TAP and exits non-zero when a check fails; each of
# its checks is repeated here as a test of its own.  It needs
# `npm ci --prefix t/node` (done by `make test`): without node or the SDK the
# file is skipped, or fails when $ENV{CI} is set.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use POSIX ();

my $root = repo_root();
my $script = "$root/t/node/sdk-e2e.mjs";
my $sdk = "$root/t/node/node_modules/\@modelcontextprotocol/sdk/package.json";

my $node = $ENV{NODE} || (grep { -x } map { "$_/node" } split /:/, $ENV{PATH} // '')[0];
my $missing = !$node || !-x $node ? 'node is not installed (not found in PATH)'
            : !-f $sdk ? 't/node/node_modules is missing the MCP SDK (run: npm ci --prefix t/node)'
            : !-f $script ? 't/node/sdk-e2e.mjs is missing'
            : undef;
if ($missing) {
    if ($ENV{CI}) {
        fail("SDK end-to-end prerequisites: $missing");
        done_testing();
        exit 1;
    }
    plan skip_all => $missing;
}

# --- the quick start configuration, moved into a test prefix ------------------
my $conf_file = "$root/conf-examples/quickstart.conf";
open my $fh, '<', $conf_file or BAIL_OUT("cannot read $conf_file: $!");
my $conf = do { local $/; <$fh> };
close $fh;

my $be = start_backend('example_backend.py');
my $port = free_port();
my $module = module_path();
my $backend_port = $be->port;

my @edits = (
    ['listen address',      qr/127\.0\.0\.1:8080\b/,              sub { "127.0.0.1:$port" }],
    ['backend address',     qr/127\.0\.0\.1:9001\b/,              sub { "127.0.0.1:$backend_port" }],
    ['load_module path',    qr/^(\s*load_module\s+)build\/\S+;/m, sub { "$1$module;" }],
    ['daemon off',          qr/^(\s*)daemon\s+off\s*;/m,          sub { "${1}daemon on;" }],
    ['error_log to stderr', qr/^(\s*)error_log\s+stderr\b/m,      sub { "${1}error_log \$TEST_PREFIX/logs/error.log" }],
    ['pid file',            qr/build\/run\/nginx\.pid/,           sub { '$TEST_PREFIX/logs/nginx.pid' }],
    ['build/run paths',     qr/build\/run\//,                     sub { '$TEST_PREFIX/tmp/' }],
    ['schema paths',        qr/=schemas\//,                       sub { "=$root/conf-examples/schemas/" }],
);
for my $e (@edits) {
    my ($what, $re, $to) = @$e;
    ok($conf =~ $re, "quickstart.conf has the $what to adapt");
    $conf =~ s/$re/$to->()/ge;
}
unlike($conf, qr/(?<![\/\w])(?:build|schemas)\//, 'no relative build/ or schemas/ path left');

my $ng = eval { start_nginx(port => $port, full_conf => $conf) };
ok($ng, 'nginx starts with the quick start configuration') or BAIL_OUT("nginx: $@");

# --- run the SDK client ---------------------------------------------------------
my $url = "http://127.0.0.1:$port/mcp";
my $out = '';
my $pid = open(my $kid, '-|') // BAIL_OUT("fork: $!");
if (!$pid) {
    open STDERR, '>&', \*STDOUT;
    open STDIN, '<', '/dev/null';
    exec $node, $script, $url or POSIX::_exit(127);
}
eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 90;
    local $/;
    $out = <$kid> // '';
    alarm 0;
    1;
} or do { kill 'KILL', $pid; $out .= "\n(killed after 90 s)\n" };
close $kid;
my $status = $? >> 8;

my @checks = $out =~ /^((?:not )?ok) \d+ - (.*)$/mg;
my ($plan) = $out =~ /^1\.\.(\d+)$/m;
my $n = 0;
while (my ($result, $name) = splice @checks, 0, 2) {
    $n++;
    ok($result eq 'ok', "sdk: $name");
}
cmp_ok($n, '>=', 30, "the SDK client ran its checks ($n)");
is($plan, $n, 'the SDK client printed its plan');
is($status, 0, "node sdk-e2e.mjs $url exits 0") or diag($out);

# the SDK's traffic, as the quick start's /metrics shows it
my $scrape = http_request(port => $port, path => '/metrics');
is($scrape->status, 200, 'the quick start serves /metrics');
my ($calls) = $scrape->body =~ /^mcp_requests_total\{method="tools\/call"\} (\d+)$/m;
cmp_ok($calls // 0, '>', 0, "the SDK's tools/call requests are counted ($calls)");
my ($echo) = $scrape->body =~ /^mcp_tool_calls_total\{tool="echo",outcome="ok"\} (\d+)$/m;
cmp_ok($echo // 0, '>', 0, 'echo calls counted as ok');
my $prom = "$ng->{prefix}/metrics.txt";
open my $pf, '>', $prom or die $!;
print $pf $scrape->body;
close $pf;
my $lint = `promtool check metrics < $prom 2>&1`;
is($?, 0, 'promtool check metrics passes') or diag($lint);
note($scrape->body);

my @bad = $ng->error_log =~ /^(.*(?:\[alert\]|\[crit\]|\[emerg\]|exited on signal).*)$/mg;
ok(!@bad, 'no alert/crit/emerg in the error log') or diag(join "\n", @bad);
$ng->stop;
$be->stop;

done_testing();
