# The official MCP TypeScript SDK (t/node/sdk-oauth.mjs) as an OAuth client:
# from a 401 it finds the gateway's protected resource metadata (RFC 9728),
# the authorization server's (tools/oauth_server.py, RFC 8414), gets a JWT
# for the resource with the client credentials grant, and when a tool needs
# more scope, answers the 403 insufficient_scope with a token that has it
# (MCP authorization 2025-11-25, scope challenge).  Each TAP line of the
# client is asserted here.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use File::Temp qw(tempdir);
use POSIX ();

my $root = repo_root();
my $script = "$root/t/node/sdk-oauth.mjs";
my $sdk = "$root/t/node/node_modules/\@modelcontextprotocol/sdk/package.json";
my $node = $ENV{NODE} || (grep { -x } map { "$_/node" } split /:/, $ENV{PATH} // '')[0];
if (!$node || !-f $sdk) {
    plan skip_all => 'node or the MCP SDK is missing (make test installs them)';
}

my $dir = tempdir('mcp-sdk-oauth-XXXXXX', TMPDIR => 1, CLEANUP => 1);
open my $fh, '>', "$dir/hs.key" or die $!;
print $fh 'a secret shared by the gateway and its OAuth server';
close $fh;

my $as = start_backend('oauth_server.py', '--secret-file', "$dir/hs.key",
                       '--client', 'agent:agent-secret:mcp,tools:call');
my $backend = start_backend('example_backend.py');
my $port = free_port();
my $issuer = 'http://127.0.0.1:' . $as->port;

my $nginx = start_nginx(
    port => $port,
    http_config => "mcp_session_zone zone=mcp:1m;\n"
                 . "mcp_oauth resource=http://127.0.0.1:$port/mcp issuer=$issuer\n"
                 . "          hmac_secret=$dir/hs.key scopes_supported=mcp,tools:call;",
    backend_port => $backend->port,
    config => <<'CONF');
location = /mcp {
    mcp;
    mcp_auth jwt scopes=mcp;
    mcp_tool echo /tools/echo scopes=tools:call;
    mcp_tool add /tools/add;
}
location /tools/ {
    internal;
    proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/;
}
location /.well-known/oauth-protected-resource {
    mcp_oauth_metadata;
}
CONF

my $out = '';
my $pid = open(my $kid, '-|') // die "fork: $!";
if (!$pid) {
    open STDERR, '>&', \*STDOUT;
    open STDIN, '<', '/dev/null';
    exec $node, $script, "http://127.0.0.1:$port/mcp", 'agent', 'agent-secret'
        or POSIX::_exit(127);
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
cmp_ok($n, '>=', 12, "the SDK client ran its checks ($n)");
is($plan, $n, 'the SDK client printed its plan');
is($status, 0, 'node sdk-oauth.mjs exits 0') or diag($out);

my @issued = $as->log_text =~ /^issued (.*)$/mg;
is_deeply(\@issued,
          ["sub=agent scope=mcp aud=http://127.0.0.1:$port/mcp",
           "sub=agent scope=mcp tools:call aud=http://127.0.0.1:$port/mcp"],
          'the OAuth server issued two tokens: for the 401, for the 403');

my $log = $nginx->error_log;
like($log, qr/\[info\].*mcp: authentication required: no bearer token/,
     'the first request had no token');
like($log, qr/\[info\].*client "agent" lacks scope "tools:call" for tool "echo"/,
     'then a token without tools:call');
unlike($log, qr/eyJ[\w-]+\.eyJ/, 'no token in the error log');
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert');

done_testing();
