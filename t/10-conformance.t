# The official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in t/conformance/package-lock.json), server scenarios, against
# conf-examples/conformance.conf with tools/conformance_backend.py.
# Scenarios not yet supported are listed, with reasons, in
# t/conformance/expected-failures.txt; the run fails when an unlisted
# scenario fails or a listed one passes.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;

my $root = repo_root();
my $suite = "$root/t/conformance/node_modules/\@modelcontextprotocol/"
            . "conformance/dist/index.js";

unless (-f $suite) {
    if ($ENV{CI}) {
        fail('the conformance suite is installed (make test runs npm ci)');
        done_testing();
        exit;
    }
    plan skip_all => 'conformance suite not installed: '
                     . 'npm ci --prefix t/conformance';
}

my $backend = start_backend('conformance_backend.py');
my $port = free_port();

open my $fh, '<', "$root/conf-examples/conformance.conf" or die $!;
my $conf = do { local $/; <$fh> };
close $fh;

# the example's fixed addresses and relative paths, made this test's own
$conf =~ s/127\.0\.0\.1:8081/127.0.0.1:$port/g;
$conf =~ s/127\.0\.0\.1:9101/127.0.0.1:${\ $backend->port }/g;
$conf =~ s{load_module build/ngx_http_mcp_module\.so}
          {load_module ${\ module_path()}}g;
$conf =~ s{build/conformance/}{\$TEST_PREFIX/logs/}g;
$conf =~ s{=schemas/}{=$root/conf-examples/schemas/}g;
$conf =~ s/^daemon off;/daemon on;/m;

ok($conf =~ /127\.0\.0\.1:$port/, 'the example listens where the test says');

my $nginx = start_nginx(full_conf => $conf, port => $port);

my $results = $nginx->prefix . '/results';
my $out = `"$root/t/conformance/run.sh" --results-dir "$results" \\
           "http://127.0.0.1:$port/mcp" 2>&1`;
my $rc = $? >> 8;

my ($summary) = $out =~ /^(conformance: \d+ passed, \d+ failed, \d+ skipped)$/m;

ok(defined $summary, 'the conformance run printed its summary')
    or diag($out);
is($rc, 0, 'every scenario passed or is a listed expected failure')
    or diag($out);
like($out, qr/^\s*PASS\s+server-initialize\b/m, 'server-initialize passes');
for my $s (qw(ping tools-list tools-call-simple-text tools-call-image
              tools-call-audio tools-call-embedded-resource
              tools-call-mixed-content tools-call-error)) {
    like($out, qr/^\s*PASS\s+\Q$s\E\b/m, "$s passes");
}

note($summary) if $summary;

my $log = $nginx->error_log;
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg logged');
$nginx->stop;

done_testing();
