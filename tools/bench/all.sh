#!/usr/bin/env bash
# make bench: every benchmark in one go, on this machine, and their output
# written to BENCHMARKS.md (or BENCH_OUT) with the machine, the commit and
# the command that produced each table.
#
#     tools/bench/all.sh [NGINX]
#
# The environment of run.sh, sse.pl and cluster.pl applies (BENCH_SECONDS,
# SSE_STREAMS, CLUSTER_MESSAGES, ...).  Exit status: that of the first
# benchmark that failed, 0 when all completed.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

nginx=${1:-/usr/sbin/nginx}
out=${BENCH_OUT:-$root/BENCHMARKS.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the idle-stream run holds thousands of sockets: as many descriptors as
# this shell may have
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

status=0
step() {
    # step NAME COMMAND...: run a benchmark, its output into NAME
    local name=$1 rc
    shift
    echo "== $*" >&2
    "$@" > "$tmp/$name"
    rc=$?
    cat "$tmp/$name" >&2
    if [ "$rc" -ne 0 ]; then
        [ "$status" -eq 0 ] && status=$rc
        echo "(exit status $rc)" >> "$tmp/$name"
    fi
}

start=$(date +%s)
step calls tools/bench/run.sh "$nginx"
step streams env TEST_NGINX_BINARY="$nginx" perl tools/bench/sse.pl
step cluster env TEST_NGINX_BINARY="$nginx" perl tools/bench/cluster.pl
took=$(( $(date +%s) - start ))

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=
git status --porcelain --untracked-files=no 2>/dev/null | grep -q . \
    && dirty=' (with local changes)'

{
    cat <<EOF
# Benchmarks

Written by \`make bench\` (\`tools/bench/all.sh\`) on $(date -u '+%Y-%m-%d %H:%M UTC'),
in ${took} s, at commit ${commit}${dirty}.

Machine: $(nproc) cores, ${cpu:-unknown CPU}, ${mem}, $(uname -sr).
The load generators run on the same cores as the servers they measure, so
the absolute figures depend on the machine and on what else it does; the
ratios, measured side by side in one run, are the result.

## tools/call and ping: the module, plain nginx, the official SDK, fastmcp

\`tools/bench/run.sh\` (wrk with \`tools/bench/post.lua\`, which checks
every answer; the tool backend is a second nginx answering from memory):

\`\`\`
$(cat "$tmp/calls")
\`\`\`

## Server streams: memory per idle stream, capacity, delivery latency

\`perl tools/bench/sse.pl\` (HTTP with SSE streams on raw sockets):

\`\`\`
$(cat "$tmp/streams")
\`\`\`

## Across hosts: delivery through Redis

\`perl tools/bench/cluster.pl\` (two nginx instances sharing a
redis-server):

\`\`\`
$(cat "$tmp/cluster")
\`\`\`
EOF
} > "$out"

echo "bench: $out written (${took} s)" >&2
exit "$status"
