# Unit tests of the request-free protocol core (ngx_http_mcp_jsonrpc.c,
# ngx_http_mcp_protocol.c, ngx_http_mcp_jwt.c): tools/build-core-tests.sh
# builds t/unit/core_test.c with the core and a few nginx objects into
# build/unit/core_test, which prints TAP.  Each of its results is asserted
# here again under the same name (a "# TODO" result stays a TODO), and so
# are its plan and its exit status.
#
# Spec references are in the names of the tests and at the top of
# t/unit/core_test.c.
use strict;
use warnings;
use FindBin;
use Test::More;

my $root = "$FindBin::Bin/..";
my $binary = "$root/build/unit/core_test";

my $log = `cd '$root' && tools/build-core-tests.sh 2>&1`;

if ($? != 0) {
    fail('tools/build-core-tests.sh builds build/unit/core_test');
    diag($log);
    done_testing();
    exit;
}

pass('tools/build-core-tests.sh builds build/unit/core_test');

open(my $tap, '-|', $binary) or die "cannot run $binary: $!";

my ($plan, $count, $last_failed) = (undef, 0, 0);

while (my $line = <$tap>) {
    chomp $line;

    if ($line =~ /^(not )?ok (\d+) - (.*?)(?: # TODO (.*))?$/) {
        my ($not, $n, $name, $todo) = ($1, $2, $3, $4);

        $count++;
        $name = "#$n is out of order: $name" if $n != $count;

        if (defined $todo) {
            TODO: {
                local $TODO = $todo;
                ok(!$not, $name);
            }
            $last_failed = 0;

        } else {
            ok(!$not, $name);
            $last_failed = $not ? 1 : 0;
        }

    } elsif ($line =~ /^1\.\.(\d+)$/) {
        $plan = $1;

    } elsif ($line =~ /^# ?(.*)$/) {
        if ($last_failed) {
            diag($1);
        } else {
            note($1);
        }

    } elsif ($line ne '') {
        fail("core_test printed what is not TAP: $line");
    }
}

close($tap);
my $status = $?;

is($status, 0, 'core_test exits with status 0');
ok(defined $plan, 'core_test prints a plan');
is($count, $plan // -1, 'core_test ran as many tests as its plan says');

done_testing();
