#!/usr/bin/env bash
# Run the official MCP conformance suite's server scenarios against a running
# MCP server and hold the outcome to t/conformance/expected-failures.txt.
#
# usage: t/conformance/run.sh [options] URL [SCENARIO...]
#
#   URL                  the server's MCP endpoint, e.g. http://127.0.0.1:8081/mcp
#   SCENARIO...          run only these scenarios (default: every server scenario)
#
# options:
#   --expected-failures FILE   baseline file (default: expected-failures.txt here)
#   --results-dir DIR          where per-scenario logs and checks.json go
#                              (default: build/conformance/results; emptied first)
#   --timeout SECONDS          limit for one scenario (default: 120)
#   --list                     print the server scenario names and exit
#   -h, --help                 this text
#
# The suite (@modelcontextprotocol/conformance, pinned in package-lock.json)
# needs Node >= 22; the `node` package in the same lockfile provides it, so
# the system node is not used.  A missing install is done with `npm ci`
# unless CONFORMANCE_NO_INSTALL=1.  CONFORMANCE_NODE overrides the node
# binary.
#
# expected-failures.txt lists one scenario per line, with the reason after a
# `#`:
#
#     tools-call-sampling   # needs server-to-client sampling/createMessage
#
# Each scenario is run on its own with the CLI's --expected-failures option
# (the file is converted to the CLI's YAML baseline format), so the CLI itself
# judges it.  Every scenario ends as one of:
#
#   PASS   passes and is not listed
#   XFAIL  fails and is listed (expected)
#   FAIL   fails and is not listed                  -> run fails
#   XPASS  passes but is listed (stale entry)       -> run fails
#   ERROR  timed out, crashed, or the CLI's verdict
#          disagrees with its own checks.json       -> run fails
#
# A scenario counts as failed when any of its checks is FAILURE or WARNING,
# the rule the CLI applies to baselines.  Exit status: 0 when every scenario
# ended PASS or XFAIL, 1 otherwise, 2 on usage or setup errors.  The last
# line reads "conformance: P passed, F failed, X skipped": P scenarios PASS,
# F ended FAIL, XPASS or ERROR, X are expected failures (XFAIL).

set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
    sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

die() {
    echo "run.sh: $*" >&2
    exit 2
}

baseline="$here/expected-failures.txt"
results="$repo/build/conformance/results"
scenario_timeout=120
list_only=0
url=""
selected=()

while [ $# -gt 0 ]; do
    case "$1" in
        --expected-failures) [ $# -ge 2 ] || die "$1 needs a value"; baseline=$2; shift 2 ;;
        --expected-failures=*) baseline=${1#*=}; shift ;;
        --results-dir) [ $# -ge 2 ] || die "$1 needs a value"; results=$2; shift 2 ;;
        --results-dir=*) results=${1#*=}; shift ;;
        --timeout) [ $# -ge 2 ] || die "$1 needs a value"; scenario_timeout=$2; shift 2 ;;
        --timeout=*) scenario_timeout=${1#*=}; shift ;;
        --list) list_only=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) break ;;
    esac
done

if [ "$list_only" = 0 ]; then
    [ $# -ge 1 ] || { usage >&2; exit 2; }
    url=$1
    shift
    selected=("$@")
    case "$url" in
        http://*|https://*) ;;
        *) die "URL must start with http:// or https://, got '$url'" ;;
    esac
fi
case "$scenario_timeout" in
    ''|*[!0-9]*) die "--timeout needs a whole number of seconds" ;;
esac

# ---------------------------------------------------------------- the suite

cli="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
node=${CONFORMANCE_NODE:-$here/node_modules/.bin/node}

need_install=0
[ -f "$cli" ] || need_install=1
if [ -z "${CONFORMANCE_NODE:-}" ] && [ ! -x "$node" ]; then
    need_install=1
fi
if [ "$need_install" = 1 ]; then
    if [ "${CONFORMANCE_NO_INSTALL:-0}" = 1 ]; then
        die "the conformance suite is not installed; run: npm ci --prefix $here"
    fi
    command -v npm >/dev/null || die "npm is needed to install the conformance suite"
    echo "run.sh: installing the conformance suite (npm ci --prefix $here)" >&2
    npm ci --prefix "$here" --no-audit --no-fund >&2 || die "npm ci failed"
fi
[ -f "$cli" ] || die "conformance CLI not found at $cli"
[ -x "$node" ] || die "node not found at $node"

node_version=$("$node" --version 2>/dev/null) || die "cannot run $node"
node_major=${node_version#v}
node_major=${node_major%%.*}
case "$node_major" in
    ''|*[!0-9]*) die "cannot parse node version '$node_version'" ;;
esac
[ "$node_major" -ge 22 ] || die "the conformance CLI needs Node >= 22, $node is $node_version"

mapfile -t all_scenarios < <("$node" "$cli" list --server | sed -n 's/^  - \([^ ]*\).*/\1/p')
[ "${#all_scenarios[@]}" -gt 0 ] || die "the conformance CLI listed no server scenarios"

if [ "$list_only" = 1 ]; then
    printf '%s\n' "${all_scenarios[@]}"
    exit 0
fi

declare -A known=()
for s in "${all_scenarios[@]}"; do
    known[$s]=1
done

# ------------------------------------------------------ expected failures

trim() {
    local s=$1
    s=${s#"${s%%[![:space:]]*}"}
    s=${s%"${s##*[![:space:]]}"}
    printf '%s' "$s"
}

[ -f "$baseline" ] || die "expected-failures file not found: $baseline"

declare -A expected=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    entry=$(trim "${line%%#*}")
    [ -n "$entry" ] || continue
    reason=""
    case "$line" in
        *'#'*) reason=$(trim "${line#*#}") ;;
    esac
    case "$entry" in
        *[[:space:]]*) die "$baseline:$lineno: one scenario name per line, got '$entry'" ;;
    esac
    [ -n "${known[$entry]:-}" ] || die "$baseline:$lineno: '$entry' is not a server scenario of this suite"
    [ -z "${expected[$entry]+x}" ] || die "$baseline:$lineno: '$entry' is listed twice"
    [ -n "$reason" ] || die "$baseline:$lineno: '$entry' needs a reason after '#'"
    expected[$entry]=$reason
done < "$baseline"

if [ "${#selected[@]}" -eq 0 ]; then
    selected=("${all_scenarios[@]}")
else
    for s in "${selected[@]}"; do
        [ -n "${known[$s]:-}" ] || die "'$s' is not a server scenario (see --list)"
    done
fi

rm -rf "$results"
mkdir -p "$results" || die "cannot create $results"
results=$(cd "$results" && pwd)

yaml="$results/expected-failures.yml"
{
    echo "# generated by t/conformance/run.sh from $baseline"
    echo "server:"
    for s in "${all_scenarios[@]}"; do
        [ -n "${expected[$s]+x}" ] && printf "  - '%s'\n" "$s"
    done
} > "$yaml"
# An empty list must still be a list for the CLI.
grep -q "^  - " "$yaml" || sed -i 's/^server:$/server: []/' "$yaml"

# ----------------------------------------------------------------- the run

suite_version=$("$node" "$cli" --version 2>/dev/null || echo unknown)
echo "MCP conformance suite $suite_version (Node $node_version) against $url"
echo "per scenario: node $cli server --url $url --scenario NAME --expected-failures $yaml -o $results/NAME"
echo

n_pass=0 n_xfail=0 n_fail=0 n_xpass=0 n_error=0

report() {
    printf '%-6s %-32s %s\n' "$1" "$2" "$3"
}

for name in "${selected[@]}"; do
    dir="$results/$name"
    mkdir -p "$dir"
    log="$dir/output.log"

    timeout --kill-after=10 "$scenario_timeout" \
        "$node" "$cli" server --url "$url" --scenario "$name" \
        --expected-failures "$yaml" -o "$dir" > "$log" 2>&1
    rc=$?

    listed=0
    [ -n "${expected[$name]+x}" ] && listed=1

    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        n_error=$((n_error + 1))
        report ERROR "$name" "timed out after ${scenario_timeout}s (log: $log)"
        continue
    fi

    checks=$(find "$dir" -mindepth 2 -maxdepth 2 -name checks.json -print -quit)
    if [ -z "$checks" ]; then
        n_error=$((n_error + 1))
        report ERROR "$name" "no checks.json, CLI exit status $rc (log: $log)"
        tail -n 5 "$log" | sed 's/^/         | /'
        continue
    fi

    summary=$("$node" "$here/checks-summary.mjs" "$checks") || {
        n_error=$((n_error + 1))
        report ERROR "$name" "unreadable $checks"
        continue
    }
    read -r n_ok n_bad n_warn <<< "$(head -n 1 <<< "$summary")"
    problems=$(tail -n +2 <<< "$summary")

    failed=0
    [ $((n_bad + n_warn)) -gt 0 ] && failed=1

    if [ "$failed" = 0 ] && [ "$listed" = 0 ]; then
        outcome=PASS want_rc=0
    elif [ "$failed" = 1 ] && [ "$listed" = 1 ]; then
        outcome=XFAIL want_rc=0
    elif [ "$failed" = 1 ]; then
        outcome=FAIL want_rc=1
    else
        outcome=XPASS want_rc=1
    fi

    if [ "$rc" -ne "$want_rc" ]; then
        n_error=$((n_error + 1))
        report ERROR "$name" "checks say $outcome but the CLI exited $rc (log: $log)"
        continue
    fi

    case "$outcome" in
        PASS)
            n_pass=$((n_pass + 1))
            report PASS "$name" "$n_ok check(s) passed"
            ;;
        XFAIL)
            n_xfail=$((n_xfail + 1))
            report XFAIL "$name" "expected: ${expected[$name]}"
            ;;
        FAIL)
            n_fail=$((n_fail + 1))
            report FAIL "$name" "$n_bad failed, $n_warn warning(s) (log: $log)"
            [ -n "$problems" ] && sed 's/^/         | /' <<< "$problems"
            ;;
        XPASS)
            n_xpass=$((n_xpass + 1))
            report XPASS "$name" "passes but is listed in $(basename "$baseline"): remove the entry"
            ;;
    esac
done

bad=$((n_fail + n_xpass + n_error))
echo
echo "scenarios: ${#selected[@]} run; PASS $n_pass, XFAIL $n_xfail, FAIL $n_fail, XPASS $n_xpass, ERROR $n_error"
echo "results: $results"
# expected failures are reported as skipped: they ran, but prove nothing new
echo "conformance: $n_pass passed, $bad failed, $n_xfail skipped"
[ "$bad" -eq 0 ]
