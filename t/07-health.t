# Health probes: `mcp_health live` and `mcp_health ready`.
#
# live answers 200 {"status":"alive"} while a worker runs; ready answers 200
# with the session zone's state, or 503 naming the session_zone dependency
# when the zone cannot take another session (initialize then fails with 503
# and a JSON-RPC error -32000, the MCP transport's "server error" range).
# Both are application/json, never cached (Cache-Control: no-store) and only
# for GET and HEAD.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use JSON::PP ();

my $INIT = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
         . '"capabilities":{},"clientInfo":{"name":"health-test","version":"1"}}}';

sub initialize {
    my ($port) = @_;
    return json_rpc(port => $port, message => $INIT);
}

sub health {
    my ($port, $which, %o) = @_;
    return http_request(port => $port, path => "/health/$which", %o);
}

sub check_headers {
    my ($res, $what) = @_;
    like($res->header('content-type') // '', qr{^application/json(?:\s*;.*)?$}, "$what: Content-Type application/json");
    is($res->header('cache-control'), 'no-store', "$what: Cache-Control no-store");
}

# --- a full session zone -----------------------------------------------------
{
    my $ng = start_nginx(http_config => 'mcp_session_zone zone=mcp:32k;', config => <<'EOC');
location = /mcp { mcp; }
location = /health/live { mcp_health live; }
location = /health/ready { mcp_health ready; }
EOC
    my $port = $ng->port;

    my $r = health($port, 'ready');
    is($r->status, 200, 'empty zone: ready 200');
    is_deeply($r->json, { status => 'ready', dependencies => { session_zone => { status => 'ok', sessions => 0 } },
                          messages => { local => 0, ipc => 0, failed => 0 } },
              'empty zone: ready body');
    check_headers($r, 'empty zone: ready');

    my (@sids, $refused);
    for my $try (1 .. 5000) {
        my $res = initialize($port);
        if (($res->status // 0) == 200) {
            my $sid = $res->header('mcp-session-id');
            push @sids, $sid if defined $sid;
            next;
        }
        $refused = $res;
        last;
    }
    ok($refused, 'a 32k zone refuses initialize within 5000 sessions')
        or BAIL_OUT('the session zone never filled up');
    cmp_ok(scalar @sids, '>', 10, 'the zone took some sessions first (' . scalar(@sids) . ')');
    is($refused->status, 503, 'full zone: initialize answers 503');
    like($refused->header('content-type') // '', qr{^application/json}, 'full zone: 503 is application/json');
    my $err = $refused->json;
    is(ref $err eq 'HASH' && $err->{jsonrpc}, '2.0', 'full zone: 503 body is a JSON-RPC message')
        or diag($refused->body);
    is(ref $err eq 'HASH' && ref $err->{error} eq 'HASH' ? $err->{error}{code} : undef, -32000,
       'full zone: error code -32000');
    ok(ref $err eq 'HASH' && exists $err->{id} && (!defined $err->{id} || $err->{id} eq '1'),
       'full zone: error id is null or the request id');
    ok(!defined $refused->header('mcp-session-id'), 'full zone: no Mcp-Session-Id');
    like($ng->error_log, qr/\[warn\].*mcp session zone "mcp" is full/, 'full zone: logged as a warning');

    $r = health($port, 'ready');
    is($r->status, 503, 'full zone: ready 503');
    is_deeply($r->json, { status => 'not ready', dependencies => { session_zone => {
                  status => 'failing', reason => 'zone is full', sessions => scalar @sids } },
                  messages => { local => 0, ipc => 0, failed => 0 } },
              'full zone: ready names session_zone, its reason and the session count')
        or diag($r->body);
    check_headers($r, 'full zone: ready');
    $r = health($port, 'ready', method => 'HEAD');
    is($r->status, 503, 'full zone: HEAD ready 503');

    $r = health($port, 'live');
    is($r->status, 200, 'full zone: live still 200');
    is_deeply($r->json, { status => 'alive' }, 'full zone: live body');

    # the existing sessions still work
    $r = json_rpc(port => $port, session => $sids[0], version => '2025-06-18',
                  message => '{"jsonrpc":"2.0","id":2,"method":"ping"}');
    is_deeply($r->json, { jsonrpc => '2.0', id => 2, result => {} }, 'full zone: existing sessions still answer');

    # ending sessions makes room again
    for my $sid (splice @sids, 0, 5) {
        $r = http_request(port => $port, method => 'DELETE', path => '/mcp',
                          headers => [['Mcp-Session-Id', $sid], ['MCP-Protocol-Version', '2025-06-18']]);
        is($r->status, 200, 'DELETE a session of the full zone');
    }
    $r = health($port, 'ready');
    is($r->status, 200, 'after DELETE: ready 200 again');
    is_deeply($r->json, { status => 'ready', dependencies => { session_zone => { status => 'ok', sessions => scalar @sids } },
                          messages => { local => 0, ipc => 0, failed => 0 } },
              'after DELETE: ready body with the session count') or diag($r->body);
    check_headers($r, 'after DELETE: ready');
    my $res = initialize($port);
    is($res->status, 200, 'after DELETE: initialize works again');
    like($res->header('mcp-session-id') // '', qr/^[0-9a-f]{32}$/, 'after DELETE: new session id');
    push @sids, $res->header('mcp-session-id');
    is_deeply(health($port, 'ready')->json->{dependencies}{session_zone}{sessions}, scalar @sids,
              'after DELETE: ready counts the new session');

    my @bad = $ng->error_log =~ /^(.*(?:\[alert\]|\[crit\]|\[emerg\]|exited on signal).*)$/mg;
    ok(!@bad, 'full zone: no alert/crit/emerg in the error log') or diag(join "\n", @bad);
    $ng->stop;
}

# --- idle sessions give their room back ----------------------------------------
{
    my $ng = start_nginx(http_config => 'mcp_session_zone zone=mcp:32k idle_timeout=1s;', config => <<'EOC');
location = /mcp { mcp; }
location = /health/ready { mcp_health ready; }
EOC
    my $port = $ng->port;
    my ($n, $refused) = (0);
    for (1 .. 5000) {
        my $res = initialize($port);
        if (($res->status // 0) != 200) { $refused = $res->status; last }
        $n++;
    }
    is($refused, 503, "idle_timeout zone: full after $n sessions");
    is(health($port, 'ready')->status, 503, 'idle_timeout zone: ready 503 while full');
    sleep 2;
    my $r = health($port, 'ready');
    is($r->status, 200, 'idle_timeout zone: ready 200 once the sessions are idle too long');
    is(($r->json // {})->{status}, 'ready', 'idle_timeout zone: status ready');
    is(initialize($port)->status, 200, 'idle_timeout zone: initialize works again');
    $ng->stop;
}

run_blocks();

__DATA__

=== DEFAULTS
--- config
location = /mcp { mcp; }
location = /health/live { mcp_health live; }
location = /health/ready { mcp_health ready; }

=== TEST 1: live: 200 {"status":"alive"}
--- request
GET /health/live
--- response_headers
Content-Type: application/json
Cache-Control: no-store
Content-Length: 18
--- response_body: {"status":"alive"}

=== TEST 2: live: HEAD has the headers and no body
--- request
HEAD /health/live
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body:

=== TEST 3: ready: 200 with the session count
--- request
GET /health/ready
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_json
{"status":"ready","dependencies":{"session_zone":{"status":"ok","sessions":0}},"messages":{"local":0,"ipc":0,"failed":0}}

=== TEST 4: ready counts a new session (initialized by this block)
--- init: 2025-06-18
--- request
GET /health/ready
--- response_json
{"status":"ready","dependencies":{"session_zone":{"status":"ok","sessions":1}},"messages":{"local":0,"ipc":0,"failed":0}}

=== TEST 5: ready: a second session
--- init: 2025-11-25
--- request
GET /health/ready?x=1
--- response_json
{"status":"ready","dependencies":{"session_zone":{"status":"ok","sessions":2}},"messages":{"local":0,"ipc":0,"failed":0}}

=== TEST 6: live: POST is 405
--- request
POST /health/live
{}
--- error_code: 405

=== TEST 7: ready: POST is 405
--- request
POST /health/ready
{}
--- error_code: 405

=== TEST 8: ready: DELETE is 405
--- request
DELETE /health/ready
--- error_code: 405

=== TEST 9: live: PUT is 405
--- request
PUT /health/live
x
--- error_code: 405

=== TEST 10: a probe in a prefix location, another server level config
--- config
location = /mcp { mcp; }
location /healthz/ { mcp_health ready; }
--- request
GET /healthz/anything
--- response_headers
Cache-Control: no-store
--- response_json
{"status":"ready","dependencies":{"session_zone":{"status":"ok","sessions":0}},"messages":{"local":0,"ipc":0,"failed":0}}

=== TEST 11: bad mcp_health value is a configuration error
--- config
location = /mcp { mcp; }
location = /h { mcp_health maybe; }
--- must_die: invalid value "maybe"
