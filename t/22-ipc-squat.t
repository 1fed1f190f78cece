# Messages between workers go only to the worker meant (README "Between
# workers"): abstract socket names have no permissions, so another user
# may bind a worker's name before the worker does.  The sender checks the
# listener through the kernel (SO_PEERCRED) and sends nothing to an
# impostor: the POST is refused (503), never answered 202 for a message
# that went elsewhere, and the impostor learns nothing.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use IO::Socket::INET;
use IO::Select;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);

plan skip_all => 'needs root to act as another user' if $> != 0;

my $nginx = start_nginx(
    workers => 2,
    http_config => "mcp_session_zone zone=mcp:1m;\nkeepalive_timeout 0;",
    listen_params => 'reuseport',
    config => <<'CONF');
location = /mcp {
    mcp;
    add_header X-Worker $pid always;
}
CONF

my $port = $nginx->port;

# the instance part of the workers' names
my ($w) = $nginx->worker_pids;
open my $fh, '<', '/proc/net/unix' or die $!;
my ($instance) = map { /\@ngx_http_mcp:([0-9a-f]+):$w$/ ? $1 : () } <$fh>;
close $fh;
ok($instance, 'workers listen on @ngx_http_mcp:<instance>:<pid>');

# another user takes the names of the pids to come
my $dir = tempdir('mcp-squat-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;
my $next = (sort { $b <=> $a } $nginx->worker_pids)[0] + 1;
my $squatter = fork // die $!;
if (!$squatter) {
    exec 'python3', '-c', <<'PY', $instance, $next, "$dir/got", "$dir/ready";
import os, select, socket, sys
os.setgid(65534); os.setuid(65534)
inst, first, got, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks = []
for pid in range(first, first + 400):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(b"\0ngx_http_mcp:%s:%d" % (inst.encode(), pid))
        s.listen(64)
        socks.append(s)
    except OSError:
        s.close()
open(ready, "w").close()
total = 0
while True:
    r, _, _ = select.select(socks, [], [])
    for s in r:
        c, _ = s.accept()
        c.settimeout(1)
        try:
            data = c.recv(1 << 20)
            total += len(data)
            c.sendall(b"\0\0\0\0")     # "delivered"
        except OSError:
            pass
        c.close()
        with open(got + ".tmp", "w") as f:
            f.write(str(total))
        os.replace(got + ".tmp", got)
PY
    exit 127;
}

my $t0 = time;
sleep 0.05 until -e "$dir/ready" || time - $t0 > 10;
ok(-e "$dir/ready", 'the names are taken');

my @old = $nginx->worker_pids;
ok($nginx->reload, 'nginx -s reload: new workers, whose names are taken');
$t0 = time;
my @new;
while (time - $t0 < 10) {
    my %old = map { $_ => 1 } @old;
    @new = grep { !$old{$_} } $nginx->worker_pids;
    last if @new == 2 && !grep { kill 0, $_ } @old;
    sleep 0.05;
}

SKIP: {
    skip 'the new workers got pids outside the range taken', 4
        if grep { $_ < $next || $_ >= $next + 400 } @new;

    like($nginx->error_log, qr/the worker socket could not be set up/,
         'a worker whose name is taken says so');

    # a legacy stream on one worker, POSTs landing on both
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die $!;
    print $s "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
           . "Accept: text/event-stream\r\n\r\n";
    my $sel = IO::Select->new($s);
    my $data = '';
    while ($data !~ /sessionId=[0-9a-f]{32}\n\n/) {
        $sel->can_read(5) or last;
        sysread($s, my $buf, 4096) or last;
        $data .= $buf;
    }
    my ($sid) = $data =~ /sessionId=([0-9a-f]{32})/;
    my ($owner) = $data =~ /^X-Worker: (\d+)/mi;

    my (%status, $lost);
    for my $i (1 .. 40) {
        my $r = http_request(port => $port, method => 'POST',
                             path => "/mcp?sessionId=$sid",
                             headers => [['Content-Type', 'application/json']],
                             body => qq({"jsonrpc":"2.0","id":$i,"method":"ping"}));
        my $far = ($r->header('X-Worker') // 0) != $owner;
        $status{ ($far ? 'other' : 'same') . ' ' . $r->status }++;
        next unless $r->status == 202;
        # a 202 means the answer is on the stream
        my $end = time + 2;
        until ($data =~ /"id":$i,/) {
            $sel->can_read($end - time) or last;
            sysread($s, my $buf, 65536) or last;
            $data .= $buf;
        }
        $lost++ unless $data =~ /"id":$i,/;
    }
    my $got = -e "$dir/got" ? do { local (@ARGV, $/) = "$dir/got"; <> } : 0;

    note(join ', ', map { "$_: $status{$_}" } sort keys %status);
    ok(!$lost, 'every 202 had its answer on the stream');
    ok($status{'other 503'}, 'POSTs on the other worker: 503, not 202');
    is($got, 0, 'the impostor received nothing');
    like($nginx->error_log, qr/is held by pid \d+, uid 65534; no message sent/,
         'and the worker logs the impostor');
    close $s;
}

kill 'KILL', $squatter;
waitpid $squatter, 0;

unlike($nginx->error_log, qr/\[(crit|emerg)\]/, 'no crit');

done_testing();
