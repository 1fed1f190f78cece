#!/usr/bin/env bash
# Builds the unit tests of the module's request-free protocol core
# (ngx_http_mcp_jsonrpc.c, ngx_http_mcp_protocol.c) into build/unit/:
#   tools/build-core-tests.sh          build/unit/core_test
#   tools/build-core-tests.sh --fuzz   also build/unit/fuzz_core and
#                                      build/unit/fuzz_jwt (libFuzzer,
#                                      ASan, UBSan; needs clang)
#
# The core calls a few nginx functions: string formatting and conversion
# (src/core/ngx_string.c), pools (src/core/ngx_palloc.c), arrays
# (src/core/ngx_array.c, for the tool lists of the tests) and allocation
# (src/os/unix/ngx_alloc.c).  Those objects are compiled by the configured
# tree of the module build (build/nginx-src), with its flags; nothing else
# of nginx is linked.  Debian's nginx-dev ships only nginx's headers, so
# these sources come from Debian's nginx source package of the same
# upstream version, fetched once with apt-get source into
# build/nginx-core/; NGINX_CORE_SRC=DIR takes them from an unpacked nginx
# source tree instead.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
tree=$build/nginx-src
out=$build/unit

fuzz=0
for arg in "$@"; do
    case $arg in
        --fuzz) fuzz=1 ;;
        *) echo "usage: $0 [--fuzz]" >&2; exit 2 ;;
    esac
done

core=(src/core/ngx_string src/core/ngx_palloc src/core/ngx_array
      src/os/unix/ngx_alloc)

# one build at a time in build/ (make unit beside make test, say)
mkdir -p "$build"
exec 9>"$build/.core-tests.lock"
flock 9

# the module build configures build/nginx-src
make -s -C "$root"

[ -f "$tree/objs/Makefile" ] || {
    echo "$tree is not configured" >&2
    exit 1
}

version=$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"$/\1/p' \
              "$tree/src/core/nginx.h")
[ -n "$version" ] || { echo "no NGINX_VERSION in $tree" >&2; exit 1; }

cache=$build/nginx-core/$version


# Unpacks those sources of nginx $version into $cache from Debian's
# source package, with the machine's own apt sources as deb-src entries in
# a private apt state under build/apt (the system's apt setup is untouched).
fetch_debian_source() {
    local apt=$build/apt f u v tarball got=0 members
    local opts=(-q
        -o "Dir::Etc::SourceList=$apt/sources.list"
        -o "Dir::Etc::SourceParts=$apt/sources.list.d"
        -o "Dir::State::Lists=$apt/lists"
        -o "Dir::Cache=$apt/cache"
        -o "Debug::NoLocking=1")

    command -v apt-get >/dev/null 2>&1 || {
        echo "nginx $version sources are needed: no apt-get here;" \
             "set NGINX_CORE_SRC to an unpacked nginx-$version tree" >&2
        return 1
    }

    [ "$(id -u)" = 0 ] && opts+=(-o "APT::Sandbox::User=root")

    rm -rf "$apt"
    mkdir -p "$apt/sources.list.d" "$apt/lists/partial" \
             "$apt/cache/archives/partial" "$apt/download"

    if [ -f /etc/apt/sources.list ]; then
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' \
            /etc/apt/sources.list > "$apt/sources.list"
    else
        : > "$apt/sources.list"
    fi

    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sed 's/^Types:.*/Types: deb-src/' "$f" \
            > "$apt/sources.list.d/$(basename "$f")"
    done

    for f in /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" \
            > "$apt/sources.list.d/$(basename "$f")"
    done

    echo "fetching Debian's nginx $version source package" >&2

    apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 || {
        cat "$apt/update.log" >&2
        return 1
    }

    # only the upstream tarball is used: any Debian revision of $version
    for v in $(apt-cache "${opts[@]}" showsrc nginx \
               | sed -n 's/^Version: //p'); do
        u=${v#*:}
        [ "${u%-*}" = "$version" ] || continue

        if (cd "$apt/download" \
            && apt-get "${opts[@]}" source --download-only "nginx=$v") \
            >>"$apt/source.log" 2>&1
        then
            got=1
            break
        fi
    done

    tarball=
    for f in "$apt/download/nginx_$version.orig.tar."*; do
        [ -f "$f" ] && tarball=$f
    done

    if [ "$got" = 0 ] || [ -z "$tarball" ]; then
        cat "$apt/source.log" >&2 2>/dev/null || true
        echo "could not fetch the nginx $version source package;" \
             "set NGINX_CORE_SRC to an unpacked nginx-$version tree" >&2
        return 1
    fi

    rm -rf "$cache.tmp"
    mkdir -p "$cache.tmp"
    members=()
    for f in "${core[@]}"; do
        members+=("nginx-$version/$f.c")
    done
    tar -xf "$tarball" -C "$cache.tmp" --strip-components=1 "${members[@]}"
}


missing=0
for f in "${core[@]}"; do
    [ -f "$tree/$f.c" ] || missing=1
done

if [ "$missing" = 1 ]; then
    if [ -n "${NGINX_CORE_SRC:-}" ]; then
        from=$NGINX_CORE_SRC

    else
        for f in "${core[@]}"; do
            [ -f "$cache/$f.c" ] || rm -rf "$cache"
        done

        if [ ! -d "$cache" ]; then
            fetch_debian_source
            mv "$cache.tmp" "$cache"
        fi
        from=$cache
    fi

    for f in "${core[@]}"; do
        [ -f "$from/$f.c" ] || {
            echo "$from/$f.c is missing" >&2
            exit 1
        }
        cp "$from/$f.c" "$tree/$f.c"
    done
fi

objs=("${core[@]/#/objs/}")
objs=("${objs[@]/%/.o}")

make -s -C "$tree" -f objs/Makefile "${objs[@]}"

mkdir -p "$out"

incs=(-I "$tree/src/core" -I "$tree/src/event" -I "$tree/src/event/modules"
      -I "$tree/src/os/unix" -I "$tree/objs" -I "$root/ngx_mcp_module")
warn=(-Wall -Wextra -Werror -Wno-unused-parameter)
srcs=("$root/ngx_mcp_module/ngx_http_mcp_jsonrpc.c"
      "$root/ngx_mcp_module/ngx_http_mcp_protocol.c"
      "$root/ngx_mcp_module/ngx_http_mcp_jwt.c"
      "$root/ngx_mcp_module/ngx_http_mcp_token.c"
      "$root/t/unit/ngx_runtime.c")
nginx_objs=("${objs[@]/#/$tree/}")

${CC:-cc} -g -O1 "${warn[@]}" "${incs[@]}" -o "$out/core_test" \
    "$root/t/unit/core_test.c" "${srcs[@]}" "${nginx_objs[@]}" -ljansson -lcrypto

if [ "$fuzz" = 1 ]; then
    clang=${FUZZ_CC:-}
    if [ -z "$clang" ]; then
        for c in clang clang-14; do
            command -v "$c" >/dev/null 2>&1 && { clang=$c; break; }
        done
    fi
    [ -n "$clang" ] || {
        echo "the fuzzer needs clang (tools/install-deps.sh fuzz)" >&2
        exit 1
    }

    # nginx's own objects stay uninstrumented; the core is instrumented
    "$clang" -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        "${warn[@]}" -Wno-unused-command-line-argument "${incs[@]}" \
        -o "$out/fuzz_core" "$root/t/unit/fuzz_core.c" "${srcs[@]}" \
        "${nginx_objs[@]}" -ljansson -lcrypto

    "$clang" -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        "${warn[@]}" -Wno-unused-command-line-argument "${incs[@]}" \
        -o "$out/fuzz_jwt" "$root/t/unit/fuzz_jwt.c" \
        "$root/ngx_mcp_module/ngx_http_mcp_jwt.c" \
        "$root/t/unit/ngx_runtime.c" "${nginx_objs[@]}" -ljansson -lcrypto
fi
