#!/usr/bin/env bash
# Builds build/ngx_http_mcp_module.so against an nginx source tree
# (default: Debian's nginx-dev in /usr/share/nginx/src), configured with
# the flags that tree was built with, so the module loads into that nginx.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-/usr/share/nginx/src}
build=${2:-$root/build}
extra_cc=${MCP_CC_OPT:-}
extra_ld=${MCP_LD_OPT:-}

# a release tarball has ./configure; a repository checkout auto/configure
[ -f "$src/configure" ] || [ -f "$src/auto/configure" ] \
    || { echo "no nginx source tree at $src" >&2; exit 1; }

tree=$build/nginx-src
stamp=$build/.configured
mkdir -p "$build"

# nginx's configure writes into its tree; work on a private copy.
if [ ! -f "$tree/configure" ] && [ ! -f "$tree/auto/configure" ] \
   || [ "$src" != "$(cat "$build/.src" 2>/dev/null)" ]
then
    rm -rf "$tree" "$stamp"
    mkdir -p "$tree"
    cp -a "$src/." "$tree/"
    echo "$src" > "$build/.src"
fi

flags=()
if [ -f "$src/conf_flags" ]; then
    # shellcheck disable=SC1091
    . "$src/conf_flags"
    flags=("${NGX_CONF_FLAGS[@]}")
else
    flags=(--with-compat --with-debug --with-http_ssl_module
           --with-http_auth_request_module --with-threads)
fi

want="${flags[*]} | $extra_cc | $extra_ld | $(cat "$root/config")"
if [ ! -f "$stamp" ] || [ "$want" != "$(cat "$stamp")" ]; then
    configure=./configure
    [ -f "$tree/configure" ] || configure=auto/configure

    (cd "$tree" && $configure "${flags[@]}" \
        --with-cc-opt="-Werror -Wall -Wextra -Wno-unused-parameter \
-Wno-missing-field-initializers -fPIC $extra_cc" \
        --with-ld-opt="-fPIC $extra_ld" \
        --add-dynamic-module="$root") > "$build/configure.log" 2>&1 || {
        tail -30 "$build/configure.log" >&2
        exit 1
    }
    printf '%s' "$want" > "$stamp"
fi

make -s -C "$tree" -f objs/Makefile modules
# a new inode: running nginx processes keep the file they mapped
cp "$tree/objs/ngx_http_mcp_module.so" "$build/.ngx_http_mcp_module.so.tmp"
mv -f "$build/.ngx_http_mcp_module.so.tmp" "$build/ngx_http_mcp_module.so"
