#!/usr/bin/env bash
# make test-nginx NGINX_SRC=DIR: build nginx itself and the module from
# another nginx source tree (a release tarball or a checkout, for example
# the current mainline) and run the suite against that pair, to keep the
# module portable beyond the Debian nginx it ships for.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src=${1:?usage: $0 NGINX_SOURCE_DIR [TEST_FILES...]}
shift
src=$(cd "$src" && pwd)
build=$root/build/other-nginx

# nothing below may rebuild build/ against this tree: a make started from
# "make test-nginx NGINX_SRC=..." would hand NGINX_SRC down to sub-makes
unset MAKEFLAGS MFLAGS MAKELEVEL NGINX_SRC

"$root/tools/build-module.sh" "$src" "$build"
make -s -C "$build/nginx-src" -f objs/Makefile -j2 >/dev/null

nginx=$build/nginx-src/objs/nginx
"$nginx" -V 2>&1 | head -1

cd "$root"
[ $# -gt 0 ] || set -- t/

TEST_NGINX_BINARY=$nginx MCP_MODULE=$build/ngx_http_mcp_module.so \
    prove -r -j2 "$@"
