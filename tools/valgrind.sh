#!/usr/bin/env bash
# make valgrind: the protocol tests (or the test files given) with every
# nginx process under valgrind's memcheck.  Any memcheck error fails the
# run.  Tests that identify worker processes by their command line (the
# harness self-test, worker counts) do not apply under valgrind.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/build/valgrind
cd "$root"

make -s all

rm -rf "$dir"
mkdir -p "$dir/logs"

cat > "$dir/nginx" <<WRAP
#!/bin/sh
exec valgrind --trace-children=yes --child-silent-after-fork=no \\
    --leak-check=no --track-origins=yes \\
    --log-file=$dir/logs/%p.log ${NGINX:-/usr/sbin/nginx} "\$@"
WRAP
chmod +x "$dir/nginx"

[ $# -gt 0 ] || set -- t/0[2-7]*.t t/09*.t t/1[0-3]*.t t/18*.t t/20*.t \
    t/28*.t t/3[2-4]*.t t/3[6-8]*.t

status=0
TEST_NGINX_VALGRIND=1 TEST_NGINX_BINARY=$dir/nginx \
    prove -j2 "$@" || status=$?

runs=$(cat "$dir"/logs/*.log 2>/dev/null | grep -c 'ERROR SUMMARY' || true)
bad=$(grep -l 'ERROR SUMMARY: [1-9]' "$dir"/logs/*.log 2>/dev/null || true)

echo "valgrind: $runs nginx processes checked"

if [ -n "$bad" ]; then
    echo "memcheck errors:" >&2
    cat $bad >&2
    status=1
fi

exit $status
