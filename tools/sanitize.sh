#!/usr/bin/env bash
# make sanitize: the module built with AddressSanitizer and UBSan, loaded
# into the stock nginx with the sanitizer runtimes preloaded, under the
# whole test suite (or the test files given).  Any sanitizer report fails
# the run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-asan
src=${NGINX_SRC:-/usr/share/nginx/src}
cd "$root"

MCP_CC_OPT="-fsanitize=address,undefined -fno-omit-frame-pointer -O1" \
MCP_LD_OPT="-fsanitize=address,undefined" \
    tools/build-module.sh "$src" "$build"

logs=$build/reports
rm -rf "$logs"
mkdir -p "$logs"

wrapper=$build/nginx-sanitized
cat > "$wrapper" <<WRAP
#!/bin/sh
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
exec ${NGINX:-/usr/sbin/nginx} "\$@"
WRAP
chmod +x "$wrapper"

status=0
# TEST_NGINX_SANITIZED: memory figures mean nothing under ASan's quarantine
TEST_NGINX_BINARY=$wrapper MCP_MODULE=$build/ngx_http_mcp_module.so \
TEST_NGINX_SANITIZED=1 \
    prove -j2 "${@:-t/}" || status=$?

if ls "$logs"/* >/dev/null 2>&1; then
    echo "sanitizer reports:" >&2
    cat "$logs"/* >&2
    status=1
fi

exit $status
