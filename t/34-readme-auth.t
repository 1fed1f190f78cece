# The two configurations of README.md "Authentication" are run as written,
# with only their paths and ports made this test's own: static tokens made
# by tools/mcp-token, and JWTs of an authorization server whose JWKS the
# test makes (openssl). The metadata served is the document shown under
# "mcp_oauth_metadata".

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::McpNginx;
use Test::McpJwt qw(jwt_keys jwt_sign);
use File::Temp qw(tempdir);
use JSON::PP;

my $root = repo_root();
my $dir = tempdir('mcp-readme-auth-XXXXXX', TMPDIR => 1, CLEANUP => 1);

open my $fh, '<', "$root/README.md" or die $!;
my $readme = do { local $/; <$fh> };
close $fh;

my ($section) = $readme =~ /^## Authentication\n(.*?)^## /ms;
ok(defined $section, 'README has an "Authentication" section');

# its indented code blocks
my @blocks = map { join '', map { s/^    //r } split /^/m, $_ }
             $section =~ /\n\n((?:    .*\n|\n)+)/g;
my @confs = grep { /load_module/ } @blocks;
is(scalar @confs, 2, 'two configurations: static tokens, OAuth');

my ($shell) = grep { /^\$ tools\/mcp-token/ } @blocks;
my ($cmd) = $shell =~ /^\$ (.*)$/m;
my $out = `$root/$cmd`;
my ($token) = $out =~ /^token: (\S+)$/m;
my ($line) = $out =~ /^line:  (.+)$/m;
Test::McpNginx::register_secret($token);
like($shell, qr/^token: \S+\nline:  ci-bot \S+ tools:call$/m,
     'the README shows what tools/mcp-token prints');
like($line, qr/^ci-bot [0-9a-f]{64} tools:call$/, 'and so it does');

my $backend = start_backend('example_backend.py');

sub run_conf {
    my ($conf, %subst) = @_;
    my $port = free_port();
    $conf =~ s{load_module /path/to/ngx_http_mcp_module\.so}
              {load_module ${\ module_path()}};
    $conf =~ s/listen 8080;/listen 127.0.0.1:$port;/;
    $conf =~ s/127\.0\.0\.1:9001/127.0.0.1:${\ $backend->port }/g;
    $conf =~ s/\Q$_\E/$subst{$_}/g for keys %subst;
    $conf .= "events {}\n";
    return start_nginx(full_conf => $conf, port => $port);
}

sub init {
    my ($port, $auth) = @_;
    return json_rpc(port => $port,
        headers => [defined $auth ? (['Authorization', "Bearer $auth"]) : ()],
        message => { jsonrpc => '2.0', id => 1, method => 'initialize',
                     params => { protocolVersion => '2025-11-25',
                                 capabilities => {},
                                 clientInfo => { name => 't', version => '1' } } });
}

sub call {
    my ($port, $auth, $sid, $method, $params) = @_;
    return json_rpc(port => $port, session => $sid, version => '2025-11-25',
                    headers => [['Authorization', "Bearer $auth"]],
                    message => { jsonrpc => '2.0', id => 2, method => $method,
                                 params => $params });
}

# static tokens
{
    open my $f, '>', "$dir/mcp-tokens" or die $!;
    print $f "$line\n";
    close $f;
    my $nginx = run_conf($confs[0], '/etc/nginx/mcp-tokens' => "$dir/mcp-tokens");
    my $port = $nginx->port;

    is(init($port)->status, 401, 'static: no token, 401');
    my $r = init($port, $token);
    is($r->status, 200, 'static: the token made above, 200');
    my $sid = $r->header('Mcp-Session-Id');
    $r = call($port, $token, $sid, 'tools/call',
              { name => 'echo', arguments => { message => 'hello' } });
    like($r->body, qr/"result".*hello/, 'static: ci-bot calls echo');
    is(init($port, 'x' . substr($token, 1))->status, 401, 'another token: 401');
    $nginx->stop;
}

# an OAuth authorization server
{
    mkdir "$dir/keys" or die $!;
    my $keys = jwt_keys("$dir/keys");
    my $nginx = run_conf($confs[1], '/etc/nginx/auth-jwks.json' => $keys->{jwks});
    my $port = $nginx->port;
    my $tok = sub {
        jwt_sign($keys, 'ES256', {},
                 { iss => 'https://auth.example.com',
                   aud => 'https://mcp.example.com/mcp',
                   exp => time + 300, sub => 'user-17', scope => $_[0] });
    };

    my $r = init($port);
    is($r->status, 401, 'OAuth: no token, 401');
    is($r->header('WWW-Authenticate'),
       'Bearer realm="mcp", scope="mcp", resource_metadata='
       . '"https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
       'naming the scope needed and where to learn how to get it');

    my $full = $tok->('mcp tools:call');
    $r = init($port, $full);
    is($r->status, 200, 'OAuth: a token with "mcp tools:call", 200');
    my $sid = $r->header('Mcp-Session-Id');
    $r = call($port, $full, $sid, 'tools/call',
              { name => 'echo', arguments => { message => 'hi' } });
    like($r->body, qr/"result".*hi/, 'OAuth: it calls echo');

    my $short = $tok->('mcp');
    is(init($port, $tok->('tools:call'))->status, 403,
       'OAuth: a token without "mcp": 403');
    $r = init($port, $short);
    my $ssid = $r->header('Mcp-Session-Id');
    $r = call($port, $short, $ssid, 'tools/call',
              { name => 'echo', arguments => { message => 'hi' } });
    is($r->status, 403, 'OAuth: "mcp" alone, calling echo: 403');
    like($r->header('WWW-Authenticate') // '',
         qr/error="insufficient_scope".*scope="mcp tools:call"/,
         'insufficient_scope, naming the scopes to ask for');
    is($r->json->{error}{code}, -32003, 'with the JSON-RPC error');

    my ($doc) = $readme =~ /^### mcp_oauth_metadata\n.*?\n\n(    \{[^\n]*\n(?:     [^\n]*\n)*)/ms;
    $doc =~ s/^    //mg;
    for my $path ('/.well-known/oauth-protected-resource/mcp',
                  '/.well-known/oauth-protected-resource')
    {
        $r = http_request(port => $port, path => $path);
        is($r->status, 200, "GET $path: 200");
        is_deeply(decode_json($r->body), decode_json($doc),
                  'the document shown under mcp_oauth_metadata');
    }
    $nginx->stop;
}

no_secrets_logged();

done_testing();
