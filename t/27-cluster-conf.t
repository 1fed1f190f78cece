# conf-examples/cluster.conf, the configuration of README "Running on
# several hosts", run as written on two "hosts" (two nginx instances with
# their own ports and node ids) sharing one redis-server: a Streamable HTTP
# session made on one is used on the other, an HTTP with SSE stream on one
# gets the answers to POSTs sent to the other, and a notification pushed
# on one reaches a stream on the other.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use IO::Socket::INET;
use IO::Select;

my $root = repo_root();

open my $fh, '<', "$root/conf-examples/cluster.conf" or die $!;
my $example = do { local $/; <$fh> };
close $fh;

my $redis = start_redis();
my $backend = start_backend('example_backend.py');

sub host {
    my ($node) = @_;
    my $port = free_port();
    my $notify = free_port();
    my $conf = $example;
    my @edits = (
        [qr/^(\s*load_module\s+)build\/\S+;/m, sub { "$1${\ module_path()};" }],
        [qr/^(\s*)daemon\s+off\s*;/m, sub { "${1}daemon on;" }],
        [qr/^(\s*)error_log\s+stderr\b/m,
         sub { "${1}error_log \$TEST_PREFIX/logs/error.log" }],
        [qr/build\/run\/nginx\.pid/, sub { '$TEST_PREFIX/logs/nginx.pid' }],
        [qr/build\/run\//, sub { '$TEST_PREFIX/tmp/' }],
        [qr/=schemas\//, sub { "=$root/conf-examples/schemas/" }],
        [qr/worker_processes auto;/, sub { 'worker_processes 2;' }],
        [qr/listen 8080;/, sub { "listen 127.0.0.1:$port;" }],
        [qr/127\.0\.0\.1:8091/, sub { "127.0.0.1:$notify" }],
        [qr/127\.0\.0\.1:6379/, sub { '127.0.0.1:' . $redis->port }],
        [qr/127\.0\.0\.1:9001/, sub { '127.0.0.1:' . $backend->port }],
        [qr/mcp_node_id gw-1;/, sub { "mcp_node_id $node;" }],
    );
    for my $e (@edits) {
        $conf =~ s/$e->[0]/$e->[1]->()/ge
            or BAIL_OUT("cluster.conf no longer has $e->[0]");
    }
    my $n = start_nginx(full_conf => $conf, port => $port);
    $n->{notify_port} = $notify;
    return $n;
}

my $a = host('gw-a');
my $b = host('gw-b');

for my $n ($a, $b) {
    ok(wait_for(5, sub {
            http_request(port => $n->port, path => '/health/ready')->status
                == 200 }),
       'cluster.conf: ready with Redis on port ' . $n->port);
}

# a Streamable HTTP session made on A, a tool called through B
my ($sid) = mcp_initialize(port => $a->port, version => '2025-11-25');
my $r = json_rpc(port => $b->port, session => $sid, version => '2025-11-25',
                 message => { jsonrpc => '2.0', id => 1,
                              method => 'tools/call',
                              params => { name => 'add',
                                          arguments => { a => 2, b => 40 } } });
is($r->status, 200, 'a session made on A, tools/call on B');
is($r->json->{result}{structuredContent}{sum}, 42, 'answered by the tool');

# an HTTP with SSE stream on A, POSTs on B
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $a->port,
                              Timeout => 5) or die $!;
print $s "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
       . "Accept: text/event-stream\r\n\r\n";
my $sel = IO::Select->new($s);
my $data = '';
my $read = sub {
    my ($re) = @_;
    my $end = time + 5;
    until ($data =~ $re) {
        my $left = $end - time;
        last if $left <= 0 || !$sel->can_read($left);
        sysread($s, my $buf, 65536) or last;
        $data .= $buf;
    }
    return $data =~ $re;
};
ok($read->(qr/data: (\/mcp\?sessionId=[0-9a-f]{32})\n\n/),
   'an HTTP with SSE stream on A');
my ($endpoint) = $data =~ /data: (\/mcp\?sessionId=[0-9a-f]{32})/;
my ($lsid) = $endpoint =~ /sessionId=(\w+)/;

$r = http_request(port => $b->port, method => 'POST', path => $endpoint,
                  headers => [['Content-Type', 'application/json']],
                  body => '{"jsonrpc":"2.0","id":"i","method":"initialize",'
                        . '"params":{"protocolVersion":"2024-11-05",'
                        . '"capabilities":{},"clientInfo":{"name":"t",'
                        . '"version":"1"}}}');
is($r->status, 202, 'initialize POSTed to B: 202');
ok($read->(qr/"id":"i","result":\{"protocolVersion":"2024-11-05"/),
   'its answer on the stream on A');

# a tool backend pushes a notification through B
$r = http_request(port => $b->{notify_port}, method => 'POST',
                  path => '/notify',
                  headers => [['Content-Type', 'application/json'],
                              ['Mcp-Session-Id', $lsid]],
                  body => '{"jsonrpc":"2.0","method":"notifications/message",'
                        . '"params":{"level":"info","data":"via B"}}');
is($r->status, 202, 'a notification pushed to B\'s mcp_notify: 202');
ok($read->(qr/"data":"via B"/), 'it is on the stream on A');

close $s;

for my $n ($a, $b) {
    unlike($n->error_log, qr/\[(alert|crit|emerg)\]/, 'no alert');
}

done_testing();
