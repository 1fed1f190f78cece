# Sessions across worker processes.
#
# MCP Streamable HTTP (2025-03-26, 2025-06-18, 2025-11-25) "Session
# Management": once the server assigned an Mcp-Session-Id, every later request
# of the client carries it, and after the session ended (DELETE) the server
# answers requests with that id with 404 Not Found.  nginx serves connections
# from several worker processes; the sessions live in shared memory so that
# any worker serves any session.
#
# With keepalive_timeout 0 every request is a connection of its own, and
# `listen ... reuseport` makes the kernel spread those connections over both
# workers.  The access log records the worker ($pid) of each request.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx qw(:DEFAULT json_equal_diff);
use Time::HiRes ();

my $be = start_backend('example_backend.py');
my $port = free_port();

my $ng = start_nginx(port => $port, backend_port => $be->port, full_conf => <<'EOC');
worker_processes 2;
events { worker_connections 1024; }
http {
    client_body_temp_path $TEST_PREFIX/tmp/body; proxy_temp_path $TEST_PREFIX/tmp/proxy;
    fastcgi_temp_path $TEST_PREFIX/tmp/fcgi; uwsgi_temp_path $TEST_PREFIX/tmp/uwsgi;
    scgi_temp_path $TEST_PREFIX/tmp/scgi;

    mcp_session_zone zone=mcp:1m idle_timeout=10m;
    log_format workers '$pid $status $request_method $http_mcp_session_id';
    access_log $TEST_PREFIX/logs/workers.log workers;
    keepalive_timeout 0;

    server {
        listen 127.0.0.1:$TEST_NGINX_PORT reuseport;
        location = /mcp {
            mcp;
            mcp_tool echo /tools/echo;
        }
        location /tools/ {
            internal;
            proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/;
        }
    }
}
EOC

my @workers;
for (1 .. 200) {
    last if (@workers = $ng->worker_pids) == 2;
    Time::HiRes::sleep(0.05);
}
is(scalar @workers, 2, 'two worker pids') or BAIL_OUT('workers did not start');

my ($sid, $version, $init) = mcp_initialize(port => $port, version => '2025-06-18');
like($sid // '', qr/^[0-9a-f]{32}$/, 'session initialized');
is($init->{initialized_response}->status, 202, 'notifications/initialized accepted');

my (@failures, %kinds);
for my $i (1 .. 200) {
    my $kind = (qw(ping list call))[$i % 3];
    my %msg = (jsonrpc => '2.0', id => $i);
    my $want;
    if ($kind eq 'ping') {
        %msg = (%msg, method => 'ping');
        $want = {};
    } elsif ($kind eq 'list') {
        %msg = (%msg, method => 'tools/list');
        $want = { tools => [{ name => 'echo', inputSchema => { type => 'object' } }] };
    } else {
        %msg = (%msg, method => 'tools/call', params => { name => 'echo', arguments => { message => "m$i" } });
        $want = { content => [{ type => 'text', text => "m$i" }] };
    }
    my $res = json_rpc(port => $port, session => $sid, version => $version, message => \%msg);
    my $got = $res->json;
    my $ok = ($res->status // 0) == 200
          && !defined json_equal_diff({ jsonrpc => '2.0', id => $i, result => $want }, $got);
    $kinds{$kind}++;
    push @failures, "request $i ($kind): " . ($res->status // $res->error) . ' ' . $res->body unless $ok;
}
is(scalar @failures, 0, "200 requests of one session (ping $kinds{ping}, tools/list $kinds{list}, "
                        . "tools/call $kinds{call}) all succeed")
    or diag(join "\n", @failures[0 .. ($#failures < 9 ? $#failures : 9)]);

# the access log: which worker served the session's requests
sub log_lines {
    open my $fh, '<', $ng->prefix . '/logs/workers.log' or return;
    return map { [split ' '] } grep { /\S/ } <$fh>;
}

# a request is logged after its response went out: give the last ones time
my @lines;
for my $try (1 .. 50) {
    @lines = grep { ($_->[3] // '') eq $sid && $_->[2] eq 'POST' && $_->[1] eq '200' } log_lines();
    last if @lines >= 200;
    select(undef, undef, undef, 0.05);
}
is(scalar @lines, 200, 'the access log has the 200 requests');
my %by_pid;
$by_pid{ $_->[0] }++ for @lines;
is_deeply([sort { $a <=> $b } keys %by_pid], \@workers, 'both workers served requests of the session')
    or diag(explain \%by_pid);

# end the session on one worker; every worker then answers 404
my $before = scalar log_lines();
my $del = http_request(port => $port, method => 'DELETE', path => '/mcp',
                       headers => [['Mcp-Session-Id', $sid], ['MCP-Protocol-Version', $version]]);
is($del->status, 200, 'DELETE ends the session');
is($del->body, '', 'DELETE answer is empty');
my @after = log_lines();
my ($del_line) = grep { $_->[2] eq 'DELETE' } @after[$before .. $#after];
ok($del_line, 'DELETE logged') and note("DELETE served by worker $del_line->[0]");

my (%gone_by_pid, @not_gone);
for my $i (1 .. 40) {
    my $res = json_rpc(port => $port, session => $sid, version => $version,
                       message => { jsonrpc => '2.0', id => 1000 + $i, method => 'ping' });
    my $j = $res->json;
    push @not_gone, ($res->status // $res->error) . ' ' . $res->body
        unless ($res->status // 0) == 404 && ref $j eq 'HASH' && ref $j->{error} eq 'HASH'
               && $j->{error}{code} == -32001;
}
is(scalar @not_gone, 0, 'after DELETE every request of the session is 404 -32001') or diag(join "\n", @not_gone);
my @lines404;
for my $try (1 .. 50) {
    @lines404 = grep { $_->[1] eq '404' && ($_->[3] // '') eq $sid } log_lines();
    last if @lines404 >= 40;
    select(undef, undef, undef, 0.05);
}
$gone_by_pid{ $_->[0] }++ for @lines404;
is(scalar @lines404, 40, 'the 404 answers are logged');
ok(exists $gone_by_pid{ $_ }, "worker $_ also answers 404 for the deleted session") for @workers;

# a second DELETE, whichever worker gets it, finds nothing
$del = http_request(port => $port, method => 'DELETE', path => '/mcp',
                    headers => [['Mcp-Session-Id', $sid], ['MCP-Protocol-Version', $version]]);
is($del->status, 404, 'second DELETE: 404');

# a new session created now works on both workers as well
my ($sid2) = mcp_initialize(port => $port, version => '2025-11-25');
my (%pids2, $bad2);
for my $i (1 .. 30) {
    my $res = json_rpc(port => $port, session => $sid2, version => '2025-11-25',
                       message => { jsonrpc => '2.0', id => $i, method => 'ping' });
    $bad2++ unless ($res->status // 0) == 200;
}
$pids2{ $_->[0] }++ for grep { ($_->[3] // '') eq $sid2 && $_->[1] eq '200' } log_lines();
ok(!$bad2, 'a new session: 30 pings succeed');
is(scalar keys %pids2, 2, 'a new session: served by both workers');

my @bad = $ng->error_log =~ /^(.*(?:\[alert\]|\[crit\]|\[emerg\]|exited on signal).*)$/mg;
ok(!@bad, 'no alert/crit/emerg in the error log') or diag(join "\n", @bad);
$ng->stop;
$be->stop;

done_testing();
