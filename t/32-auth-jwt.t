# mcp_auth jwt and mcp_oauth (MCP authorization 2025-06-18 and 2025-11-25:
# the gateway as an OAuth 2.1 resource server; RFC 9068 access tokens,
# RFC 7515/7518/8037 signatures, RFC 6750 errors, RFC 9728 metadata).
# Keys and tokens are made with the openssl CLI (t/lib/Test/McpJwt.pm):
# RS256, ES256, EdDSA and HS256 tokens accepted; expired, early, wrongly
# addressed, badly signed and malformed ones refused with
# error="invalid_token" and the resource_metadata URL; static tokens of
# file= beside them; scopes per location and per tool (403
# insufficient_scope); sessions bound to the token's principal; the
# verification cache honours exp, the leeway and its own size;
# client_claim=; the protected resource metadata document; nginx -t
# refuses incomplete or weak configurations; no token in the logs.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use JSON::PP ();
use Test::McpJwt qw(jwt_keys jwt_sign jwt_forge);
use File::Temp qw(tempdir);
use Time::HiRes ();

my $dir = tempdir('mcp-jwt-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $keys = jwt_keys($dir);

my $RESOURCE = 'https://mcp.example.com/mcp';
my $ISSUER = 'https://as.example.com';
my $METADATA = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

my %static = %{ mcp_tokens("$dir/tokens", 'robot') };
ok($static{robot}, 'a static token for the file= of mcp_auth jwt');
Test::McpNginx::register_secret($static{robot}) if Test::McpNginx->can('register_secret');

# claims of a token the gateway should take; an undef value leaves one out
sub claims {
    my (%o) = @_;
    my %c = (aud => $RESOURCE, iss => $ISSUER, exp => int(time) + 300,
             sub => 'alice', scope => 'tools:call');
    $c{$_} = $o{$_} for keys %o;
    return \%c;
}

my $backend = start_backend('example_backend.py');

my $oauth = "resource=$RESOURCE issuer=$ISSUER jwks=$keys->{jwks}";
my $nginx = start_nginx(
    http_config => "mcp_session_zone zone=mcp:1m;\n"
                 . "mcp_oauth $oauth hmac_secret=$keys->{hs_key}\n"
                 . "          scopes_supported=tools:call,mcp:access;\n"
                 . "log_format who '\$mcp_client';\n",
    backend_port => $backend->port,
    config => <<CONF);
large_client_header_buffers 4 16k;
location = /mcp {
    mcp;
    mcp_auth jwt realm=gw file=$dir/tokens;
    access_log \$TEST_PREFIX/logs/who.log who;
    mcp_tool echo /tools/echo scopes=tools:call;
    mcp_tool add /tools/add;
}
location = /strict {
    mcp;
    mcp_auth jwt scopes=mcp:access;
    mcp_tool add /tools/add;
}
location = /short {
    mcp;
    mcp_oauth $oauth leeway=0;
    mcp_auth jwt;
    mcp_tool add /tools/add;
}
location = /cache1 {
    mcp;
    mcp_oauth $oauth cache=1;
    mcp_auth jwt;
    mcp_tool add /tools/add;
}
location = /byclient {
    mcp;
    mcp_oauth $oauth client_claim=client_id;
    mcp_auth jwt;
    access_log \$TEST_PREFIX/logs/who2.log who;
    mcp_tool add /tools/add;
}
location /tools/ {
    internal;
    proxy_pass http://127.0.0.1:\$TEST_BACKEND_PORT/;
}
location /.well-known/oauth-protected-resource { mcp_oauth_metadata; }
CONF

my $port = $nginx->port;
my @tokens;     # every token sent, none of which may be logged

sub post {
    my ($auth, %o) = @_;
    return json_rpc(port => $port, %o,
                    headers => [defined $auth ? (['Authorization', $auth]) : ()],
                    message => $o{message} // {
                        jsonrpc => '2.0', id => 1, method => 'initialize',
                        params => { protocolVersion => '2025-06-18',
                                    capabilities => {},
                                    clientInfo => { name => 't', version => '1' } } });
}

sub bearer {
    my ($token, %o) = @_;
    push @tokens, $token;
    return post("Bearer $token", %o);
}

sub www { $_[0]->header('WWW-Authenticate') // '' }

sub rpc_error_code {
    my $j = $_[0]->json;
    return ref $j eq 'HASH' && ref $j->{error} eq 'HASH' ? $j->{error}{code} : undef;
}

sub call {
    my ($token, $sid, $method, $params, %o) = @_;
    return bearer($token, %o, session => $sid, version => '2025-06-18',
                  message => { jsonrpc => '2.0', id => 7, method => $method,
                               params => $params });
}

sub tool_names {
    my $j = $_[0]->json;
    my $tools = ref $j eq 'HASH' && ref $j->{result} eq 'HASH' ? $j->{result}{tools} : undef;
    return [map { $_->{name} } @{ ref $tools eq 'ARRAY' ? $tools : [] }];
}

sub lines_of {
    my ($file) = @_;
    open my $fh, '<', $nginx->prefix . "/logs/$file" or return '';
    local $/;
    return <$fh> // '';
}

# --- no token ---------------------------------------------------------------

my $r = post(undef);
is($r->status, 401, 'no token: 401');
like(www($r), qr/^Bearer realm="gw"/, 'WWW-Authenticate: Bearer with the realm');
like(www($r), qr/resource_metadata="\Q$METADATA\E"/,
     'and resource_metadata, the RFC 9728 URL derived from the resource');
unlike(www($r), qr/error=/, 'no error code without a token (RFC 6750, 3.1)');
is(rpc_error_code($r), -32000, 'a JSON-RPC error body');

# --- valid tokens -------------------------------------------------------------

my %sid;
for my $alg (qw(RS256 ES256 EdDSA HS256)) {
    my $t = jwt_sign($keys, $alg, {}, claims());
    $r = bearer($t);
    is($r->status, 200, "$alg token: initialize 200");
    ok($sid{$alg} = $r->header('Mcp-Session-Id'), "$alg token: a session");
    $r = call($t, $sid{$alg}, 'ping', {});
    is($r->status, 200, "$alg token: its session, with the token again (cached): 200");
}

$r = bearer(jwt_sign($keys, 'RS256', {}, claims(aud => ['https://other.example.com', $RESOURCE])));
is($r->status, 200, 'aud an array holding the resource: 200');
$r = bearer(jwt_sign($keys, 'RS256', { kid => undef }, claims()));
is($r->status, 200, 'an RS256 token without kid: 200');
$r = bearer(jwt_sign($keys, 'RS256', {}, claims(scope => undef)));
is($r->status, 200, 'no scope claim: 200 where no scope is required');
$r = bearer(jwt_sign($keys, 'EdDSA', {}, claims(exp => int(time) - 10)));
is($r->status, 200, 'expired 10s ago, within the 60s leeway: 200');

$r = post("Bearer $static{robot}");
is($r->status, 200, 'a static token of file= is taken beside JWTs');

# --- refused tokens -----------------------------------------------------------

my $good = claims(sub => 'ivan');
my $good_rs = jwt_sign($keys, 'RS256', {}, $good);
is(bearer($good_rs)->status, 200, 'ivan\'s token: 200 (and now cached)');
my $bad_sig = jwt_forge($keys, 'bad_signature', $good);
is(join('.', (split /\./, $bad_sig)[0, 1]), join('.', (split /\./, $good_rs)[0, 1]),
   '(the bad signature token has the header and payload of the cached one)');

my $now = int time;
my @refused = (
    ['expired beyond the leeway' => jwt_sign($keys, 'RS256', {}, claims(exp => $now - 120))],
    ['not yet valid (nbf)' => jwt_sign($keys, 'RS256', {}, claims(nbf => $now + 120))],
    ['no exp' => jwt_sign($keys, 'ES256', {}, claims(exp => undef))],
    ['a wrong aud' => jwt_sign($keys, 'RS256', {}, claims(aud => 'https://other.example.com/mcp'))],
    ['an aud array without the resource' => jwt_sign($keys, 'RS256', {},
        claims(aud => ['https://a.example.com/mcp', 'https://mcp.example.com']))],
    ['a wrong iss' => jwt_sign($keys, 'EdDSA', {}, claims(iss => 'https://evil.example.com'))],
    ['no iss' => jwt_sign($keys, 'HS256', {}, claims(iss => undef))],
    ['a bad signature (of a cached token)' => $bad_sig],
    ['alg none, "h.p."' => jwt_forge($keys, 'none', claims())],
    ['alg none, "h.p"' => jwt_forge($keys, 'none_two_parts', claims())],
    ['HS256 keyed with the RSA public key PEM' => jwt_forge($keys, 'confusion_pem', claims())],
    ['HS256 keyed with the RSA public key DER' => jwt_forge($keys, 'confusion_der', claims())],
    ['signed by an unpublished key, kid rsa1' => jwt_forge($keys, 'rogue', claims())],
    ['an unknown kid' => jwt_forge($keys, 'unknown_kid', claims())],
    ['ES256 with a DER signature' => jwt_forge($keys, 'es256_der', claims())],
    ['alg ES256 with the kid of the RSA key' => jwt_sign($keys, 'ES256', { kid => 'rsa1' }, claims())],
    ['a crit header' => jwt_forge($keys, 'crit', claims())],
    ['two parts' => jwt_forge($keys, 'two_parts', claims())],
    ['four parts' => jwt_forge($keys, 'four_parts', claims())],
    ['characters outside base64url' => jwt_forge($keys, 'bad_chars', claims())],
    ['a payload that is not JSON' => jwt_forge($keys, 'not_json', claims())],
    ['a payload that is an array' => jwt_forge($keys, 'array', claims())],
    ['a duplicate sub in the payload' => jwt_forge($keys, 'duplicate_sub', claims())],
    ['sub a number' => jwt_sign($keys, 'RS256', {}, claims(sub => 12345))],
    ['no sub' => jwt_sign($keys, 'RS256', {}, claims(sub => undef))],
    ['sub over 128 bytes' => jwt_sign($keys, 'RS256', {}, claims(sub => 'a' x 129))],
);

for my $case (@refused) {
    my ($what, $token) = @$case;
    $r = bearer($token);
    is($r->status, 401, "$what: 401");
    like(www($r), qr/error="invalid_token"/, "$what: error=\"invalid_token\"");
    like(www($r), qr/resource_metadata="\Q$METADATA\E"/, "$what: resource_metadata");
}
$r = bearer($refused[0][1]);
like(www($r), qr/error_description="[^"]*expired/i, 'an expired token says so in error_description');
is(rpc_error_code($r), -32000, 'with a JSON-RPC error body');

# Size: a JWT may be up to 8192 bytes (beyond, malformed: 400
# invalid_request).  This server's header buffers are 16k, so that a longer
# one reaches the module rather than nginx's own 400.
{
    my $huge = jwt_forge($keys, 'huge', claims(), size => 7000);
    ok(length $huge > 6990 && length $huge < 7010,
       'a token of about 7000 bytes (' . length($huge) . ', with a padding claim)');
    is(bearer($huge)->status, 200, 'is accepted: it is under the limit');
    my $over = jwt_forge($keys, 'huge', claims(), size => 9000);
    cmp_ok(length $over, '>', 8192, 'a ' . length($over) . '-byte token');
    $r = bearer($over);
    is($r->status, 400, 'is refused: 400');
    like(www($r), qr/error="invalid_request"/, 'error="invalid_request"');
}

# --- the principal ----------------------------------------------------------

# the access log is written as the connection closes
wait_for(2, sub { lines_of('who.log') =~ /^robot\n/m });
my $who = lines_of('who.log');
like($who, qr/^alice$/m, '$mcp_client is the token\'s sub');
like($who, qr/^robot$/m, '... or the name of a static token');

# --- scopes -------------------------------------------------------------------

{
    my $carol = jwt_sign($keys, 'RS256', {}, claims(sub => 'carol', scope => 'other'));
    $r = bearer($carol);
    is($r->status, 200, 'carol (scope "other"): initialize 200');
    my $csid = $r->header('Mcp-Session-Id');
    is_deeply(tool_names(call($carol, $csid, 'tools/list', {})), ['add'],
              'carol does not see echo');
    $r = call($carol, $csid, 'tools/call', { name => 'echo', arguments => { message => 'x' } });
    is($r->status, 403, 'carol calling echo anyway: 403');
    like(www($r), qr/error="insufficient_scope"/, 'error="insufficient_scope"');
    like(www($r), qr/scope="tools:call"/, 'naming the scope needed');
    is(rpc_error_code($r), -32003, 'a JSON-RPC error -32003');
    like(eval { $r->json->{error}{message} } // '', qr/tools:call/, 'whose message names the scope');
    $r = call($carol, $csid, 'tools/call', { name => 'add', arguments => { a => 1, b => 2 } });
    like($r->body, qr/"result"/, 'she calls add');

    my $dave = jwt_sign($keys, 'ES256', {}, claims(sub => 'dave', scope => 'tools:call other'));
    my $dsid = bearer($dave)->header('Mcp-Session-Id');
    is_deeply(tool_names(call($dave, $dsid, 'tools/list', {})), ['echo', 'add'],
              'dave ("tools:call other") sees both tools');
    $r = call($dave, $dsid, 'tools/call', { name => 'echo', arguments => { message => 'hi dave' } });
    is($r->status, 200, 'dave calls echo: 200');
    like($r->body, qr/"result".*hi dave/s, 'and gets its result');
}

# scopes= of mcp_auth: every request needs them
{
    my $t = jwt_sign($keys, 'RS256', {}, claims(sub => 'erin', scope => 'tools:call'));
    $r = bearer($t, path => '/strict');
    is($r->status, 403, '/strict, a token without mcp:access: 403');
    like(www($r), qr/error="insufficient_scope"/, 'error="insufficient_scope"');
    like(www($r), qr/scope="mcp:access"/, 'scope="mcp:access"');

    $r = post(undef, path => '/strict');
    is($r->status, 401, '/strict without a token: 401');
    like(www($r), qr/scope="mcp:access"/, 'the challenge names the scope needed');
    unlike(www($r), qr/error=/, 'and no error code');

    $t = jwt_sign($keys, 'HS256', {}, claims(sub => 'erin', scope => 'mcp:access'));
    is(bearer($t, path => '/strict')->status, 200, '/strict with mcp:access: 200');
}

# --- sessions belong to their principal --------------------------------------

{
    my $alice = jwt_sign($keys, 'RS256', {}, claims());
    my $bob = jwt_sign($keys, 'RS256', {}, claims(sub => 'bob'));
    is(call($alice, $sid{RS256}, 'ping', {})->status, 200, 'alice\'s session with another of her tokens: 200');
    $r = call($bob, $sid{RS256}, 'ping', {});
    is($r->status, 404, 'bob asking for alice\'s session: 404');
    is(rpc_error_code($r), -32001, 'as for a session that does not exist');

    # a JWT's subject and a static client's name never make one principal
    my $rsid = post("Bearer $static{robot}")->header('Mcp-Session-Id');
    my $jwt_robot = jwt_sign($keys, 'RS256', {}, claims(sub => 'robot'));
    is(call($jwt_robot, $rsid, 'ping', {})->status, 404,
       'a JWT with sub "robot" asking for the static robot\'s session: 404');
    my $jsid = bearer($jwt_robot)->header('Mcp-Session-Id');
    is(post("Bearer $static{robot}", session => $jsid, version => '2025-06-18',
            message => { jsonrpc => '2.0', id => 2, method => 'ping' })->status,
       404, 'nor the other way round');
}

# the metadata answers without a token where mcp_auth is inherited
{
    my $ng = start_nginx(
        http_config => "mcp_session_zone zone=mcp:1m;\nmcp_oauth $oauth;\n"
                     . "mcp_auth jwt;",
        config => "location = /mcp { mcp; }\n"
                . "location /.well-known/oauth-protected-resource "
                . "{ mcp_oauth_metadata; }");
    my $r = http_request(port => $ng->port,
                         path => '/.well-known/oauth-protected-resource/mcp');
    is($r->status, 200, 'mcp_auth jwt inherited: the metadata is still public');
    is(http_request(port => $ng->port, method => 'POST', path => '/mcp',
                    body => '{}')->status, 401, 'while /mcp needs a token');
    $ng->stop;
}

# --- protected resource metadata (RFC 9728) ---------------------------------

{
    my $want = { resource => $RESOURCE, authorization_servers => [$ISSUER],
                 scopes_supported => ['tools:call', 'mcp:access'],
                 bearer_methods_supported => ['header'] };
    for my $path ('/.well-known/oauth-protected-resource/mcp',
                  '/.well-known/oauth-protected-resource')
    {
        $r = http_request(port => $port, path => $path);
        is($r->status, 200, "GET $path: 200, without a token");
        like($r->header('Content-Type') // '', qr{^application/json}, 'application/json');
        is_deeply($r->json, $want, 'the metadata document');
    }
    $r = http_request(port => $port, method => 'HEAD', path => '/.well-known/oauth-protected-resource/mcp');
    is($r->status, 200, 'HEAD: 200');
    $r = http_request(port => $port, method => 'POST', body => '{}',
                      path => '/.well-known/oauth-protected-resource/mcp');
    is($r->status, 405, 'POST: 405');
}

# --- the cache ----------------------------------------------------------------

# leeway=0: a token valid for a few seconds, used twice (the second time from
# the cache), is refused once it expired
{
    my $exp = int(time) + 3;
    my $t = jwt_sign($keys, 'ES256', {}, claims(sub => 'frank', exp => $exp));
    is(bearer($t, path => '/short')->status, 200, 'a token about to expire: 200');
    is(bearer($t, path => '/short')->status, 200, 'again: 200');
    my $wait = $exp + 1.2 - Time::HiRes::time();
    Time::HiRes::sleep($wait) if $wait > 0;
    $r = bearer($t, path => '/short');
    is($r->status, 401, 'past its exp: 401, the cache notwithstanding');
    like(www($r), qr/error="invalid_token"/, 'error="invalid_token"');
}

# cache=1: two principals taking turns, each on its own session
{
    my %t = map { $_ => jwt_sign($keys, 'RS256', {}, claims(sub => $_)) } qw(grace heidi);
    my %s = map { $_ => bearer($t{$_}, path => '/cache1')->header('Mcp-Session-Id') } keys %t;
    ok($s{grace} && $s{heidi}, 'cache=1: two sessions');
    my @bad;
    for my $i (1 .. 6) {
        for my $who (qw(grace heidi)) {
            my $st = call($t{$who}, $s{$who}, 'ping', {}, path => '/cache1')->status // 'none';
            push @bad, "round $i, $who: $st" unless $st eq '200';
        }
    }
    ok(!@bad, 'cache=1: tokens taking turns are all accepted, each as its principal')
        or diag(join "\n", @bad);
}

# --- client_claim -------------------------------------------------------------

{
    my $t = jwt_sign($keys, 'EdDSA', {}, claims(sub => 'user-judy', client_id => 'app-42'));
    is(bearer($t, path => '/byclient')->status, 200, 'client_claim=client_id: 200');
    wait_for(2, sub { lines_of('who2.log') =~ /\n/ });
    my $who2 = lines_of('who2.log');
    like($who2, qr/^app-42$/m, '$mcp_client is the client_id claim');
    unlike($who2, qr/user-judy/, 'not the sub');
    $r = bearer(jwt_sign($keys, 'EdDSA', {}, claims(sub => 'user-judy')), path => '/byclient');
    is($r->status, 401, 'a token without client_id there: 401');
}

# --- nothing leaked -----------------------------------------------------------

$nginx->stop;
my $log = $nginx->error_log;
my @leaked = grep { index($log, $_) >= 0 } @tokens, $static{robot};
ok(!@leaked, 'no token in the error log') or diag(scalar(@leaked) . ' tokens logged');
unlike($log, qr/\[(?:alert|crit|emerg)\]/, 'no alert/crit/emerg');

# --- key rotation: a key taken out of the JWKS, then a reload -----------------

{
    my $file = "$dir/rotating.json";
    my $write = sub {
        open my $fh, '>', $file or die $!;
        print $fh JSON::PP->new->canonical->encode(
            { keys => [ map { $keys->{jwks_keys}{$_} } @_ ] });
        close $fh;
    };
    $write->('rsa1', 'ec1');
    my $ng = start_nginx(
        http_config => "mcp_session_zone zone=mcp:1m;\n"
                     . "mcp_oauth resource=$RESOURCE issuer=$ISSUER jwks=$file;",
        config => 'location = /mcp { mcp; mcp_auth jwt; }');
    my $ec = jwt_sign($keys, 'ES256', {}, claims());
    my $init = sub {
        json_rpc(port => $ng->port, headers => [['Authorization', "Bearer $ec"]],
                 message => { jsonrpc => '2.0', id => 1, method => 'initialize',
                              params => { protocolVersion => '2025-06-18',
                                          capabilities => {},
                                          clientInfo => { name => 't', version => '1' } } })
    };
    is($init->()->status, 200, 'an ES256 token while ec1 is published: 200');
    is($init->()->status, 200, 'again (from the cache)');
    $write->('rsa1');
    ok($ng->reload, 'ec1 taken out of the JWKS, nginx -s reload');
    ok(wait_for(5, sub { $init->()->status == 401 }),
       'the same token is refused: no worker keeps it');
    $ng->stop;
}

# --- nginx -t -----------------------------------------------------------------

sub conf_fails {
    my ($what, $http, $re, $config) = @_;
    my ($ok, $out) = start_nginx(test_only => 1,
        http_config => "mcp_session_zone zone=mcp:1m;\n$http",
        config => $config // 'location = /mcp { mcp; mcp_auth jwt; }');
    ok(!$ok, "$what: nginx -t fails");
    like($out, $re, "$what: naming the problem") or diag($out);
}

{
    open my $fh, '>', "$dir/garbage.json" or die $!;
    print $fh "this is not JSON\n";
    close $fh;
}

conf_fails('mcp_auth jwt without mcp_oauth', '', qr/mcp_oauth/);
conf_fails('mcp_oauth without resource=', "mcp_oauth issuer=$ISSUER jwks=$keys->{jwks};",
           qr/resource/);
conf_fails('mcp_oauth without issuer=', "mcp_oauth resource=$RESOURCE jwks=$keys->{jwks};",
           qr/issuer/);
conf_fails('mcp_oauth without jwks= or hmac_secret=', "mcp_oauth resource=$RESOURCE issuer=$ISSUER;",
           qr/jwks|hmac_secret/);
conf_fails('a resource with a fragment',
           qq{mcp_oauth "resource=https://x/mcp#f" issuer=$ISSUER jwks=$keys->{jwks};},
           qr/resource|fragment/);
conf_fails('a jwks file that is not JSON',
           "mcp_oauth resource=$RESOURCE issuer=$ISSUER jwks=$dir/garbage.json;",
           qr/garbage\.json|jwks|JSON/);
conf_fails('a jwks file that does not exist',
           "mcp_oauth resource=$RESOURCE issuer=$ISSUER jwks=$dir/absent.json;",
           qr/absent\.json/);
conf_fails('an RSA key of 1024 bits',
           "mcp_oauth resource=$RESOURCE issuer=$ISSUER jwks=$keys->{weak_jwks};",
           qr/(?:1024|2048) (?:bits|at least)|key size|too (?:small|short|weak)/i);
conf_fails('an hmac_secret of 16 bytes',
           "mcp_oauth resource=$RESOURCE issuer=$ISSUER hmac_secret=$keys->{hs_short};",
           qr/hs-short\.key|hmac_secret/);

{
    my ($ok, $out) = start_nginx(test_only => 1,
        http_config => "mcp_session_zone zone=mcp:1m;\n"
                     . "mcp_oauth resource=$RESOURCE issuer=$ISSUER hmac_secret=$keys->{hs_key};",
        config => 'location = /mcp { mcp; mcp_auth jwt; }');
    ok($ok, 'an hmac_secret of 48 bytes without jwks=: nginx -t passes') or diag($out);
}

# every token made (Test::McpJwt registers them), in every log of every nginx
Test::McpNginx::no_secrets_logged() if Test::McpNginx->can('no_secrets_logged');

done_testing();
