#!/usr/bin/env bash
# make run: the example tool backend on 127.0.0.1:9001 and nginx with the
# module on 127.0.0.1:8080 (conf-examples/quickstart.conf), in the
# foreground.  Ctrl-C stops both.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
nginx=${1:-/usr/sbin/nginx}
cd "$root"

mkdir -p build/run

python3 tools/example_backend.py --host 127.0.0.1 --port 9001 &
backend=$!

stop() {
    trap - INT TERM EXIT
    kill "$backend" 2>/dev/null || true
    [ -n "${nginx_pid:-}" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$nginx" -p "$root/" -c conf-examples/quickstart.conf -t -q

echo "MCP endpoint: http://127.0.0.1:8080/mcp (Ctrl-C stops)"
"$nginx" -p "$root/" -c conf-examples/quickstart.conf -e stderr &
nginx_pid=$!
wait "$nginx_pid"
