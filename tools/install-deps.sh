#!/usr/bin/env bash
# Installs what building, running and testing need, when it is missing:
# Debian packages (as root, with apt-get) and the pinned npm packages of
# the end-to-end and conformance tests (from their lockfiles).
#   tools/install-deps.sh run    packages for make run
#   tools/install-deps.sh test   packages and npm modules for make test
#   tools/install-deps.sh fuzz   packages for make fuzz (clang, libFuzzer)
#   tools/install-deps.sh bench  packages and npm modules for make bench (wrk)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-test}

pkgs=(gcc make nginx nginx-dev libjansson-dev libhiredis-dev libssl-dev
      libpcre2-dev zlib1g-dev python3 perl)
if [ "$what" = fuzz ]; then
    pkgs+=(clang libclang-rt-14-dev)
fi
if [ "$what" = test ]; then
    pkgs+=(redis-server openssl valgrind curl prometheus)
fi
if [ "$what" = bench ]; then
    pkgs+=(wrk curl)
fi
if [ "$what" = test ] || [ "$what" = bench ]; then
    command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "missing Debian packages: ${missing[*]}" >&2
        echo "install them (as root: apt-get install ${missing[*]})" >&2
        exit 1
    fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The distribution's nginx service is not ours to run.
if [ "$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1; then
    systemctl is-active --quiet nginx 2>/dev/null && systemctl stop nginx || true
fi

case $what in
    test)  npm_dirs=(t/node t/conformance) ;;
    bench) npm_dirs=(t/node tools/bench/node) ;;
    *)     npm_dirs=() ;;
esac
if [ ${#npm_dirs[@]} -gt 0 ]; then
    for dir in "${npm_dirs[@]}"; do
        [ -f "$root/$dir/package-lock.json" ] || continue
        lock="$root/$dir/package-lock.json"
        stamp="$root/$dir/node_modules/.installed"
        if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
            (cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error)
            touch "$stamp"
        fi
    done
fi
