-- wrk script for make bench: POSTs one MCP message per request and checks
-- every answer.
--
-- Environment:
--   BENCH_METHOD          tools/call (the tool "echo", no arguments) or ping
--   MCP_SESSION_ID        the Mcp-Session-Id header (omitted when empty)
--   MCP_PROTOCOL_VERSION  the MCP-Protocol-Version header (omitted when empty)
--   BENCH_EXPECT          text every answer's body must contain
--   BENCH_REJECT          text no answer's body may contain (optional)
--
-- The body is the same on every request but for its JSON-RPC id, which is
-- unique per request: a server may route answers by id within a session, so
-- concurrent requests must not share one.
--
-- done() prints one line, "BENCHRESULT key=value ...", with the totals and
-- the latency percentiles in microseconds; "bad" counts answers that were
-- not 200 or whose body failed the checks.

local method = os.getenv("BENCH_METHOD") or "tools/call"
local expect = os.getenv("BENCH_EXPECT") or ""
local reject = os.getenv("BENCH_REJECT") or ""

local params
if method == "tools/call" then
    params = ',"params":{"name":"echo","arguments":{}}'
elseif method == "ping" then
    params = ""
else
    error("BENCH_METHOD must be tools/call or ping, not " .. method)
end

local head = '{"jsonrpc":"2.0","id":'
local tail = ',"method":"' .. method .. '"' .. params .. '}'

local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
}
local session = os.getenv("MCP_SESSION_ID") or ""
if session ~= "" then headers["Mcp-Session-Id"] = session end
local version = os.getenv("MCP_PROTOCOL_VERSION") or ""
if version ~= "" then headers["MCP-Protocol-Version"] = version end

local threads = {}
local thread_count = 0

function setup(thread)
    thread_count = thread_count + 1
    thread:set("thread_index", thread_count)
    table.insert(threads, thread)
end

function init(args)
    next_id = thread_index * 1000000000
    bad = 0
    first_bad = ""
end

function request()
    next_id = next_id + 1
    local body = head .. string.format("%d", next_id) .. tail
    return wrk.format("POST", nil, headers, body)
end

function response(status, resp_headers, body)
    if status ~= 200
       or not string.find(body, expect, 1, true)
       or (reject ~= "" and string.find(body, reject, 1, true)) then
        bad = bad + 1
        if first_bad == "" then
            first_bad = status .. " " .. string.sub(body, 1, 200)
        end
    end
end

function done(summary, latency, requests)
    local bad_total = 0
    local sample = ""
    for _, thread in ipairs(threads) do
        bad_total = bad_total + (thread:get("bad") or 0)
        local s = thread:get("first_bad") or ""
        if sample == "" and s ~= "" then sample = s end
    end
    local e = summary.errors
    io.write(string.format(
        "BENCHRESULT requests=%d duration_us=%d bytes=%d non2xx=%d"
        .. " connect=%d read=%d write=%d timeout=%d bad=%d"
        .. " p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f\n",
        summary.requests, summary.duration, summary.bytes, e.status,
        e.connect, e.read, e.write, e.timeout, bad_total,
        latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, latency.mean))
    if sample ~= "" then
        io.write("BENCHBAD " .. string.gsub(sample, "[\r\n]", " ") .. "\n")
    end
end
