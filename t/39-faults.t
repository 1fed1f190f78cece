# Faults (README "Tests"): nginx -s reload and graceful quit under steady
# Streamable HTTP traffic fail no request and leave no worker behind; tool
# calls in progress when a worker is told to go are answered; slow clients
# (slowloris on headers and on the body) hold no memory to speak of and
# are dropped when client_header_timeout / client_body_timeout run out,
# while other clients are served.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

my $backend = start_backend('example_backend.py');

my $nginx = start_nginx(
    workers => 2,
    backend_port => $backend->port,
    http_config => <<'HTTP',
mcp_session_zone zone=mcp:1m;
client_header_timeout 1s;
client_body_timeout 1s;
HTTP
    config => <<'CONF');
location = /mcp {
    mcp;
    mcp_max_session_requests 0;
    mcp_tool echo /t/echo;
    mcp_tool nap "/t/sleep?ms=1200";
}
location /t/ { internal; proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/; }
CONF

my $port = $nginx->port;
my ($sid, $version) = mcp_initialize(port => $port);
ok($sid, 'a session');

sub call {
    my ($id, $name, %o) = @_;
    return json_rpc(port => $port, session => $sid, version => $version,
                    timeout => $o{timeout} // 10,
                    message => { jsonrpc => '2.0', id => $id, method => 'tools/call',
                                 params => { name => $name,
                                             arguments => { message => "m$id" } } });
}

sub rss_kb {
    my $kb = 0;
    for my $pid ($nginx->worker_pids) {
        my ($v) = Test::McpNginx::_read_file("/proc/$pid/status") =~ /^VmRSS:\s+(\d+)/m;
        $kb += $v // 0;
    }
    return $kb;
}

# ---------------------------------------------------------------------------
# steady traffic through three reloads: every request answered, and right

{
    my $dir = $nginx->prefix;
    my @kids;
    for my $k (1 .. 4) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            open my $out, '>', "$dir/traffic.$k" or POSIX::_exit(1);
            my $end = time + 4.5;
            my $n = 0;
            while (time < $end) {
                my $id = $k * 100000 + $n++;
                my $r = call($id, $n % 10 ? 'echo' : 'nap');
                my $ok = ($r->status // 0) == 200 && $r->body =~ /"id":$id\b/
                         && $r->body =~ /"result"/ && $r->body !~ /"isError":true/;
                print $out ($ok ? 'ok' : 'FAIL ' . ($r->status // 'none') . ' '
                            . ($r->error // '') . ' ' . substr($r->body // '', 0, 200)), "\n";
            }
            close $out;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }

    my @old = $nginx->worker_pids;
    sleep 0.7;
    my $reloads = 0;
    for (1 .. 3) {
        $reloads += $nginx->reload ? 1 : 0;
        sleep 0.5;
    }
    is($reloads, 3, 'three reloads under traffic');
    waitpid $_, 0 for @kids;

    my @lines = map { split /\n/, Test::McpNginx::_read_file("$dir/traffic.$_") } 1 .. 4;
    my @failed = grep { !/^ok$/ } @lines;
    cmp_ok(scalar @lines, '>', 100, scalar(@lines) . ' tools/call requests during them');
    is(scalar @failed, 0, 'none failed') or diag(join "\n", @failed[0 .. ($#failed < 4 ? $#failed : 4)]);

    ok(wait_for(5, sub { !grep { kill 0, $_ } @old }), 'the old workers are gone');
    my @now = $nginx->worker_pids;
    is(scalar @now, 2, 'two workers, as configured');
}

# ---------------------------------------------------------------------------
# slowloris: headers and bodies a byte at a time, or never finished

{
    my $before = rss_kb();
    my @slow;
    for my $i (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or last;
        if ($i % 2) {
            print $s "POST /mcp HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
        } else {
            print $s "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                   . "Accept: application/json, text/event-stream\r\n"
                   . "Mcp-Session-Id: $sid\r\nContent-Length: 1000\r\n\r\n{\"jsonrpc\":";
        }
        push @slow, $s;
    }
    is(scalar @slow, 100, '100 slow clients connected, half in their headers, half in their bodies');
    sleep 0.3;
    for my $s (@slow) { print $s 'x' }
    my $t0 = time;
    is(call(1, 'echo', timeout => 3)->status, 200, 'meanwhile another client is served');
    my $grew = rss_kb() - $before;
    cmp_ok($grew, '<', 4096, "the workers grew by $grew kB for them");

    # each is dropped once its timeout runs out with nothing new
    my $closed = 0;
    my $end = time + 5;
    for my $s (@slow) {
        $s->blocking(0);
    }
    my %done;
    while (time < $end && keys %done < @slow) {
        for my $i (0 .. $#slow) {
            next if $done{$i};
            my $n = sysread($slow[$i], my $buf, 4096);
            if (defined $n && $n == 0) { $done{$i} = 1; $closed++ }
            elsif ($n) { $done{$i} = 1; $closed++ }
        }
        sleep 0.1;
    }
    my $took = time - $t0;
    is($closed, 100, sprintf('all 100 were dropped (%.1f s after their last byte)', $took));
    cmp_ok($took, '<', 4, 'within the 1 s timeouts, give or take');
    my $heads = () = $nginx->error_log =~ /client timed out .* while reading client request headers/g;
    is($heads, 50, 'nginx logs the 50 headers that timed out');
    my $access = Test::McpNginx::_read_file($nginx->prefix . '/logs/access.log');
    my $timeouts = () = $access =~ /"POST \/mcp HTTP\/1\.1" 408 /g;
    is($timeouts, 100, 'and all 100 requests as 408 in the access log');
    close $_ for @slow;
}

# ---------------------------------------------------------------------------
# graceful quit with tool calls in progress: they are answered

{
    my $dir = $nginx->prefix;
    my @kids;
    for my $k (1 .. 4) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $r = call(900 + $k, 'nap');
            open my $out, '>', "$dir/quit.$k" or POSIX::_exit(1);
            print $out ($r->status // 'none'), ' ', ($r->body =~ /slept 1200 ms/ ? 'slept' : 'no'), "\n";
            close $out;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    sleep 0.4;
    my $master = $nginx->master_pid;
    my @workers = $nginx->worker_pids;
    kill 'QUIT', $master;
    waitpid $_, 0 for @kids;
    my @res = map { Test::McpNginx::_read_file("$dir/quit.$_") =~ s/\n//r } 1 .. 4;
    is_deeply(\@res, [('200 slept') x 4], 'four naps in progress at the quit: all answered');
    ok(wait_for(5, sub { !kill 0, $master }), 'the master exits');
    ok(!grep({ kill 0, $_ } @workers), 'and no worker is left behind');
    unlike($nginx->error_log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'no alert, no crash');
}

done_testing();
