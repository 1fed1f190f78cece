# The configuration shown in README.md ("Loading the module") is run as
# written, with only its paths and ports made this test's own, and serves
# what the README says it serves.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;

my $root = repo_root();

open my $fh, '<', "$root/README.md" or die $!;
my $readme = do { local $/; <$fh> };
close $fh;

my ($section) = $readme =~ /^## Loading the module\n(.*?)^## /ms;
ok(defined $section, 'README has a "Loading the module" section');

# the indented code block of that section
my $conf = join '', map { s/^    //r } grep { /^    |^$/ }
           split /^/m, ($section =~ /\n((?:    .*\n|\n)+)/)[0];

like($conf, qr/load_module/, 'the example loads the module');

my $backend = start_backend('example_backend.py');
my $port = free_port();

$conf =~ s{load_module /path/to/ngx_http_mcp_module\.so}
          {load_module ${\ module_path()}};
$conf =~ s/listen 8080;/listen 127.0.0.1:$port;/;
$conf =~ s/127\.0\.0\.1:9001/127.0.0.1:${\ $backend->port }/g;
$conf =~ s{=schemas/}{=$root/conf-examples/schemas/}g;
$conf .= "events {}\n";

my $nginx = start_nginx(full_conf => $conf, port => $port);

my ($sid, $version) = mcp_initialize(port => $port, version => '2025-11-25');
like($sid, qr/^[0-9a-f]{32}$/, 'initialize gives a session');
is($version, '2025-11-25', 'the latest revision is echoed');

my $res = json_rpc(port => $port, session => $sid, version => $version,
                   message => { jsonrpc => '2.0', id => 2,
                                method => 'tools/list' });
is($res->status, 200, 'tools/list answers 200');
is_deeply([ map { $_->{name} } @{ $res->{json}{result}{tools} } ], ['echo'],
          'the example declares the echo tool');
is($res->{json}{result}{tools}[0]{description}, 'Echo a message back',
   'with its description');

$res = json_rpc(port => $port, session => $sid, version => $version,
                message => { jsonrpc => '2.0', id => 3, method => 'tools/call',
                             params => { name => 'echo',
                                         arguments => { message => 'hi' } } });
is_deeply($res->{json}{result}, { content => [ { type => 'text',
                                                 text => 'hi' } ] },
          'echo answers through the tool location');

$res = http_request(port => $port, path => '/health/live');
is($res->status, 200, '/health/live answers 200');
$res = http_request(port => $port, path => '/health/ready');
is($res->status, 200, '/health/ready answers 200');

unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]/, 'nothing alarming logged');
$nginx->stop;

done_testing();
