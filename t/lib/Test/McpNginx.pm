package Test::McpNginx;

# Test harness for ngx_http_mcp_module: starts throw-away nginx instances and
# tool backends, speaks HTTP/1.1 to them and runs data-driven test blocks.

use strict;
use warnings;

use Carp ();
use Cwd ();
use Exporter ();
use File::Basename ();
use File::Find ();
use File::Path ();
use File::Temp ();
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Scalar::Util ();
use Test::More ();
use Time::HiRes ();

our $VERSION = '1.00';
our @ISA     = ('Exporter');
our @EXPORT  = qw(repo_root module_path nginx_binary free_port start_nginx
                  start_backend start_redis http_request json_rpc
                  mcp_initialize run_blocks wait_for mcp_tokens
                  register_secret no_secrets_logged);
our @EXPORT_OK = qw(parse_blocks json_subset_diff json_equal_diff secrets_found);

# The nginx instance serving the block being run (for request_eval code).
our $NGINX;

my $ROOT = Cwd::abs_path(File::Basename::dirname(Cwd::abs_path(__FILE__)) . '/../../..');
my $JSON = JSON::PP->new->utf8->allow_nonref;
my $CANON = JSON::PP->new->utf8->allow_nonref->canonical;
my $PRETTY = JSON::PP->new->utf8->allow_nonref->canonical->pretty;
my %LIVE;            # refaddr => weakened object that must be stopped at exit
my %PORTS_GIVEN;

sub import {
    my @args = @_;
    my $caller = caller;
    eval "package $caller; Test::More->import(); 1" or die $@;
    __PACKAGE__->export_to_level(1, @args);
}

sub repo_root    { $ROOT }
sub module_path  { $ENV{MCP_MODULE} || "$ROOT/build/ngx_http_mcp_module.so" }
sub nginx_binary { $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx' }

# ---------------------------------------------------------------------------
# small utilities

sub _now { Time::HiRes::time() }

sub _wait_until {
    my ($timeout, $cond) = @_;
    my $deadline = _now() + $timeout;
    my $nap = 0.002;
    while (1) {
        my $r = $cond->();
        return $r if $r;
        return 0 if _now() >= $deadline;
        Time::HiRes::sleep($nap);
        $nap *= 2 if $nap < 0.05;
    }
}

sub _read_file {
    my ($path, $from) = @_;
    open my $fh, '<:raw', $path or return '';
    seek $fh, $from, 0 if $from;
    local $/;
    return scalar(<$fh>) // '';
}

sub _write_file {
    my ($path, $text) = @_;
    open my $fh, '>:raw', $path or Carp::croak("cannot write $path: $!");
    print {$fh} $text or Carp::croak("cannot write $path: $!");
    close $fh;
}

sub _shorten {
    my ($text, $max) = @_;
    $max ||= 2000;
    return $text // 'undef' if !defined $text || length $text <= $max;
    return substr($text, 0, $max) . '... (' . length($text) . ' bytes in all)';
}

sub _subst {
    my ($text, $vars, $for_regex) = @_;
    return $text unless defined $text;
    my @names = sort { length $b <=> length $a } grep { defined $vars->{$_} } keys %$vars;
    return $text unless @names;
    my $alt = join '|', map { quotemeta } @names;
    $text =~ s/\$($alt)\b/$for_regex ? quotemeta($vars->{$1}) : $vars->{$1}/ge;
    return $text;
}

# (state, parent pid) of a process, from /proc/PID/stat
sub _proc_stat {
    my $stat = _read_file("/proc/$_[0]/stat");
    my $r = rindex $stat, ')';
    return $r < 0 ? () : (split ' ', substr($stat, $r + 1))[0, 1];
}

sub _alive {
    my ($pid) = @_;
    return 0 unless $pid && kill 0, $pid;
    my ($state) = _proc_stat($pid);
    return defined $state && $state ne 'Z' && $state ne 'X';
}

sub _port_accepts {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 1) or return 0;
    close $s;
    return 1;
}

sub free_port {
    for (1 .. 200) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
            or Carp::croak("cannot bind 127.0.0.1:0: $!");
        my $port = $s->sockport;
        close $s;
        return $port unless $PORTS_GIVEN{$port}++;
    }
    Carp::croak('no unused free port found');
}

sub _register {
    my $key = Scalar::Util::refaddr($_[0]);
    Scalar::Util::weaken($LIVE{$key} = $_[0]);
}

sub _unregister { delete $LIVE{ Scalar::Util::refaddr($_[0]) } }

END {
    {
        local $?;
        for my $obj (grep { defined } values %LIVE) { $obj->stop }
    }
    _secrets_unchecked_at_end();
}

# Let END blocks stop the servers when the test is interrupted or its reader
# went away.
for my $sig (qw(INT TERM PIPE)) {
    $SIG{$sig} = sub { exit 1 } unless $SIG{$sig};
}

# ---------------------------------------------------------------------------
# secrets: no registered string (a bearer token, a password) may be found in
# a log of an nginx of this process.  Each nginx's logs/ is searched when it
# stops, before its prefix goes, and those of the running ones whenever
# no_secrets_logged asks.

my %SECRETS;         # secret => 1
my %FINDINGS;        # "where: shortened secret" => 1, from nginx instances that stopped
my $SECRETS_PID;     # the process that registered them
my $SECRETS_CHECKED;

sub register_secret {
    for my $secret (@_) {
        next unless defined $secret && length $secret;
        Carp::croak('register_secret: a secret of fewer than 8 bytes would match by chance')
            if length $secret < 8;
        $SECRETS{$secret} = 1;
        $SECRETS_PID //= $$;
    }
    return scalar keys %SECRETS;
}

# first 6 characters: enough to tell which, too few to be of use
sub _secret_name { substr($_[0], 0, 6) . "\xe2\x80\xa6" }

# "FILE (WHO): SECRET" for every registered secret in a file under $prefix/logs
sub _scan_logs {
    my ($prefix, $who) = @_;
    return unless %SECRETS && -d "$prefix/logs";
    my @files;
    File::Find::find({ no_chdir => 1, wanted => sub { push @files, $_ if -f $_ } },
                     "$prefix/logs");
    my @found;
    for my $file (sort @files) {
        my $text = _read_file($file);
        (my $name = $file) =~ s{^\Q$prefix\E/}{};
        push @found, map { "$name ($who): " . _secret_name($_) }
                     grep { index($text, $_) >= 0 } sort keys %SECRETS;
    }
    return @found;
}

sub _record_findings { $FINDINGS{$_} = 1 for @_ }

# Where registered secrets were found: in the logs of the nginx instances
# that stopped, and now in those of the ones still running.
sub secrets_found {
    my @live = grep { defined && $_->isa('Test::McpNginx::Nginx') } values %LIVE;
    my %all = (%FINDINGS, map { $_ => 1 } map { $_->_find_secrets } @live);
    return sort keys %all;
}

# (an nginx instance given is ignored: every one is searched anyway)
sub no_secrets_logged {
    my ($name) = grep { !ref } @_;
    $SECRETS_CHECKED = 1;
    my $n = keys %SECRETS;
    $name //= "no registered secret ($n) in the nginx logs";
    my @found = secrets_found();
    my $tb = Test::More->builder;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = $tb->ok($n && !@found, $name);
    $tb->diag($n ? join("\n", 'secrets found in nginx logs:', map { "    $_" } @found)
                 : 'no secret was registered: nothing to look for') unless $ok;
    return $ok;
}

# END: a file that registered secrets must have looked for them.
sub _secrets_unchecked_at_end {
    return if $SECRETS_CHECKED || !%SECRETS || ($SECRETS_PID // 0) != $$ || $?;
    my $plan = eval { require Test2::API; Test2::API::test2_stack()->top->plan } // '';
    return if $plan eq 'SKIP';
    Test::More->builder->diag('secrets were registered (register_secret, mcp_tokens) but '
                              . 'no_secrets_logged() was never called');
    $? = 1;
}

# ---------------------------------------------------------------------------
# nginx

sub _render_conf {
    my ($o) = @_;
    my $prefix = $o->{prefix};
    my $so = module_path();
    my $root_user = $> == 0;
    if (defined $o->{full_conf}) {
        my $t = $o->{full_conf};
        my @head = grep { /^(\w+)/ && $t !~ /^\s*$1\s/m }
            ($o->{module} ? "load_module $so;" : ()), ($root_user ? 'user root;' : ()),
            'daemon on;', 'master_process on;', "pid $prefix/logs/nginx.pid;",
            "error_log $prefix/logs/error.log $o->{error_log_level};";
        return join("\n", @head, $t) . "\n";
    }
    my @main;
    push @main, "load_module $so;" if $o->{module};
    push @main, 'user root;' if $root_user;
    push @main, "worker_processes $o->{workers};",
                'daemon on; master_process on;',
                "error_log $prefix/logs/error.log $o->{error_log_level};",
                "pid $prefix/logs/nginx.pid;",
                $o->{main_config};
    return join("\n", @main) . <<"EOC";

events { worker_connections ${\ ($o->{worker_connections} || 1024) }; }
http {
    access_log $prefix/logs/access.log;
    client_body_temp_path $prefix/tmp/body; proxy_temp_path $prefix/tmp/proxy; fastcgi_temp_path $prefix/tmp/fcgi;
    uwsgi_temp_path $prefix/tmp/uwsgi; scgi_temp_path $prefix/tmp/scgi;
$o->{http_config}
    server {
        listen 127.0.0.1:$o->{port}${\ ($o->{listen_params} ? " $o->{listen_params}" : '') };
        server_name localhost;
$o->{config}
    }
}
EOC
}

# Runs the nginx binary with the instance's prefix; returns ($status, $output).
sub _run_nginx_cmd {
    my ($prefix, @args) = @_;
    my $out = "$prefix/logs/nginx-cmd.out";
    my $pid = fork // Carp::croak("fork: $!");
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>&', \*STDOUT;
        exec nginx_binary(), '-p', "$prefix/", '-c', 'conf/nginx.conf', @args
            or POSIX::_exit(127);
    }
    return ($?, _read_file($out)) if _wait_until(30, sub { waitpid($pid, POSIX::WNOHANG()) == $pid });
    kill 'KILL', $pid;
    waitpid $pid, 0;
    return (-1, "nginx @args did not finish within 30s\n" . _read_file($out));
}

sub start_nginx {
    my (%o) = @_;
    Carp::croak('nginx binary ' . nginx_binary() . ' is not executable') unless -x nginx_binary();
    $o{module} //= 1;
    Carp::croak('MCP module not found at ' . module_path() . ' (build it with make)')
        if $o{module} && !-f module_path();
    $o{workers} //= 1;
    $o{error_log_level} //= 'info';
    $o{http_config} //= $o{conf} // '';
    $o{$_} //= '' for qw(config main_config);
    $o{port} //= free_port();
    $o{prefix} = File::Temp::tempdir('mcp-nginx-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    mkdir "$o{prefix}/$_" or Carp::croak("mkdir $o{prefix}/$_: $!") for qw(logs conf tmp);
    $o{vars} = { %{ $o{vars} || {} }, TEST_NGINX_PORT => $o{port}, TEST_ROOT => $ROOT,
                 TEST_PREFIX => $o{prefix} };
    $o{vars}{TEST_BACKEND_PORT} = $o{backend_port} if defined $o{backend_port};

    my $self = bless { opts => \%o, prefix => $o{prefix}, port => $o{port}, owner => $$ },
                     'Test::McpNginx::Nginx';
    $self->_write_conf;
    Test::More::note("nginx prefix kept: $o{prefix}") if $ENV{TEST_KEEP};

    if ($o{test_only}) {
        my ($st, $out) = _run_nginx_cmd($o{prefix}, '-t');
        Test::McpNginx::_record_findings($self->_find_secrets);
        $self->_remove_prefix;
        return ($st == 0, $out);
    }

    my ($st, $out) = _run_nginx_cmd($o{prefix});
    _register($self);
    my $want = defined $o{full_conf} ? 1 : $o{workers};
    # under valgrind workers keep valgrind's command line and start slowly
    $want = 0 if $ENV{TEST_NGINX_VALGRIND};
    my $listen = defined $o{full_conf} ? index($o{full_conf}, $o{port}) >= 0 : 1;
    my $ready = $st == 0 && _wait_until($ENV{TEST_NGINX_VALGRIND} ? 60 : 10, sub {
        my $pid = $self->master_pid or return 0;
        return -1 unless _alive($pid);
        return 0 unless $self->worker_pids >= $want;
        return !$listen || _port_accepts($o{port});
    });
    return $self if $st == 0 && $ready == 1;
    $self->stop;
    my $log = $self->error_log;
    Carp::croak(($st ? "nginx failed to start (status $st)" : 'nginx did not become ready')
                . ":\n$out" . ($log ? "error log:\n$log" : ''));
}

package Test::McpNginx::Nginx;

sub port     { $_[0]{port} }
sub prefix   { $_[0]{prefix} }
sub vars     { $_[0]{opts}{vars} }
sub conf_text { $_[0]{conf_text} }

sub _write_conf {
    my ($self) = @_;
    my $o = $self->{opts};
    my %t = (%$o, map { $_ => Test::McpNginx::_subst($o->{$_}, $o->{vars}) }
                  grep { defined $o->{$_} } qw(full_conf main_config http_config config));
    $self->{conf_text} = Test::McpNginx::_render_conf(\%t);
    Test::McpNginx::_write_file("$self->{prefix}/conf/nginx.conf", $self->{conf_text});
}

sub master_pid {
    my ($self) = @_;
    return $self->{master_pid} if $self->{master_pid};
    my $pid = Test::McpNginx::_read_file("$self->{prefix}/logs/nginx.pid");
    return unless $pid =~ /^(\d+)/;
    return $self->{master_pid} = $1;
}

sub running { my $m = $_[0]->master_pid; !$_[0]{stopped} && $m && Test::McpNginx::_alive($m) }

sub worker_pids {
    my ($self) = @_;
    my $master = $self->master_pid or return;
    my @pids;
    opendir my $dh, '/proc' or return;
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        my ($state, $ppid) = Test::McpNginx::_proc_stat($pid);
        next unless defined $ppid && $ppid == $master && $state ne 'Z';
        my $cmd = Test::McpNginx::_read_file("/proc/$pid/cmdline");
        push @pids, $pid if $cmd =~ /worker process/ && $cmd !~ /shutting down/;
    }
    my @sorted = sort { $a <=> $b } @pids;
    return @sorted;
}

# the error log (from a byte offset); kept in memory once the instance stopped
sub error_log {
    my ($self, $from) = @_;
    return substr($self->{final_log}, $from || 0) if defined $self->{final_log};
    return Test::McpNginx::_read_file("$self->{prefix}/logs/error.log", $from);
}

sub error_log_size {
    my ($self) = @_;
    return defined $self->{final_log} ? length $self->{final_log}
                                      : -s "$self->{prefix}/logs/error.log" || 0;
}

sub reload {
    my ($self, %change) = @_;
    my $master = $self->master_pid;
    return 0 unless $self->running;
    if (%change) {
        $self->{opts}{$_} = $change{$_} for keys %change;
        $self->_write_conf;
    }
    my %old = map { $_ => 1 } $self->worker_pids;
    my $from = $self->error_log_size;
    kill 'HUP', $master or return 0;
    my $want = defined $self->{opts}{full_conf} ? 1 : $self->{opts}{workers};
    my $r = Test::McpNginx::_wait_until($ENV{TEST_NGINX_VALGRIND} ? 60 : 10, sub {
        my $log = $self->error_log($from);
        return -1 if $log =~ /\[emerg\]/;
        # under valgrind workers keep valgrind's command line: the master's
        # log tells when the new ones started
        if ($ENV{TEST_NGINX_VALGRIND}) {
            my $started = () = $log =~ /start worker process \d+/g;
            return $started >= $want;
        }
        my @now = $self->worker_pids;
        return !grep({ $old{$_} } @now) && (grep { !$old{$_} } @now) >= $want;
    });
    return 0 unless $r == 1;
    # old workers stop accepting a moment after their title changes
    Test::McpNginx::_wait_until(2, sub { !grep { Test::McpNginx::_alive($_) } keys %old });
    return 1;
}

sub stop {
    my ($self) = @_;
    return if $self->{stopped} || $self->{owner} != $$;
    $self->{stopped} = 1;
    Test::McpNginx::_unregister($self);
    my $master = $self->master_pid;
    my @workers = $master ? $self->worker_pids : ();
    my $gone = sub { !Test::McpNginx::_alive($master) };
    for ([QUIT => 10], [TERM => 3], [KILL => 2]) {
        last if !$master || $gone->();
        kill $_->[0], $master;
        Test::McpNginx::_wait_until($_->[1], $gone);
    }
    if (my @left = grep { Test::McpNginx::_alive($_) } @workers) {
        kill 'KILL', @left;
        Test::McpNginx::_wait_until(2, sub { !grep { Test::McpNginx::_alive($_) } @left });
    }
    $self->{final_log} = $self->error_log;
    Test::McpNginx::_record_findings($self->_find_secrets);
    $self->_remove_prefix;
    return 1;
}

sub _find_secrets {
    my ($self) = @_;
    return Test::McpNginx::_scan_logs($self->{prefix}, "nginx on port $self->{port}");
}

sub _remove_prefix {
    File::Path::remove_tree($_[0]{prefix}) if !$ENV{TEST_KEEP} && -d $_[0]{prefix};
}

sub DESTROY { local ($?, $@); $_[0]->stop }

# ---------------------------------------------------------------------------
# tool backends

package Test::McpNginx;

sub start_backend {
    my ($script, @args) = @_;
    my $path = "$ROOT/tools/$script";
    Carp::croak("backend script $path not found") unless -f $path;
    my $port = free_port();
    my $dir = File::Temp::tempdir('mcp-backend-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    my $log = "$dir/backend.log";
    my $pid = fork // Carp::croak("fork: $!");
    if (!$pid) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $log;
        open STDERR, '>&', \*STDOUT;
        exec $ENV{TEST_PYTHON} || 'python3', $path, '--host', '127.0.0.1', '--port', $port, @args
            or POSIX::_exit(127);
    }
    my $self = bless { pid => $pid, port => $port, dir => $dir, log => $log, owner => $$,
                       script => $script }, 'Test::McpNginx::Backend';
    _register($self);
    my $ok = _wait_until(10, sub {
        return -1 if waitpid($pid, POSIX::WNOHANG()) == $pid;
        return _port_accepts($port);
    });
    if ($ok != 1) {
        $self->{reaped} = 1 if $ok == -1;
        my $out = $self->log_text;
        $self->stop;
        Carp::croak("backend $script did not start listening on port $port:\n$out");
    }
    return $self;
}

# true as soon as $cond is, false after $seconds
sub wait_for {
    my ($seconds, $cond) = @_;
    my $end = _now() + $seconds;
    while (_now() < $end) {
        return 1 if $cond->();
        Time::HiRes::sleep(0.05);
    }
    return 0;
}

# a token file for mcp_auth, made with tools/mcp-token: name => token
sub mcp_tokens {
    my ($file, @names) = @_;
    my (%token, @lines);
    for my $name (@names) {
        my $out = `$ROOT/tools/mcp-token $name`;
        ($token{$name}) = $out =~ /^token: (\S+)$/m;
        register_secret($token{$name});
        push @lines, $out =~ /^line:  (.+)$/m;
    }
    _write_file($file, join '', map { "$_\n" } @lines);
    return \%token;
}

# A redis-server of its own on a free loopback port, no persistence.
sub start_redis {
    my (%o) = @_;
    my $self = bless { port => $o{port} || free_port(), owner => $$,
                       password => $o{password},
                       dir => File::Temp::tempdir('mcp-redis-XXXXXX', TMPDIR => 1,
                                                  CLEANUP => 0) },
                     'Test::McpNginx::Redis';
    _register($self);
    $self->start;
    return $self;
}

package Test::McpNginx::Backend;

sub port     { $_[0]{port} }
sub pid      { $_[0]{pid} }
sub log_text { Test::McpNginx::_read_file($_[0]{log}) }

sub stop {
    my ($self) = @_;
    return if $self->{stopped} || $self->{owner} != $$;
    $self->{stopped} = 1;
    Test::McpNginx::_unregister($self);
    my $pid = $self->{pid};
    unless ($self->{reaped}) {
        kill 'TERM', -$pid;
        unless (Test::McpNginx::_wait_until(5, sub { waitpid($pid, POSIX::WNOHANG()) == $pid })) {
            kill 'KILL', -$pid;
            waitpid $pid, 0;
        }
    }
    File::Path::remove_tree($self->{dir}) unless $ENV{TEST_KEEP};
    return 1;
}

sub DESTROY { local ($?, $@); $_[0]->stop }

package Test::McpNginx::Redis;

sub port { $_[0]{port} }
sub pid  { $_[0]{pid} }
sub unix_path { "$_[0]{dir}/redis.sock" }
sub log_text { Test::McpNginx::_read_file("$_[0]{dir}/redis.log") }

sub start {
    my ($self) = @_;
    my $pid = fork // Carp::croak("fork: $!");
    if (!$pid) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$self->{dir}/redis.log";
        open STDERR, '>&', \*STDOUT;
        exec 'redis-server', '--port', $self->{port}, '--bind', '127.0.0.1',
             '--save', '', '--appendonly', 'no', '--dir', $self->{dir},
             '--unixsocket', $self->unix_path, '--unixsocketperm', '700',
             (defined $self->{password} ? ('--requirepass', $self->{password}) : ())
            or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    $self->{stopped} = 0;
    my $ok = Test::McpNginx::_wait_until(10, sub {
        return -1 if waitpid($pid, POSIX::WNOHANG()) == $pid;
        return Test::McpNginx::_port_accepts($self->{port});
    });
    Carp::croak("redis-server did not start on port $self->{port}:\n"
                . $self->log_text) if $ok != 1;
    return $self;
}

# a command through redis-cli; its output, trimmed
sub cli {
    my ($self, @args) = @_;
    my @auth = defined $self->{password}
             ? ('--no-auth-warning', '-a', $self->{password}) : ();
    open my $fh, '-|', 'redis-cli', '-p', $self->{port}, @auth, @args
        or Carp::croak("redis-cli: $!");
    my $out = do { local $/; <$fh> };
    close $fh;
    $out //= '';
    $out =~ s/\s+\z//;
    return $out;
}

# SIGKILL, or SIGTERM with $graceful; the port stays ours for start()
sub stop {
    my ($self, $graceful) = @_;
    return if $self->{stopped} || $self->{owner} != $$;
    $self->{stopped} = 1;
    my $pid = $self->{pid};
    kill($graceful ? 'TERM' : 'KILL', $pid);
    waitpid $pid, 0;
    return 1;
}

sub DESTROY {
    local ($?, $@);
    my ($self) = @_;
    return if $self->{owner} != $$;
    $self->stop;
    Test::McpNginx::_unregister($self);
    File::Path::remove_tree($self->{dir}) unless $ENV{TEST_KEEP};
}

# ---------------------------------------------------------------------------
# HTTP client

package Test::McpNginx;

sub http_request {
    my (%o) = @_;
    my $port = $o{port} or Carp::croak('http_request: port is required');
    my ($method, $timeout) = ($o{method} // 'GET', $o{timeout} // 10);
    my $deadline = _now() + $timeout;
    my %named = map { lc($_->[0]) => 1 } @{ $o{headers} || [] };
    my @send = (($named{host} ? () : ['Host', 'localhost']),
                (grep { defined $_->[1] } @{ $o{headers} || [] }),
                ($named{connection} ? () : ['Connection', 'close']));
    push @send, ['Content-Length', length $o{body}]
        if defined $o{body} && !$named{'content-length'} && !$named{'transfer-encoding'};
    my ($conn) = map { $_->[1] } grep { lc $_->[0] eq 'connection' } @send;
    my $req = $o{raw} // join('', "$method " . ($o{path} // '/') . ' ' . ($o{protocol} // 'HTTP/1.1')
                                  . "\r\n", map({ "$_->[0]: $_->[1]\r\n" } @send), "\r\n", $o{body} // '');
    my $res = bless { headers => {}, body => '', request => $req }, 'Test::McpNginx::Response';

    local $SIG{PIPE} = 'IGNORE';
    my $sock = IO::Socket::INET->new(PeerAddr => $o{host} // '127.0.0.1', PeerPort => $port,
                                     Proto => 'tcp', Timeout => $timeout);
    if (!$sock) {
        $res->{error} = "cannot connect to port $port: $@ (no response received)";
        return $res;
    }
    $sock->blocking(0);
    my $wait = sub {    # wait until the socket is readable (0) or writable (1)
        my $v = '';
        vec($v, fileno $sock, 1) = 1;
        my $left = $deadline - _now();
        return $left > 0 && ($_[0] ? select(undef, $v, undef, $left) : select($v, undef, undef, $left)) > 0;
    };
    for (my $off = 0; $off < length $req; ) {   # a write error still lets us read the answer
        last unless $wait->(1);
        my $n = syswrite($sock, $req, 65536, $off);
        $off += $n if $n;
        last if !defined $n && !$!{EAGAIN} && !$!{EINTR};
    }
    my ($buf, $eof, $err) = ('', 0);
    my $fill = sub {    # read more into $buf: 1, or 0 at EOF, undef on error or timeout
        while (!$eof && !$err) {
            if (!$wait->(0)) { $err = "timeout after ${timeout}s"; last }
            my $r = sysread($sock, $buf, 65536, length $buf);
            return 1 if $r;
            $eof = 1 if defined $r;
            $err = "read error: $!" if !defined $r && !$!{EAGAIN} && !$!{EINTR};
        }
        return $err ? undef : 0;
    };
    my $complete = _read_response($res, \$buf, $fill, $method);
    $err //= 'malformed response' if !$complete && !$eof;
    if ($complete && (!defined $conn || $conn =~ /close/i)) {
        1 while $fill->();      # let the server finish the request before we look at its logs
        $res->{trailing} = $buf if length $buf;
    }
    close $sock;
    unless ($complete) {
        $res->{error} = $err // 'connection closed before the response was complete';
        $res->{error} .= ' (no response received)' unless defined $res->{status};
    }
    return $res;
}

# Parses status line, headers and body from $$buf, calling $fill for more data.
# Returns true when the response was complete.
sub _read_response {
    my ($res, $buf, $fill, $method) = @_;
    my $hend;
    while (1) {
        if ($$buf =~ /\r?\n\r?\n/) {
            $hend = $+[0];
            last unless $$buf =~ m{^HTTP/\d\.\d\s+1(?!01)\d\d\b};
            substr($$buf, 0, $hend, '');            # skip interim 1xx answers
            next;
        }
        $fill->() or return 0;
    }
    my $head = substr $$buf, 0, $hend, '';
    my ($status_line, @lines) = split /\r?\n/, $head;
    @$res{qw(protocol status reason)} = $status_line =~ m{^(HTTP/\S+)\s+(\d{3})\s*(.*)$} or return 0;
    for (@lines) {
        push @{ $res->{headers}{ lc $1 } }, $2 if /^([^:]+):\s*(.*?)\s*$/;
    }
    my $cl = $res->header('content-length');
    return 1 if $method eq 'HEAD' || $res->{status} =~ /^(?:204|304)$/;
    if (($res->header('transfer-encoding') // '') =~ /chunked/i) {
        while (1) {
            my $nl;
            $fill->() or return 0 while ($nl = index($$buf, "\n")) < 0;
            my ($hex) = substr($$buf, 0, $nl) =~ /^\s*([0-9a-fA-F]+)/ or return 0;
            my $size = hex $hex;
            if ($size == 0) {                        # last chunk, then trailers and an empty line
                substr($$buf, 0, $nl + 1, '');
                $fill->() or return 0 until $$buf =~ /^(?:[^\n]*[^\r\n][^\n]*\n)*\r?\n/;
                substr($$buf, 0, $+[0], '');
                return 1;
            }
            $fill->() or return 0 while length($$buf) < $nl + 1 + $size + 2;
            $res->{body} .= substr($$buf, $nl + 1, $size);
            substr($$buf, 0, $nl + 1 + $size, '');
            $$buf =~ s/^\r?\n//;
        }
    }
    if (defined $cl && $cl =~ /^\d+$/) {
        1 while length($$buf) < $cl && $fill->();
        $res->{body} = substr($$buf, 0, $cl, '');
        return length($res->{body}) == $cl;
    }
    1 while $fill->();                           # no framing: the body ends at EOF
    ($res->{body}, $$buf) = ($$buf, '');
    return defined $fill->();
}

sub _merge_headers {
    my ($defaults, $overrides) = @_;
    my %over = map { lc($_->[0]) => 1 } @$overrides;
    return [ (grep { !$over{ lc $_->[0] } } @$defaults), @$overrides ];
}

sub json_rpc {
    my (%o) = @_;
    my $msg = $o{message};
    my $body = ref $msg ? $CANON->encode($msg) : $msg;
    my @h = (['Content-Type', 'application/json'],
             ['Accept', 'application/json, text/event-stream']);
    push @h, ['Mcp-Session-Id', $o{session}] if defined $o{session};
    push @h, ['MCP-Protocol-Version', $o{version}] if defined $o{version};
    my $res = http_request(port => $o{port}, method => 'POST', path => $o{path} // '/mcp',
                           headers => _merge_headers(\@h, $o{headers} || []),
                           body => $body, (defined $o{timeout} ? (timeout => $o{timeout}) : ()));
    $res->{json} = $res->json if length $res->{body};
    return $res;
}

sub mcp_initialize {
    my (%o) = @_;
    my $version = $o{version} // '2025-06-18';
    my $path = $o{path} // '/mcp';
    my $init = json_rpc(port => $o{port}, path => $path, headers => $o{headers},
        message => '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":'
                   . $JSON->encode($version)
                   . ',"capabilities":{},"clientInfo":{"name":"t","version":"0"}}}');
    my $sid = $init->header('mcp-session-id');
    my $j = $init->{json};
    my $negotiated = ref $j eq 'HASH' && ref $j->{result} eq 'HASH' ? $j->{result}{protocolVersion} : undef;
    if (($init->status // 0) == 200) {
        $init->{initialized_response} = json_rpc(port => $o{port}, path => $path,
            message => '{"jsonrpc":"2.0","method":"notifications/initialized"}',
            session => $sid, version => $negotiated // $version, headers => $o{headers});
    }
    return ($sid, $negotiated, $init);
}

package Test::McpNginx::Response;

sub status  { $_[0]{status} }
sub body    { $_[0]{body} }
sub headers { $_[0]{headers} }
sub error   { $_[0]{error} }
sub header  { my $v = $_[0]{headers}{ lc $_[1] }; $v ? $v->[0] : undef }
sub header_values { @{ $_[0]{headers}{ lc $_[1] } || [] } }

sub sse_events {
    my ($self) = @_;
    my (@events, %ev, @data);
    for my $line (split /\r?\n/, $self->{body} . "\n\n", -1) {
        if ($line eq '') {
            push @events, { %ev, data => join("\n", @data) } if @data || %ev;
            (%ev, @data) = ();
        } elsif ($line =~ /^data:\s?(.*)$/) {
            push @data, $1;
        } elsif ($line =~ /^(event|id|retry):\s?(.*)$/) {
            $ev{$1} = $2;
        }
    }
    return @events;
}

# Decoded JSON body; for text/event-stream the data of the single event, or an
# array of all events' data when there are several. Undef when not JSON.
sub json {
    my ($self) = @_;
    return $self->{json_cache} if exists $self->{json_cache};
    my $decoded;
    my $ok = eval {
        if (($self->header('content-type') // '') =~ m{^text/event-stream}i) {
            my @data = map { $JSON->decode($_->{data}) } grep { length $_->{data} } $self->sse_events;
            die "no events with data\n" unless @data;
            $decoded = @data == 1 ? $data[0] : \@data;
        } else {
            $decoded = $JSON->decode($self->{body});
        }
        1;
    };
    $self->{json_error} = $@ || 'undecodable' unless $ok;
    return $self->{json_cache} = $decoded;
}

# ---------------------------------------------------------------------------
# JSON comparison

package Test::McpNginx;

sub json_equal_diff {
    my ($exp, $got) = @_;
    my ($e, $g) = ($CANON->encode($exp), $CANON->encode($got));
    return if $e eq $g;
    return "expected:\n" . _shorten($PRETTY->encode($exp)) . "got:\n" . _shorten($PRETTY->encode($got));
}

sub json_subset_diff {
    my ($exp, $got, $path) = @_;
    $path //= '$';
    if (ref $exp eq 'HASH') {
        return "$path: expected an object, got " . _shorten($CANON->encode($got), 200)
            unless ref $got eq 'HASH';
        for my $k (sort keys %$exp) {
            return "$path: missing key \"$k\"" unless exists $got->{$k};
            my $d = json_subset_diff($exp->{$k}, $got->{$k}, "$path.$k");
            return $d if defined $d;
        }
        return;
    }
    if (ref $exp eq 'ARRAY') {
        return "$path: expected an array, got " . _shorten($CANON->encode($got), 200)
            unless ref $got eq 'ARRAY';
        return "$path: expected " . @$exp . ' elements, got ' . @$got if @$exp != @$got;
        for my $i (0 .. $#$exp) {
            my $d = json_subset_diff($exp->[$i], $got->[$i], "$path\[$i\]");
            return $d if defined $d;
        }
        return;
    }
    my ($e, $g) = ($CANON->encode($exp), $CANON->encode($got));
    return if $e eq '"*ANY*"' || $e eq $g;
    return "$path: expected $e, got " . _shorten($g, 300);
}

# ---------------------------------------------------------------------------
# data-driven blocks

my %SECTIONS = map { $_ => 1 } qw(
    main_config http_config config workers error_log_level no_module backend
    init init_path request request_eval more_headers repeat timeout
    error_code response_headers response_body response_body_eval
    response_body_like response_body_unlike response_json response_json_subset
    error_log no_error_log must_die skip only);

# The sections a DEFAULTS block or run_blocks(defaults => ...) may set.
my @DEFAULTABLE = qw(main_config http_config config workers error_log_level no_module backend);

# Drops the trailing newlines of each value and makes it bytes.
sub _clean_sections {
    for (values %{ $_[0] }) {
        s/[\r\n]+\z//;
        utf8::encode($_) if utf8::is_utf8($_);  # compare bytes with bytes
    }
}

sub parse_blocks {
    my ($text, %o) = @_;
    my (@blocks, $cur, $sec);
    my $lineno = 0;
    for my $line (split /^/m, $text) {
        $lineno++;
        if ($line =~ /^===\s*(.*?)\s*$/) {
            push @blocks, $cur = { title => $1, line => $lineno, sections => {} };
            undef $sec;
        } elsif ($cur && $line =~ /^---\s*(\w+)\s*(?::[ \t]*(.*?))?[ \t]*\r?$/) {
            die "unknown section '--- $1' at line $lineno\n" unless $SECTIONS{$1};
            die "duplicate section '--- $1' at line $lineno\n" if exists $cur->{sections}{$1};
            $sec = $1;
            $cur->{sections}{$sec} = defined $2 && length $2 ? "$2\n" : '';
        } elsif ($sec) {
            $cur->{sections}{$sec} .= $line;
        }
    }
    _clean_sections($_->{sections}) for @blocks;

    # defaults: run_blocks(defaults => {...}), then a leading === DEFAULTS block
    my %defaults = %{ $o{defaults} || {} };
    %defaults = (%defaults, %{ shift(@blocks)->{sections} }) if @blocks && $blocks[0]{title} eq 'DEFAULTS';
    for my $k (sort keys %defaults) {
        die "section '$k' cannot have a default (only @DEFAULTABLE can)\n"
            unless grep { $_ eq $k } @DEFAULTABLE;
        die "the default of '$k' is undefined\n" unless defined $defaults{$k};
    }
    _clean_sections(\%defaults);
    for my $b (@blocks) {
        die "=== DEFAULTS at line $b->{line} is not the first block\n" if $b->{title} eq 'DEFAULTS';
        exists $b->{sections}{$_} or $b->{sections}{$_} = $defaults{$_} for keys %defaults;
    }
    return @blocks;
}

sub _lines { grep { /\S/ } split /\r?\n/, $_[0] // '' }

sub _report {
    my ($ok, $name, @diag) = @_;
    my $tb = Test::More->builder;
    $tb->ok($ok, $name);
    $tb->diag(join "\n", grep { defined } @diag) unless $ok;
    return $ok;
}

sub _check_headers {
    my ($spec, $res) = @_;
    my @bad;
    for my $line (_lines($spec)) {
        my @v = $line =~ /^!?\s*([^:\s]+)/ ? $res->header_values($1) : ();
        if ($line =~ /^!\s*(\S+)/) {
            push @bad, "header $1 present: @v" if @v;
        } elsif ($line =~ /^([^:\s]+)\s*:\s*~\s*(.*)$/) {
            my $re = $2;
            push @bad, "header $1: no value matches /$re/: " . join(', ', @v) unless grep { /$re/ } @v;
        } elsif ($line =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/) {
            my $want = $2;
            push @bad, "header $1: expected '$want', got " . join(', ', map { "'$_'" } @v)
                unless grep { $_ eq $want } @v;
        }
    }
    return @bad ? join("\n", @bad) : undef;
}

# The expectations of a block as [label, sub(response) -> undef or complaint].
sub _block_checks {
    my ($s, $vars) = @_;
    my $get = sub { _subst($s->{ $_[0] }, $vars, $_[1]) };
    my $code = exists $s->{error_code} ? $get->('error_code') : 200;
    my @checks = (['status code', sub {
        return if ($_[0]->status // '') eq $code;
        return "expected status $code, got " . ($_[0]->status // 'none');
    }]);
    push @checks, ['response headers', sub { _check_headers($get->('response_headers'), $_[0]) }]
        if exists $s->{response_headers};
    for my $k (grep { exists $s->{$_} } qw(response_body response_body_eval)) {
        my $want = $get->($k);
        $want = eval("package main; no strict; $want") // die "$k: $@" if $k eq 'response_body_eval';
        push @checks, ['response body', sub {
            return if $_[0]->body eq $want;
            return "expected body:\n" . _shorten($want) . "\ngot body:\n" . _shorten($_[0]->body);
        }];
    }
    for my $k (grep { exists $s->{$_} } qw(response_body_like response_body_unlike)) {
        my $re = $get->($k, 1);
        my $qr = eval { qr/$re/s } or die "$k: bad regex: $@";
        my $like = $k eq 'response_body_like';
        push @checks, [join(' ', split /_/, $k), sub {
            return if !!($_[0]->body =~ $qr) == $like;
            return ($like ? 'body does not match' : 'body matches') . " /$re/:\n" . _shorten($_[0]->body);
        }];
    }
    for my $k (grep { exists $s->{$_} } qw(response_json response_json_subset)) {
        my $exp = eval { $JSON->decode($get->($k)) };
        die "$k: expected value is not JSON: $@" if $@;
        push @checks, [join(' ', split /_/, $k), sub {
            my $got = $_[0]->json;
            return "body is not JSON ($_[0]{json_error}):\n" . _shorten($_[0]->body)
                if defined $_[0]{json_error};
            return scalar($k eq 'response_json' ? json_equal_diff($exp, $got) : json_subset_diff($exp, $got));
        }];
    }
    return @checks;
}

# The http_request() arguments for a block's request / request_eval.
sub _block_request {
    my ($s, $vars, $port, @session_headers) = @_;
    my $text = $s->{request};
    $text = eval("package main; no strict; $s->{request_eval}") // die "request_eval: $@"
        if exists $s->{request_eval};
    my ($first, $body) = split /\n/, _subst($text, $vars), 2;
    my ($method, $path, $proto) = split ' ', $first;
    die "bad request line '$first'\n" unless defined $path;
    $body //= '' if $method =~ /^(?:POST|PUT|PATCH)$/;
    utf8::encode($body) if defined $body && utf8::is_utf8($body);
    my @defaults = (($method eq 'POST' ? (['Content-Type', 'application/json'],
                                          ['Accept', 'application/json, text/event-stream']) : ()),
                    @session_headers);
    my @more = map { /^([^:\s]+)\s*:\s*(.*?)\s*$/ ? [$1, length $2 ? $2 : undef] : () }
               _lines(_subst($s->{more_headers}, $vars));
    return (port => $port, method => $method, path => $path, body => $body,
            headers => _merge_headers(\@defaults, \@more),
            (defined $proto ? (protocol => $proto) : ()),
            (exists $s->{timeout} ? (timeout => $s->{timeout}) : ()));
}

sub _config_for_block {
    my ($s) = @_;
    my $module = !exists $s->{no_module};
    my %cfg = (module => $module ? 1 : 0, main_config => $s->{main_config} // '',
               config => $s->{config} // '', workers => $s->{workers} // 1,
               error_log_level => $s->{error_log_level} // 'info',
               http_config => $s->{http_config} // ($module ? 'mcp_session_zone zone=mcp:1m;' : ''));
    my @backends = _lines($s->{backend});
    return (\%cfg, \@backends, $CANON->encode([\%cfg, \@backends]));
}

sub _backend_vars {
    my @ports = @_;
    return map { ($_ ? 'TEST_BACKEND_PORT_' . ($_ + 1) : 'TEST_BACKEND_PORT') => $ports[$_] } 0 .. $#ports;
}

my $BAD_LOG = qr/^(.*(?:\[(?:alert|crit|emerg)\]|exited on signal).*)$/m;

sub _shutdown {
    my ($st) = @_;
    if (my $ng = delete $st->{nginx}) {
        $ng->stop;
        my @bad = $ng->error_log($st->{log_pos}) =~ /$BAD_LOG/g;
        _report(!@bad, "$st->{last_title} - nginx shutdown without alert/crit/emerg", @bad);
    }
    $_->stop for @{ delete $st->{backends} || [] };
}

# The running nginx when the block's server sections match, else a fresh one.
sub _start_for_block {
    my ($st, $title, $cfg, $backends, $key) = @_;
    return $st->{nginx} if $st->{nginx} && $st->{key} eq $key && $st->{nginx}->running;
    _shutdown($st);
    my @b = eval { map { start_backend(split ' ', $_) } @$backends };
    return _report(0, "$title - backend starts", $@) if $@;
    my $ng = eval { start_nginx(%$cfg, vars => { _backend_vars(map { $_->port } @b) }) }
        or return _report(0, "$title - nginx starts", $@);
    @$st{qw(nginx backends key log_pos)} = ($ng, \@b, $key, 0);
    return $ng;
}

sub _run_block {
    my ($b, $st) = @_;
    my ($s, $title) = ($b->{sections}, $b->{title});
    return Test::More->builder->skip("$title: $s->{skip}") if exists $s->{skip};
    my ($cfg, $backends, $key) = _config_for_block($s);

    if (exists $s->{must_die}) {
        my $re = $s->{must_die};
        my ($ok, $out) = eval {
            start_nginx(%$cfg, test_only => 1, vars => { _backend_vars(map { free_port() } @$backends) });
        };
        return _report(0, "$title - nginx -t fails", $@) if $@;
        return _report(!!(!$ok && (!length $re || $out =~ /$re/)),
                       "$title - nginx -t fails" . (length $re ? " matching /$re/" : ''),
                       $ok ? 'configuration was accepted' : "nginx -t output:\n$out");
    }

    my $ng = _start_for_block($st, $title, $cfg, $backends, $key) or return;
    $st->{last_title} = $title;
    local $NGINX = $ng;
    my @workers = $ng->worker_pids;
    my %vars = %{ $ng->vars };
    my ($ready, @session_headers) = (1);

    if (exists $s->{init}) {
        my $version = length $s->{init} ? $s->{init} : '2025-06-18';
        my ($sid, undef, $res) = mcp_initialize(port => $ng->port, path => $s->{init_path} // '/mcp',
                                                version => $version);
        my $n = $res->{initialized_response};
        $ready = _report(!!(defined $sid && ($res->status // 0) == 200 && $n && ($n->status // 0) =~ /^2/),
            "$title - initialize",
            'initialize: ' . ($res->status // $res->error) . ' ' . _shorten($res->body, 500),
            defined $sid ? undef : 'no Mcp-Session-Id in the initialize response',
            $n ? 'notifications/initialized: ' . ($n->status // $n->error) : undef);
        $vars{SESSION_ID} = $sid;
        @session_headers = (['Mcp-Session-Id', $sid], ['MCP-Protocol-Version', $version]) if defined $sid;
    }

    if ($ready && (exists $s->{request} || exists $s->{request_eval})) {
        my (@req, @checks);
        if (!eval { @req = _block_request($s, \%vars, $ng->port, @session_headers);
                    @checks = _block_checks($s, \%vars); 1 }) {
            _report(0, "$title - block is well formed", $@);
        } else {
            my ($repeat, %failed) = ($s->{repeat} // 1);
            for my $i (1 .. $repeat) {
                my $res = http_request(@req);
                for my $c (grep { !$failed{ $_->[0] } } @checks) {
                    my $d = $c->[1]->($res) // next;
                    $d .= "\nrequest error: " . $res->error if $res->error;
                    $failed{ $c->[0] } = ($repeat > 1 ? "repetition $i of $repeat: " : '') . $d;
                }
            }
            _report(!defined $failed{ $_->[0] }, "$title - $_->[0]", $failed{ $_->[0] }) for @checks;
        }
    }

    my $from = $st->{log_pos};
    for my $k (grep { exists $s->{$_} } qw(error_log no_error_log)) {
        my @lines = _lines(_subst($s->{$k}, \%vars));
        my $want = $k eq 'error_log';
        my @bad;
        _wait_until($want ? 1 : 0, sub {      # the log may trail the response a little
            my $log = $ng->error_log($from);
            @bad = grep { ($_ =~ /^~\s*(.*)$/ ? $log =~ /$1/m : index($log, $_) >= 0) != $want } @lines;
            !@bad;
        });
        _report(!@bad, "$title - $k", map { ($want ? 'missing from' : 'found in') . " error log: $_" } @bad);
    }

    # a crashed worker is reported by the master shortly after it died
    _wait_until(2, sub { $ng->error_log($from) =~ /exited on signal/ }) if grep { !_alive($_) } @workers;
    my @bad = $ng->error_log($from) =~ /$BAD_LOG/g;
    _report(!@bad, "$title - no alert/crit/emerg in error log", @bad);
    $st->{log_pos} = $ng->error_log_size;
}

sub run_blocks {
    my (%o) = @_;
    my @unknown = grep { $_ ne 'defaults' } sort keys %o;
    die "run_blocks: unknown option(s) @unknown\n" if @unknown;
    my $pkg = caller() // 'main';
    my $text = do { no strict 'refs'; local $/; readline \*{"${pkg}::DATA"} };
    die "run_blocks: no __DATA__ section in the test file\n" unless defined $text;
    my @blocks = parse_blocks($text, defaults => $o{defaults});
    if (my @only = grep { exists $_->{sections}{only} } @blocks) {
        Test::More::diag('running only the blocks marked --- only');
        @blocks = @only;
    }
    my $st = {};
    for my $b (@blocks) {
        eval { _run_block($b, $st); 1 } or _report(0, "$b->{title} - block runs", $@);
    }
    _shutdown($st);
    Test::More::done_testing();
}

1;

__END__

=head1 NAME

Test::McpNginx - test harness for the nginx MCP module

=head1 SYNOPSIS

    use FindBin;
    use lib "$FindBin::Bin/lib";      # or: use lib 't/lib';  (from the repository root)
    use Test::McpNginx;               # also imports Test::More
    run_blocks();

    __DATA__

    === TEST 1: ping
    --- config
    location = /mcp { mcp; }
    --- init: 2025-06-18
    --- request
    POST /mcp
    {"jsonrpc":"2.0","id":2,"method":"ping"}
    --- response_json_subset: {"jsonrpc":"2.0","id":2,"result":{}}

=head1 ENVIRONMENT

C<TEST_NGINX_BINARY> (default F</usr/sbin/nginx>), C<MCP_MODULE> (default
F<build/ngx_http_mcp_module.so> in the repository), C<TEST_PYTHON> (default
C<python3>), C<TEST_KEEP=1> keeps the temporary nginx prefixes and backend logs.
C<TEST_NGINX_VALGRIND=1> says nginx runs under valgrind (through a
C<TEST_NGINX_BINARY> wrapper): start-up may take longer, and worker
processes cannot be told by their command line.

=head1 FUNCTIONS

B<repo_root>, B<module_path>, B<nginx_binary>; B<free_port> (a free port on
127.0.0.1, never the same twice in one process).

B<start_nginx(%o)> starts nginx (daemon, master process) in a new temporary
prefix and waits until its workers run and its port accepts connections;
croaks on failure. Options: C<config> (inside the server block),
C<http_config> or C<conf> (inside http{}), C<main_config>, C<full_conf> (a
whole nginx.conf; C<load_module>, C<user>, C<daemon>, C<master_process>,
C<pid> and C<error_log> are added when missing), C<workers> (1), C<module>
(1: load the MCP module), C<error_log_level> (info), C<port>,
C<listen_params> (added to the server's C<listen>, e.g. C<http2>),
C<worker_connections> (1024),
C<backend_port>, C<vars> (more substitutions), C<test_only> (run C<nginx -t>
only and return C<($ok, $output)>). C<$TEST_NGINX_PORT>,
C<$TEST_BACKEND_PORT>, C<$TEST_ROOT> and C<$TEST_PREFIX> are replaced in all
configuration text. Methods: C<port>, C<prefix>, C<master_pid>,
C<worker_pids>, C<running>, C<conf_text>, C<error_log([$offset])>,
C<error_log_size>, C<reload(%changed_options)> (true once new workers serve,
false when nginx rejects the configuration) and C<stop> (QUIT, then TERM,
then KILL). Instances and backends are stopped when they go out of scope
and at exit.

B<start_backend($script, @args)> runs C<python3 tools/$script --host
127.0.0.1 --port PORT @args> and waits until it listens. Methods: C<port>,
C<pid>, C<log_text>, C<stop>.

B<wait_for($seconds, $cond)>: true as soon as C<< $cond->() >> is, false
when C<$seconds> pass first.

B<mcp_tokens($file, @names)> writes an C<mcp_auth> token file for the
clients named, with C<tools/mcp-token>, and returns their tokens by name;
each token is registered as a secret.

B<register_secret(@strings)> records strings (tokens, passwords; at least 8
bytes, undef and empty ones ignored) that no log may hold. Every file under
the F<logs/> of an nginx prefix (F<error.log>, F<access.log>, any other log
a test writes under C<$TEST_PREFIX/logs>) is searched for them when that
nginx stops, before the prefix is removed. B<no_secrets_logged([$name])> is
a test (references among its arguments, such as an nginx instance, are
ignored): it searches the logs of the nginx instances still running too, and
passes when no registered secret was found anywhere, else fails naming the
files and the secrets' first 6 characters; it fails as well when nothing was
registered. A test file that registered secrets but never called it fails
at exit. On request, B<secrets_found()> returns those findings as strings
(C<logs/FILE (nginx on port P): PREFIX...>), without a test.

B<start_redis(%o)> runs Debian's C<redis-server> on a free loopback port
(or C<port>) and a Unix socket, without persistence (with C<password>,
requiring it), and waits until it listens. Methods: C<port>, C<unix_path>, C<pid>, C<cli(@args)> (a C<redis-cli> command, its output),
C<stop($graceful)> (SIGKILL, or SIGTERM), C<start> (again, on the same
port), C<log_text>.

B<http_request(%o)>: C<port>, C<method> (GET), C<path> (/), C<headers>
(C<[name, value]> pairs sent in order; an undef value suppresses the default
of that name), C<body>, C<timeout> (10 s), C<protocol> (HTTP/1.1), C<raw>
(bytes to send instead). C<Host: localhost>, C<Connection: close> and
C<Content-Length> are added unless given. The response has C<status>,
C<headers> (lowercased name => values), C<header($name)> (first value),
C<header_values($name)>, C<body> (Content-Length, chunked or
read-until-close), C<error> (set when no complete response arrived),
C<json> (decoded body; for C<text/event-stream> the data of the only event,
or an array of every event's data) and C<sse_events>.

B<json_rpc(port =E<gt> P, message =E<gt> $data_or_json, path =E<gt> '/mcp',
session =E<gt> ID, version =E<gt> V, headers =E<gt> [...])> POSTs with the MCP
headers; the decoded answer is C<< $res->{json} >>.

B<mcp_initialize(port =E<gt> P, path =E<gt> '/mcp', version =E<gt>
'2025-06-18')> sends C<initialize> then C<notifications/initialized> and
returns C<($session_id, $negotiated_version, $init_response)>; the
notification's response is C<< $init_response->{initialized_response} >>.

On request: B<parse_blocks($text, defaults =E<gt> {...})> (the blocks with
their defaults applied), B<json_equal_diff($exp, $got)>,
B<json_subset_diff($exp, $got)> (undef when they match).

=head1 BLOCKS

B<run_blocks()> or B<run_blocks(defaults =E<gt> {...})> runs the blocks of
the caller's C<__DATA__> and calls C<done_testing>. A block starts with C<=== TITLE>; each C<--- name> section
takes the rest of its line after C<: > and/or the following lines, without
the trailing newlines. Unknown sections are an error. Tests are named
C<TITLE - what is checked>. Consecutive blocks with the same server sections
reuse the running nginx; replacing it adds a test that its shutdown logged no
alert.

B<Defaults.> Server sections that many blocks share (C<main_config>,
C<http_config>, C<config>, C<workers>, C<error_log_level>, C<no_module>,
C<backend>) can be written once per file: in a C<=== DEFAULTS> block before
all other blocks, and/or as C<run_blocks(defaults =E<gt> { config =E<gt>
$text, ... })> (the C<DEFAULTS> block wins where both give a section). A
block takes the default of each such section it does not set itself; a
section it sets, even empty, overrides the default. So a block opts out
with its own section: C<--- config> with nothing after it for an empty
server block, C<--- backend> alone for no backend, C<--- http_config> with
the text it needs (an empty one does not bring back the implicit
C<mcp_session_zone>). A default C<no_module> cannot be undone. Defaults are
applied before blocks are compared, so consecutive blocks that take the
same defaults share one nginx.

    === DEFAULTS
    --- backend: example_backend.py
    --- config
    location = /mcp { mcp; mcp_tool add /t/add; }
    location /t/ { internal; proxy_pass http://127.0.0.1:$TEST_BACKEND_PORT/; }

    === TEST 1: the default backend and config
    --- init
    --- request
    POST /mcp
    {"jsonrpc":"2.0","id":2,"method":"tools/list"}

=over

=item Server: main_config, http_config, config, workers, error_log_level, no_module

As for start_nginx. Without C<http_config> the http block gets
C<mcp_session_zone zone=mcp:1m;> unless C<no_module> is given.

=item backend

One C<SCRIPT [ARGS]> per line, run from F<tools/>; their ports are
C<$TEST_BACKEND_PORT>, C<$TEST_BACKEND_PORT_2>, ...

=item init, init_path

C<init: VERSION> (default 2025-06-18) initializes a session at C<init_path>
(default /mcp) as a test of its own. The request then carries
C<Mcp-Session-Id> and C<MCP-Protocol-Version: VERSION>, and C<$SESSION_ID> is
replaced in the request, more_headers and the expectations.

=item request, request_eval

C<METHOD PATH [PROTOCOL]>, then the body. POST, PUT and PATCH without body
lines send an empty body; POST gets C<Content-Type: application/json> and
C<Accept: application/json, text/event-stream>. C<request_eval> is Perl
code returning such text; the running instance is C<$Test::McpNginx::NGINX>.

=item more_headers

C<Name: value> lines replacing defaults of the same name (any case);
C<Name:> alone sends no such header.

=item repeat, timeout

Send the request N times, each answer checked; request timeout in seconds.

=item error_code

Expected status, 200 by default.

=item response_headers

C<Name: value> (a value equals), C<Name: ~ REGEX> (a value matches),
C<!Name> (absent).

=item response_body, response_body_eval, response_body_like, response_body_unlike

Exact body; exact body computed by Perl code; regexes (C</s>).

=item response_json, response_json_subset

Deep equality (key order irrelevant); or every expected key present with a
matching value, arrays of equal length matched element by element, and the
string C<"*ANY*"> matching any value.

=item error_log, no_error_log

Lines that must (must not) appear in what the error log received since the
previous block: substrings, or C<~ REGEX>.

=item must_die

C<nginx -t> must reject the configuration, with output matching the value
if one is given. No request is sent.

=item skip, only

Skip the block (the value is the reason); run only blocks marked C<only>.

=back

Every block that runs nginx also fails on C<[alert]>, C<[crit]>, C<[emerg]>
or C<exited on signal> in the error log.

=cut
