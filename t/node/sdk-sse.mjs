// End-to-end check of the legacy "HTTP with SSE" transport of the nginx MCP
// module (MCP revision 2024-11-05, basic/transports, "HTTP with SSE") with
// the official MCP TypeScript SDK client's SSEClientTransport.
//
//     node t/node/sdk-sse.mjs URL [--clients N] [--calls N] [--parallel N]
//
// URL is the SSE endpoint (the `mcp` location, e.g. http://127.0.0.1:8080/mcp)
// of an nginx with the example tools `echo` and `add` of
// tools/example_backend.py.  Defaults come from the environment:
// SSE_CLIENTS (4), SSE_CALLS (50 tool calls per client), SSE_PARALLEL (5
// calls in flight per client).
//
// Every client opens its own stream (GET, answered by an `endpoint` event
// naming the URL to POST to), initializes, lists the tools and makes its
// calls; all clients run at the same time.  Every result is checked: `add`
// gets numbers that differ from call to call, `echo` a message naming the
// client and call.  At the end the clients close their streams, which ends
// their sessions: a POST to the old endpoint must then get 404.
//
// Output: "# ..." diagnostic lines, then one line "SUMMARY {json}".  The exit
// status is 0 only when every check passed.
//
// The SDK (1.32.2) brings its own EventSource: client/sse.js imports the
// `eventsource` package (v3, built on fetch), so node needs no polyfill.

import { isDeepStrictEqual, inspect } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

const REQUEST_TIMEOUT_MS = 15000;
const TOTAL_TIMEOUT_MS = Number(process.env.SSE_TOTAL_TIMEOUT_MS || 120000);
const CLOSE_404_WAIT_MS = 10000;

function usage(message) {
    process.stderr.write(`${message}\nusage: node sdk-sse.mjs URL [--clients N] [--calls N] [--parallel N]\n`);
    process.exit(2);
}

function positiveInt(text, what) {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) usage(`${what} must be a positive integer, not ${text}`);
    return n;
}

const argv = process.argv.slice(2);
let endpoint;
let clients = positiveInt(process.env.SSE_CLIENTS ?? '4', 'SSE_CLIENTS');
let calls = positiveInt(process.env.SSE_CALLS ?? '50', 'SSE_CALLS');
let parallel = positiveInt(process.env.SSE_PARALLEL ?? '5', 'SSE_PARALLEL');
for (let i = 0; i < argv.length; i++) {
    const opt = argv[i];
    if (opt === '--clients' || opt === '--calls' || opt === '--parallel') {
        if (i + 1 >= argv.length) usage(`${opt} needs a value`);
        const n = positiveInt(argv[++i], opt);
        if (opt === '--clients') clients = n;
        else if (opt === '--calls') calls = n;
        else parallel = n;
    } else if (endpoint === undefined) {
        endpoint = opt;
    } else {
        usage(`unexpected argument: ${opt}`);
    }
}
endpoint ??= process.env.SSE_URL;
if (endpoint === undefined) usage('missing URL');
let url;
try {
    url = new URL(endpoint);
} catch {
    usage(`not a URL: ${endpoint}`);
}

const started = Date.now();
const failures = [];
const summary = {
    url: url.href,
    clients,
    calls_per_client: calls,
    parallel,
    connected: 0,
    tools_listed: 0,
    calls: 0,               // tool calls made
    results_ok: 0,          // tool calls whose result was the right one
    results_bad: 0,         // tool calls answered with a wrong result
    call_errors: 0,         // tool calls that threw (timeout, JSON-RPC error, POST refused)
    sessions: 0,            // distinct session ids seen in the endpoint events
    streams_opened: 0,      // GET requests made by the clients' EventSources
    posts: {},              // POST status => count
    transport_errors: 0,    // errors reported by the transports (client.onerror)
    closed: 0,              // clients closed without an error
    closed_sessions_404: 0, // old endpoints answering 404 after their client closed
    failures: 0,
    elapsed_ms: 0,
};

function diag(text) {
    for (const line of String(text).split('\n')) process.stdout.write(`# ${line}\n`);
}

function fail(what, detail) {
    failures.push(what);
    diag(`FAIL: ${what}`);
    if (detail !== undefined) diag(typeof detail === 'string' ? detail : inspect(detail, { depth: 8 }));
}

function errText(err) {
    return err && err.stack ? err.stack : String(err);
}

let finished = false;
function finish() {
    if (finished) return;
    finished = true;
    summary.failures = failures.length;
    summary.failed_checks = failures.slice(0, 20);
    summary.elapsed_ms = Date.now() - started;
    process.stdout.write(`SUMMARY ${JSON.stringify(summary)}\n`);
    process.exit(failures.length ? 1 : 0);
}

const watchdog = setTimeout(() => {
    fail(`whole run finished within ${TOTAL_TIMEOUT_MS} ms`);
    finish();
}, TOTAL_TIMEOUT_MS);

const requestOptions = { timeout: REQUEST_TIMEOUT_MS };

// fetch for the POSTs of a transport: counts their statuses and keeps the
// ones still under way in `pending`.
function countingFetch(pending) {
    return (input, init) => {
        const p = fetch(input, init).then(response => {
            const key = `${(init?.method ?? 'GET').toUpperCase()} ${response.status}`;
            summary.posts[key] = (summary.posts[key] ?? 0) + 1;
            return response;
        });
        pending.add(p);
        const forget = () => pending.delete(p);
        p.then(forget, forget);
        return p;
    };
}

// The expected call k of client c: add with numbers unique to the call, and
// every fifth call an echo naming the client and the call.
function callFor(c, k) {
    const g = c * calls + k;
    if (k % 5 === 4) {
        const message = `client ${c} call ${k} \u2713 "q" \\ ${'x'.repeat(g % 7)}`;
        return {
            name: 'echo',
            arguments: { message },
            expect: r => isDeepStrictEqual({ content: r.content, isError: r.isError ?? false },
                                           { content: [{ type: 'text', text: message }], isError: false }),
            expected: { content: [{ type: 'text', text: message }] },
        };
    }
    const a = g + 0.5;
    const b = 1000000 * (c + 1) + k;
    const sum = a + b;
    return {
        name: 'add',
        arguments: { a, b },
        expect: r => !r.isError && isDeepStrictEqual(r.structuredContent, { sum })
            && isDeepStrictEqual(r.content, [{ type: 'text', text: JSON.stringify({ sum }) }]),
        expected: { structuredContent: { sum }, content: [{ type: 'text', text: JSON.stringify({ sum }) }] },
    };
}

async function runClient(c) {
    let streams = 0;
    const pending = new Set();
    const transport = new SSEClientTransport(new URL(url.href), {
        fetch: countingFetch(pending),
        eventSourceInit: {
            fetch: (input, init) => {
                streams++;
                summary.streams_opened++;
                return fetch(input, init);
            },
        },
    });
    const client = new Client({ name: `ngx-mcp-sdk-sse-${c}`, version: '1.0.0' }, { capabilities: {} });
    client.onerror = err => {
        summary.transport_errors++;
        diag(`client ${c}: transport error: ${err && err.message ? err.message : err}`);
    };

    try {
        await client.connect(transport, requestOptions);
    } catch (err) {
        fail(`client ${c}: connect and initialize`, errText(err));
        await client.close().catch(() => {});
        return { sessionId: undefined };
    }
    summary.connected++;

    // The endpoint event: the same origin and path as the stream (no
    // mcp_sse_endpoint in the test configuration) with ?sessionId=<32 hex>.
    // (_endpoint is where the SDK keeps the URL of that event.)
    const postUrl = transport._endpoint;
    const sessionId = postUrl?.searchParams.get('sessionId') ?? undefined;
    if (!(postUrl instanceof URL) || postUrl.origin !== url.origin || postUrl.pathname !== url.pathname
        || !/^[0-9a-f]{32}$/.test(sessionId ?? '')) {
        fail(`client ${c}: endpoint event is ${url.pathname}?sessionId=<32 lowercase hex>`, String(postUrl));
    }

    const server = client.getServerVersion();
    if (!(typeof server?.name === 'string' && server.name.length > 0)) {
        fail(`client ${c}: initialize result has serverInfo.name`, server);
    }
    const caps = client.getServerCapabilities();
    if (!(caps && typeof caps.tools === 'object')) fail(`client ${c}: server advertises tools`, caps);

    try {
        const listed = await client.listTools({}, requestOptions);
        const names = listed.tools.map(t => t.name);
        if (names.includes('echo') && names.includes('add')) summary.tools_listed++;
        else fail(`client ${c}: tools/list has echo and add`, names);
    } catch (err) {
        fail(`client ${c}: tools/list`, errText(err));
    }

    // The calls, `parallel` of them in flight at a time.
    let next = 0;
    const worker = async () => {
        while (next < calls) {
            const k = next++;
            const call = callFor(c, k);
            summary.calls++;
            try {
                const result = await client.callTool({ name: call.name, arguments: call.arguments },
                                                     undefined, requestOptions);
                if (call.expect(result)) {
                    summary.results_ok++;
                } else {
                    summary.results_bad++;
                    fail(`client ${c} call ${k}: ${call.name} ${JSON.stringify(call.arguments)} result`,
                         `got:      ${inspect(result, { depth: 8 })}\nexpected: ${inspect(call.expected, { depth: 8 })}`);
                }
            } catch (err) {
                summary.call_errors++;
                fail(`client ${c} call ${k}: ${call.name} ${JSON.stringify(call.arguments)}`, errText(err));
            }
        }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, calls) }, worker));

    // One stream for the whole session: the EventSource never had to reconnect
    // (a reconnection would have made a new, uninitialized session).
    if (streams !== 1) fail(`client ${c}: one stream opened (not ${streams})`);

    // The server puts a response on the stream before it answers the POST
    // 202, so the last result can arrive while its POST is still waiting for
    // that 202; close() would abort such a POST (AbortError): let them end.
    while (pending.size) await Promise.allSettled([...pending]);
    await new Promise(resolve => setImmediate(resolve));

    try {
        await client.close();
        summary.closed++;
    } catch (err) {
        fail(`client ${c}: close`, errText(err));
    }
    return { sessionId, postUrl };
}

// After its stream closed the session is gone: POSTs to its endpoint get 404
// (the server notices the closed stream at the latest at its next ping).
async function expect404(c, postUrl) {
    const deadline = Date.now() + CLOSE_404_WAIT_MS;
    let last;
    while (true) {
        try {
            const response = await fetch(postUrl, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ jsonrpc: '2.0', id: 'after-close', method: 'ping' }),
                signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            });
            const body = await response.text();
            last = { status: response.status, body };
            if (response.status === 404) {
                let json;
                try {
                    json = JSON.parse(body);
                } catch {
                    json = undefined;
                }
                if (json?.error?.code === -32001) summary.closed_sessions_404++;
                else fail(`client ${c}: 404 after close has a JSON-RPC error -32001 body`, last);
                return;
            }
        } catch (err) {
            last = errText(err);
        }
        if (Date.now() >= deadline) break;
        await new Promise(resolve => setTimeout(resolve, 200));
    }
    fail(`client ${c}: POST to the endpoint of a closed stream gets 404 within ${CLOSE_404_WAIT_MS} ms`, last);
}

async function main() {
    const done = await Promise.all(Array.from({ length: clients }, (_, c) => runClient(c)));
    const ids = done.map(d => d.sessionId).filter(id => id !== undefined);
    summary.sessions = new Set(ids).size;
    if (summary.sessions !== clients) fail(`${clients} distinct session ids`, ids);
    if (summary.calls !== clients * calls) fail(`${clients * calls} tool calls made (${summary.calls})`);
    if (summary.results_ok !== clients * calls) fail(`all ${clients * calls} results right (${summary.results_ok})`);
    if (summary.transport_errors) fail(`no transport errors (${summary.transport_errors})`);
    const other = Object.keys(summary.posts).filter(k => k !== 'POST 202');
    if (other.length) fail('every POST answered 202', summary.posts);

    await Promise.all(done.map((d, c) => (d.postUrl instanceof URL ? expect404(c, d.postUrl) : undefined)));
}

main()
    .catch(err => fail('run without an unexpected exception', errText(err)))
    .finally(() => {
        clearTimeout(watchdog);
        finish();
    });
