#!/usr/bin/env bash
# make bench: throughput, latency and memory of the module against two
# baselines measured in the same run on the same machine:
#   - plain nginx proxy_pass to the same tool backend (the floor: what nginx
#     costs without the MCP layer),
#   - the official TypeScript SDK's MCP server (tools/bench/sdk-server.mjs),
#   - the TypeScript fastmcp framework's server (tools/bench/fastmcp-server.mjs);
#     both forward each tools/call to the same backend, as the module does.
# The tool backend is a second, plain nginx answering {"ok":true} from
# memory, so that it is never what is measured.  Load comes from wrk with
# tools/bench/post.lua, which checks every answer: a run with a single
# error, non-2xx status or wrong body is reported as FAILED and the exit
# status is 1.  Each run measures requests/s, latency percentiles and the CPU
# time the serving processes spent per request; memory is the VmRSS of the
# module's workers and of the node process.  The absolute numbers depend on
# the machine; the ratios are the result.
#
#     tools/bench/run.sh [NGINX]      NGINX: the nginx binary (/usr/sbin/nginx)
#
# Environment:
#   BENCH_SECONDS      length of each measured run (default 10)
#   BENCH_WARMUP       unmeasured run before each one, in seconds (default 2)
#   BENCH_CONNECTIONS  concurrent connections (default 32)
#   BENCH_SWEEP        other connection counts tools/call is also measured at
#                      (default "1 50")
#   BENCH_THREADS      wrk threads (default 2)
#   MCP_MODULE         the module (default build/ngx_http_mcp_module.so)
#   MCP_PROTOCOL       protocol revision asked for in initialize (default 2025-11-25)
#   BENCH_KEEP         1 keeps the run directory build/bench/run.* afterwards
#
# Everything listens on 127.0.0.1 on free ports and is stopped on exit.
# Exit status: 0 after a complete run, 1 when a run had errors or a wrong
# answer, 2 when setting up failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-2}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
nginx=${1:-/usr/sbin/nginx}
# nginx takes NGINX in its environment for inherited listening sockets
unset NGINX
protocol=${MCP_PROTOCOL:-2025-11-25}
module=${MCP_MODULE:-$root/build/ngx_http_mcp_module.so}
sdk_dir=$root/t/node
fastmcp_dir=$root/tools/bench/node
sweep=${BENCH_SWEEP-1 50}
lua=$root/tools/bench/post.lua

midline=
die() {
    # a progress line may be open on stderr
    [ -n "$midline" ] && echo >&2
    echo "bench: $*" >&2
    exit 2
}

for n in "$seconds" "$warmup" "$connections" "$threads" $sweep; do
    [[ "$n" =~ ^[0-9]+$ ]] || die "BENCH_SECONDS, BENCH_WARMUP, BENCH_CONNECTIONS and BENCH_THREADS take whole numbers, not '$n'"
done
[ "$seconds" -ge 1 ] || die "BENCH_SECONDS must be at least 1"
if [ "$threads" -lt 1 ] || [ "$connections" -lt "$threads" ]; then
    die "BENCH_CONNECTIONS must be at least BENCH_THREADS, and BENCH_THREADS at least 1"
fi

command -v wrk >/dev/null 2>&1 || die "wrk is missing (tools/install-deps.sh bench, or apt-get install wrk)"
command -v node >/dev/null 2>&1 || die "node is missing (tools/install-deps.sh bench)"
command -v curl >/dev/null 2>&1 || die "curl is missing"
command -v python3 >/dev/null 2>&1 || die "python3 is missing"
[ -x "$nginx" ] || die "no nginx at $nginx"
[ -f "$module" ] || die "$module is missing (make)"
[ -d "$sdk_dir/node_modules/@modelcontextprotocol/sdk" ] \
    || die "the MCP SDK is missing in $sdk_dir/node_modules (npm ci --prefix t/node)"
[ -d "$fastmcp_dir/node_modules/fastmcp" ] \
    || die "fastmcp is missing in $fastmcp_dir/node_modules (tools/install-deps.sh bench)"

mkdir -p build/bench
dir=$(mktemp -d "$root/build/bench/run.XXXXXX")

backend_pid=
gateway_pid=
sdk_pid=
fastmcp_pid=
wrk_pid=

# shellcheck disable=SC2317  # stop_pid and cleanup run from the trap
stop_pid() {
    # TERM, then KILL if it has not gone within five seconds
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    [ -n "$midline" ] && echo >&2
    stop_pid "$wrk_pid"
    stop_pid "$sdk_pid"
    stop_pid "$fastmcp_pid"
    stop_pid "$gateway_pid"
    stop_pid "$backend_pid"
    if [ "$status" -ne 0 ]; then
        echo "bench: logs kept in $dir" >&2
    elif [ "${BENCH_KEEP:-0}" != 1 ]; then
        rm -rf "$dir"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- ports -----------------------------------------------------------------

# Three free ports, held together while they are chosen so they differ.
read -r backend_port gateway_port fastmcp_port < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(3):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
EOF
)

# --- configurations --------------------------------------------------------

user_line=
[ "$(id -u)" = 0 ] && user_line='user root;'

mkdir -p "$dir/backend/logs" "$dir/backend/temp" "$dir/gateway/logs" "$dir/gateway/temp"

# Settings both nginx instances share: no access log (the SDK server keeps
# none either) and keepalive connections that are never closed for their
# number of requests, so that reconnecting is not part of what is measured.
common_http="
    access_log off;
    server_tokens off;
    keepalive_requests 1000000;
    client_body_temp_path temp/client_body;
    proxy_temp_path       temp/proxy;
    fastcgi_temp_path     temp/fastcgi;
    uwsgi_temp_path       temp/uwsgi;
    scgi_temp_path        temp/scgi;"

cat > "$dir/backend/nginx.conf" <<EOF
$user_line
daemon off;
master_process on;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
$common_http
    server {
        listen 127.0.0.1:$backend_port;
        location / {
            default_type application/json;
            return 200 '{"ok":true}';
        }
    }
}
EOF

cat > "$dir/gateway/nginx.conf" <<EOF
load_module $module;
$user_line
daemon off;
master_process on;
worker_processes 2;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
$common_http

    mcp_session_zone zone=bench:1m idle_timeout=1h;

    upstream tool_backend {
        server 127.0.0.1:$backend_port;
        keepalive 64;
        keepalive_requests 1000000;
    }

    server {
        # reuseport: the kernel spreads the client connections over both
        # workers; without it one worker may accept most of them, and a
        # run's numbers depend on which one woke first
        listen 127.0.0.1:$gateway_port reuseport;

        location = /mcp {
            mcp;
            mcp_server_info nginx-bench 1.0.0;
            mcp_tool echo /tools/echo;
            # every connection of the load generator drives one session
            mcp_max_session_requests 0;
        }

        location /tools/ {
            internal;
            proxy_pass http://tool_backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

        # the baseline: the same upstream, the same settings, no MCP
        location = /plain {
            proxy_pass http://tool_backend/echo;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF

# --- start -----------------------------------------------------------------

wait_http() {
    # wait_http NAME PID URL LOG: until URL answers at all, or PID is gone
    local name=$1 pid=$2 url=$3 log=$4
    for _ in $(seq 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -5 "$log" >&2
            die "$name exited on start (see $log)"
        fi
        curl -s -o /dev/null --max-time 1 "$url" && return 0
        sleep 0.1
    done
    die "$name does not answer on $url (see $log)"
}

for name in backend gateway; do
    "$nginx" -p "$dir/$name/" -c nginx.conf -t -q 2>"$dir/$name/logs/test.log" \
        || { cat "$dir/$name/logs/test.log" >&2; die "nginx -t failed for the $name"; }
done

"$nginx" -p "$dir/backend/" -c nginx.conf 2>>"$dir/backend/logs/error.log" &
backend_pid=$!
"$nginx" -p "$dir/gateway/" -c nginx.conf 2>>"$dir/gateway/logs/error.log" &
gateway_pid=$!
node "$root/tools/bench/sdk-server.mjs" --sdk-dir "$sdk_dir" --port 0 \
    --port-file "$dir/sdk.port" --backend "http://127.0.0.1:$backend_port/echo" \
    >"$dir/sdk.log" 2>&1 &
sdk_pid=$!
node "$root/tools/bench/fastmcp-server.mjs" --dir "$fastmcp_dir" --port "$fastmcp_port" \
    --backend "http://127.0.0.1:$backend_port/echo" >"$dir/fastmcp.log" 2>&1 &
fastmcp_pid=$!

wait_http "backend nginx" "$backend_pid" "http://127.0.0.1:$backend_port/" \
    "$dir/backend/logs/error.log"
wait_http "nginx with the module" "$gateway_pid" "http://127.0.0.1:$gateway_port/plain" \
    "$dir/gateway/logs/error.log"
for _ in $(seq 100); do
    kill -0 "$sdk_pid" 2>/dev/null || { cat "$dir/sdk.log" >&2; die "the SDK server exited on start"; }
    [ -s "$dir/sdk.port" ] && break
    sleep 0.1
done
[ -s "$dir/sdk.port" ] || die "the SDK server did not start"
sdk_port=$(tr -d '\n' < "$dir/sdk.port")
for _ in $(seq 100); do
    kill -0 "$fastmcp_pid" 2>/dev/null \
        || { cat "$dir/fastmcp.log" >&2; die "the fastmcp server exited on start"; }
    grep -q '^fastmcp-server .* listening' "$dir/fastmcp.log" && break
    sleep 0.1
done
grep -q '^fastmcp-server .* listening' "$dir/fastmcp.log" || die "the fastmcp server did not start"

gateway_url=http://127.0.0.1:$gateway_port/mcp
plain_url=http://127.0.0.1:$gateway_port/plain
sdk_url=http://127.0.0.1:$sdk_port/mcp
fastmcp_url=http://127.0.0.1:$fastmcp_port/mcp

# --- sessions --------------------------------------------------------------

# Every run gets a session of its own, opened with initialize just before
# it and ended with DELETE just after: a server that keeps state per request
# in a session then makes no later run pay for an earlier one.

json_field() {
    # json_field FILE PATH...: print one field of the JSON in FILE
    python3 - "$@" <<'EOF'
import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2:]:
    value = value[key]
print(value)
EOF
}

mcp_request() {
    # mcp_request HTTP-METHOD URL NAME BODY [SESSION VERSION]: the answer's
    # headers go to NAME.h, its body to NAME.b; prints the status
    local method=$1 url=$2 name=$3 body=$4 session=${5:-} version=${6:-}
    local extra=()
    [ -n "$session" ] && extra+=(-H "Mcp-Session-Id: $session")
    [ -n "$version" ] && extra+=(-H "MCP-Protocol-Version: $version")
    [ "$method" = POST ] && extra+=(--data-binary "$body")
    curl -s --max-time 10 -X "$method" -o "$dir/$name.b" -D "$dir/$name.h" -w '%{http_code}' \
        -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' \
        "${extra[@]}" "$url" || true
}

session=
version=

open_session() {
    # open_session LABEL URL NAME: initialize, then notifications/initialized;
    # sets session and version
    local label=$1 url=$2 name=$3 status
    status=$(mcp_request POST "$url" "$name-initialize" \
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'"$protocol"'","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}')
    [ "$status" = 200 ] \
        || die "$label: initialize answered $status: $(head -c 300 "$dir/$name-initialize.b" 2>/dev/null)"
    session=$(tr -d '\r' < "$dir/$name-initialize.h" | awk 'tolower($1) == "mcp-session-id:" { print $2 }')
    [ -n "$session" ] || die "$label: initialize returned no Mcp-Session-Id"
    version=$(json_field "$dir/$name-initialize.b" result protocolVersion 2>/dev/null) \
        || die "$label: initialize returned no protocolVersion: $(head -c 300 "$dir/$name-initialize.b")"
    status=$(mcp_request POST "$url" "$name-initialized" \
        '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$session" "$version")
    [ "$status" = 202 ] || die "$label: notifications/initialized answered $status"
}

close_session() {
    # close_session LABEL URL NAME: DELETE the session
    local label=$1 url=$2 name=$3 status
    status=$(mcp_request DELETE "$url" "$name-delete" '' "$session" "$version")
    case $status in
        200|202|204) ;;
        *) die "$label: DELETE of the session answered $status" ;;
    esac
    session=
}

# --- processes -------------------------------------------------------------

proc_kb() {
    # proc_kb FIELD PID...: the sum of a /proc/PID/status field (VmRSS,
    # VmHWM) of the processes, in kB
    local field=$1 total=0 pid kb
    shift
    for pid in "$@"; do
        kb=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

cpu_ticks() {
    # cpu_ticks PID...: user + system CPU time of the processes, in clock ticks
    local total=0 pid ticks
    for pid in "$@"; do
        ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || true)
        total=$((total + ${ticks:-0}))
    done
    echo "$total"
}

children() {
    # children PID: the processes whose parent is PID
    local status
    for status in /proc/[0-9]*/status; do
        awk -v parent="$1" '$1 == "PPid:" && $2 == parent { found = 1 } END { exit !found }' \
            "$status" 2>/dev/null && basename "$(dirname "$status")"
    done
    return 0
}

workers_of() {
    # workers_of LABEL MASTER COUNT: the pids of the master's COUNT workers
    local label=$1 master=$2 count=$3 list
    for _ in $(seq 50); do
        list=$(children "$master" | tr '\n' ' ')
        [ "$(wc -w <<< "$list")" -ge "$count" ] && { echo "$list"; return 0; }
        sleep 0.1
    done
    die "$label: expected $count worker processes under the master $master, found: ${list:-none}"
}

gateway_workers=$(workers_of "nginx with the module" "$gateway_pid" 2)
backend_workers=$(workers_of "backend nginx" "$backend_pid" 1)
read -r -a gateway_pids <<< "$gateway_workers"
read -r -a backend_pids <<< "$backend_workers"

declare -A rss_before
rss_before[gateway]=$(proc_kb VmRSS "${gateway_pids[@]}")
rss_before[sdk]=$(proc_kb VmRSS "$sdk_pid")
rss_before[fastmcp]=$(proc_kb VmRSS "$fastmcp_pid")

# --- runs ------------------------------------------------------------------

declare -A result
failed=0
clock_ticks=$(getconf CLK_TCK)

field() {
    # field KEY NAME: one value of a run's result
    local pair
    for pair in ${result[$1]}; do
        [ "${pair%%=*}" = "$2" ] && { echo "${pair#*=}"; return 0; }
    done
    echo 0
}

rate() {
    # rate KEY: requests per second
    awk -v r="$(field "$1" requests)" -v d="$(field "$1" duration_us)" \
        'BEGIN { printf "%.0f", (d > 0) ? r / (d / 1e6) : 0 }'
}

ms() {
    # ms KEY NAME: a latency in milliseconds
    awk -v us="$(field "$1" "$2")" 'BEGIN { printf "%.2f", us / 1000 }'
}

cpu_per_request() {
    # cpu_per_request KEY NAME: CPU microseconds per request, or "-"
    awk -v t="$(field "$1" "$2")" -v r="$(field "$1" requests)" -v hz="$clock_ticks" \
        'BEGIN { if (t > 0 && r > 0) printf "%.1f", t / hz * 1e6 / r; else printf "-" }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "n/a" }'
}

wrk_run() {
    # wrk_run SECONDS URL OUT: one wrk run with post.lua (waited for in the
    # background, so that a signal stops the benchmark at once)
    local status=0 t=$threads
    [ "$t" -gt "$conns" ] && t=$conns
    wrk -t "$t" -c "$conns" -d "${1}s" -s "$lua" "$2" >"$3" 2>&1 &
    wrk_pid=$!
    wait "$wrk_pid" || status=$?
    wrk_pid=
    return "$status"
}

run() {
    # run KEY LABEL SERVER METHOD EXPECT REJECT [CONNECTIONS]
    # SERVER: plain (/plain, no session), gateway (the module), sdk or
    # fastmcp.
    # Every answer must be a 200 whose body contains EXPECT and not REJECT.
    local key=$1 label=$2 server=$3 method=$4 expect=$5 reject=$6
    conns=${7:-$connections}
    local url pids out=$dir/wrk-$key.txt line status cpu backend_cpu
    case $server in
        plain)   url=$plain_url;   pids=("${gateway_pids[@]}") ;;
        gateway) url=$gateway_url; pids=("${gateway_pids[@]}") ;;
        sdk)     url=$sdk_url;     pids=("$sdk_pid") ;;
        fastmcp) url=$fastmcp_url; pids=("$fastmcp_pid") ;;
    esac
    local body='{"jsonrpc":"2.0","id":1,"method":"'"$method"'"'
    [ "$method" = tools/call ] && body+=',"params":{"name":"echo","arguments":{}}'
    body+='}'
    export BENCH_METHOD=$method BENCH_EXPECT=$expect BENCH_REJECT=$reject
    printf '  %-24s' "$label${7:+ ($conns conn.)}" >&2
    midline=1

    # warm-up, in a session of its own
    [ "$server" = plain ] || open_session "$label" "$url" "$key-warmup"
    # the same request once with curl: a wrong answer stops here, before any load
    status=$(mcp_request POST "$url" "$key-check" "$body" "$session" "$version")
    if [ "$status" != 200 ] || ! grep -qF -- "$expect" "$dir/$key-check.b" \
        || { [ -n "$reject" ] && grep -qF -- "$reject" "$dir/$key-check.b"; }; then
        die "$label: the check request answered $status: $(head -c 300 "$dir/$key-check.b")"
    fi
    if [ "$warmup" -gt 0 ]; then
        printf ' warm-up %ss,' "$warmup" >&2
        export MCP_SESSION_ID=$session MCP_PROTOCOL_VERSION=$version
        wrk_run "$warmup" "$url" "$dir/warmup-$key.txt" \
            || die "$label: wrk failed (warm-up): $(cat "$dir/warmup-$key.txt")"
        grep -q '^BENCHRESULT .* non2xx=0 .* bad=0 ' "$dir/warmup-$key.txt" \
            || printf ' (errors in the warm-up: %s)' "$dir/warmup-$key.txt" >&2
    fi
    [ "$server" = plain ] || close_session "$label" "$url" "$key-warmup"

    # the measured run, in a new session
    [ "$server" = plain ] || open_session "$label" "$url" "$key"
    export MCP_SESSION_ID=$session MCP_PROTOCOL_VERSION=$version
    printf ' %ss ...' "$seconds" >&2
    cpu=$(cpu_ticks "${pids[@]}")
    backend_cpu=$(cpu_ticks "${backend_pids[@]}")
    wrk_run "$seconds" "$url" "$out" || die "$label: wrk failed: $(cat "$out")"
    cpu=$(( $(cpu_ticks "${pids[@]}") - cpu ))
    backend_cpu=$(( $(cpu_ticks "${backend_pids[@]}") - backend_cpu ))
    [ "$server" = plain ] || close_session "$label" "$url" "$key"

    line=$(grep '^BENCHRESULT ' "$out" || true)
    [ -n "$line" ] || die "$label: no result from wrk: $(cat "$out")"
    result[$key]="${line#BENCHRESULT } cpu_ticks=$cpu backend_ticks=$backend_cpu"

    local requests non2xx errors bad
    requests=$(field "$key" requests)
    non2xx=$(field "$key" non2xx)
    bad=$(field "$key" bad)
    errors=$(( $(field "$key" connect) + $(field "$key" read) + $(field "$key" write) + $(field "$key" timeout) ))
    if [ "$requests" -eq 0 ] || [ "$non2xx" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$errors" -ne 0 ]; then
        result[$key]+=" failed=1"
        failed=1
        echo " FAILED" >&2
        midline=
        {
            echo "bench: $label: $requests requests, $non2xx non-2xx, $bad wrong answers, $errors socket errors"
            grep '^BENCHBAD ' "$out" | sed 's/^BENCHBAD /bench:   first wrong answer: /' || true
            grep -E 'Socket errors|Non-2xx' "$out" | sed 's/^/bench:   wrk: /' || true
        } >&2
    else
        echo " $(rate "$key") req/s" >&2
        midline=
    fi
}

# the negotiated revisions, for the header
open_session "nginx with the module" "$gateway_url" gateway-version
gateway_version=$version
close_session "nginx with the module" "$gateway_url" gateway-version
open_session "the SDK server" "$sdk_url" sdk-version
sdk_protocol=$version
close_session "the SDK server" "$sdk_url" sdk-version
open_session "the fastmcp server" "$fastmcp_url" fastmcp-version
fastmcp_protocol=$version
close_session "the fastmcp server" "$fastmcp_url" fastmcp-version

cores=$(nproc)
# how busy the machine is without the benchmark's load: other work on it
# skews every number
busy_before=$(
    { head -1 /proc/stat; sleep 1; head -1 /proc/stat; } | awk '
        { idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i }
        NR == 1 { idle0 = idle; total0 = total }
        NR == 2 { printf "%.0f", (total > total0) ? 100 * (1 - (idle - idle0) / (total - total0)) : 0 }'
)
busy_note=
[ "${busy_before:-0}" -ge 20 ] \
    && busy_note=" -- WARNING: something else is using the CPU; the numbers are skewed"
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
nginx_version=$("$nginx" -v 2>&1 | sed 's/^nginx version: //')
sdk_version=$(sed -n 's/^sdk-server \([^ ]*\) .*/\1/p' "$dir/sdk.log")
fastmcp_version=$(sed -n 's/^fastmcp-server \([^ ]*\) .*/\1/p' "$dir/fastmcp.log")
wrk_version=$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }' || true)

cat <<EOF
ngx_mcp_module benchmark
  machine: $cores cores${cpu_model:+, $cpu_model}, $(uname -sr)
  CPU busy before the runs (servers idle): ${busy_before}%$busy_note
  NOTE: the load generator (wrk, $threads threads), nginx with the module
        (2 workers), the backend nginx (1 worker) and node (1 process each)
        all share these $cores cores; absolute numbers say little, compare
        the ratios.
  versions: $nginx_version, node $(node -v), @modelcontextprotocol/sdk ${sdk_version:-?},
        fastmcp ${fastmcp_version:-?}, wrk ${wrk_version:-?}
  load: $connections connections (tools/call also at: ${sweep:-none}), ${seconds}s per run
        after a ${warmup}s warm-up; a new session for each, protocol
        $gateway_version (module), $sdk_protocol (SDK), $fastmcp_protocol (fastmcp)
  tool backend: plain nginx, return 200 '{"ok":true}', keepalive upstream

EOF

# What every answer must contain (and must not): the tool's text for
# tools/call, an empty result for ping.
tool_text='"text":"{\"ok\":true}"'

echo "runs:" >&2
run plain "plain nginx proxy_pass" plain   tools/call '{"ok":true}' ''
run mping "module ping"            gateway ping       '"result":{}' '"error"'
run mcall "module tools/call"      gateway tools/call "$tool_text" '"isError":true'
run sping "SDK ping"               sdk     ping       '"result":{}' '"error"'
run scall "SDK tools/call"         sdk     tools/call "$tool_text" '"isError":true'
run fcall "fastmcp tools/call"     fastmcp tools/call "$tool_text" '"isError":true'
for c in $sweep; do
    run "plain$c" "plain nginx proxy_pass" plain   tools/call '{"ok":true}' '' "$c"
    run "mcall$c" "module tools/call"      gateway tools/call "$tool_text" '"isError":true' "$c"
    run "scall$c" "SDK tools/call"         sdk     tools/call "$tool_text" '"isError":true' "$c"
    run "fcall$c" "fastmcp tools/call"     fastmcp tools/call "$tool_text" '"isError":true' "$c"
done
echo >&2

# a worker that crashed and was replaced, or an alert in the error log,
# makes the numbers worthless as well
for pid in "${gateway_pids[@]}" "${backend_pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "bench: nginx worker $pid exited during the runs" >&2
        failed=1
    fi
done
for name in gateway backend; do
    if grep -E '\[(alert|crit|emerg)\]' "$dir/$name/logs/error.log" >&2; then
        echo "bench: alerts in $dir/$name/logs/error.log (above)" >&2
        failed=1
    fi
done

declare -A rss_after peak
rss_after[gateway]=$(proc_kb VmRSS "${gateway_pids[@]}")
rss_after[sdk]=$(proc_kb VmRSS "$sdk_pid")
rss_after[fastmcp]=$(proc_kb VmRSS "$fastmcp_pid")
peak[gateway]=$(proc_kb VmHWM "${gateway_pids[@]}")
peak[sdk]=$(proc_kb VmHWM "$sdk_pid")
peak[fastmcp]=$(proc_kb VmHWM "$fastmcp_pid")

row() {
    printf '%-34s %8s %8s %8s %8s %9s %10s %10s\n' "$@"
}
row "" "req/s" "p50 ms" "p90 ms" "p99 ms" "requests" "CPU us/req" "backend us"
keys="plain mping mcall sping scall fcall"
for c in $sweep; do
    keys+=" plain$c mcall$c scall$c fcall$c"
done
for key in $keys; do
    conn=${key##*[a-z]}
    case ${key%%[0-9]*} in
        plain) label="plain nginx proxy_pass" ;;
        mping) label="module ping" ;;
        mcall) label="module tools/call" ;;
        sping) label="SDK server ping" ;;
        scall) label="SDK server tools/call" ;;
        fcall) label="fastmcp tools/call" ;;
    esac
    label+=" (${conn:-$connections} c)"
    [ "$(field "$key" failed)" = 1 ] && label="$label FAILED"
    row "$label" "$(rate $key)" "$(ms $key p50_us)" "$(ms $key p90_us)" "$(ms $key p99_us)" \
        "$(field $key requests)" "$(cpu_per_request $key cpu_ticks)" "$(cpu_per_request $key backend_ticks)"
done
cat <<EOF
  c: connections.  Every tools/call goes to the backend and back.
  CPU us/req: CPU time of the serving processes (the module's nginx workers,
  or node) per request; backend us: the same for the backend nginx.
EOF

echo
echo "ratios (throughput above 1 and latency below 1 favour the module)"
compare() {
    # compare LABEL KEY BASE
    printf '  %-38s throughput %6s   p50 %6s   p99 %6s   CPU/req %6s\n' "$1" \
        "$(ratio "$(rate "$2")" "$(rate "$3")")" \
        "$(ratio "$(field "$2" p50_us)" "$(field "$3" p50_us)")" \
        "$(ratio "$(field "$2" p99_us)" "$(field "$3" p99_us)")" \
        "$(ratio "$(cpu_per_request "$2" cpu_ticks)" "$(cpu_per_request "$3" cpu_ticks)")"
}
compare "module tools/call / plain proxy_pass" mcall plain
compare "module tools/call / SDK tools/call" mcall scall
compare "module tools/call / fastmcp tools/call" mcall fcall
compare "module ping / SDK ping" mping sping
compare "module tools/call / module ping" mcall mping
for c in $sweep; do
    compare "at $c c: module / plain proxy_pass" "mcall$c" "plain$c"
    compare "at $c c: module / SDK" "mcall$c" "scall$c"
    compare "at $c c: module / fastmcp" "mcall$c" "fcall$c"
done

mb() {
    awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'
}
echo
echo "memory (VmRSS)"
printf '  %-34s %10s %10s %10s\n' "" "before" "after" "peak"
printf '  %-34s %10s %10s %10s\n' "module: nginx workers (${#gateway_pids[@]}, sum)" \
    "$(mb "${rss_before[gateway]}")" "$(mb "${rss_after[gateway]}")" "$(mb "${peak[gateway]}")"
printf '  %-34s %10s %10s %10s\n' "SDK server: node process" \
    "$(mb "${rss_before[sdk]}")" "$(mb "${rss_after[sdk]}")" "$(mb "${peak[sdk]}")"
printf '  %-34s %10s %10s %10s\n' "fastmcp server: node process" \
    "$(mb "${rss_before[fastmcp]}")" "$(mb "${rss_after[fastmcp]}")" "$(mb "${peak[fastmcp]}")"
echo "  before: ahead of the first run; after: after the last, its session ended;"
echo "  peak: VmHWM"

if [ "$failed" -ne 0 ]; then
    echo >&2
    echo "bench: FAILED (see above): these numbers are not valid" >&2
    exit 1
fi
[ "${BENCH_KEEP:-0}" = 1 ] && echo "run directory kept: $dir"
exit 0
