// End-to-end check of the nginx MCP module with the official MCP TypeScript SDK.
//
//     node t/node/sdk-e2e.mjs URL [--server-name NAME]
//
// URL is the MCP endpoint of an nginx running conf-examples/quickstart.conf
// (for example http://127.0.0.1:8080/mcp) with tools/example_backend.py behind
// it.  The output is TAP: one "ok N - ..." or "not ok N - ..." line per check
// and a closing "1..N"; the exit status is non-zero when any check fails.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, inspect } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, ErrorCode, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

const REQUEST_TIMEOUT_MS = 10000;
const TOTAL_TIMEOUT_MS = 60000;

const schemaDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'conf-examples', 'schemas');

function usage(message) {
    process.stderr.write(`${message}\nusage: node sdk-e2e.mjs URL [--server-name NAME]\n`);
    process.exit(2);
}

const argv = process.argv.slice(2);
let endpoint;
let expectedServerName = 'nginx-mcp-quickstart';
for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--server-name') {
        if (i + 1 >= argv.length) usage('--server-name needs a value');
        expectedServerName = argv[++i];
    } else if (endpoint === undefined) {
        endpoint = argv[i];
    } else {
        usage(`unexpected argument: ${argv[i]}`);
    }
}
if (endpoint === undefined) usage('missing URL');
let url;
try {
    url = new URL(endpoint);
} catch {
    usage(`not a URL: ${endpoint}`);
}

let count = 0;
let failed = 0;

function diag(text) {
    for (const line of String(text).split('\n')) process.stdout.write(`# ${line}\n`);
}

function check(name, pass, detail) {
    count++;
    if (pass) {
        process.stdout.write(`ok ${count} - ${name}\n`);
    } else {
        failed++;
        process.stdout.write(`not ok ${count} - ${name}\n`);
        if (detail !== undefined) diag(typeof detail === 'string' ? detail : inspect(detail, { depth: 8 }));
    }
    return pass;
}

function checkEqual(name, got, expected) {
    return check(name, isDeepStrictEqual(got, expected), `got:      ${inspect(got, { depth: 8 })}\nexpected: ${inspect(expected, { depth: 8 })}`);
}

// Runs fn; a thrown error becomes a failed check named `name`.
async function attempt(name, fn) {
    try {
        return { ok: true, value: await fn() };
    } catch (err) {
        check(name, false, err && err.stack ? err.stack : String(err));
        return { ok: false, error: err };
    }
}

function finish() {
    process.stdout.write(`1..${count}\n`);
    if (failed) diag(`failed ${failed} of ${count} checks`);
    process.exit(failed ? 1 : 0);
}

function loadSchema(file) {
    return JSON.parse(readFileSync(join(schemaDir, file), 'utf8'));
}

function textBlocks(result) {
    return Array.isArray(result?.content) ? result.content : undefined;
}

const watchdog = setTimeout(() => {
    check(`whole run finished within ${TOTAL_TIMEOUT_MS} ms`, false);
    finish();
}, TOTAL_TIMEOUT_MS);

const requestOptions = { timeout: REQUEST_TIMEOUT_MS };

async function main() {
    const transport = new StreamableHTTPClientTransport(url);
    const client = new Client({ name: 'ngx-mcp-sdk-e2e', version: '1.0.0' }, { capabilities: {} });
    client.onerror = err => diag(`client transport error: ${err && err.message ? err.message : err}`);

    // initialize
    const connected = await attempt('connect and initialize', () => client.connect(transport, requestOptions));
    if (!connected.ok) return;
    check('connect and initialize', true);

    const serverVersion = client.getServerVersion();
    checkEqual('serverInfo.name matches mcp_server_info', serverVersion?.name, expectedServerName);
    check('serverInfo.version is a non-empty string',
          typeof serverVersion?.version === 'string' && serverVersion.version.length > 0, serverVersion);
    const caps = client.getServerCapabilities();
    check('server advertises the tools capability', caps && typeof caps.tools === 'object', caps);
    check('negotiated protocol version is the latest the SDK speaks',
          transport.protocolVersion === LATEST_PROTOCOL_VERSION,
          `negotiated ${transport.protocolVersion}, SDK latest ${LATEST_PROTOCOL_VERSION}`);
    const instructions = client.getInstructions();
    check('instructions are returned', typeof instructions === 'string' && instructions.length > 0, instructions);
    const sessionId = transport.sessionId;
    check('server assigned an Mcp-Session-Id', typeof sessionId === 'string' && sessionId.length > 0, sessionId);

    const ping = await attempt('ping', () => client.ping(requestOptions));
    if (ping.ok) check('ping', true);

    // tools/list
    const listed = await attempt('tools/list', () => client.listTools({}, requestOptions));
    if (listed.ok) {
        check('tools/list', true);
        const byName = new Map(listed.value.tools.map(tool => [tool.name, tool]));
        const expectTools = {
            echo: { input: 'echo.input.json', output: null },
            add: { input: 'add.input.json', output: 'add.output.json' },
            weather: { input: 'weather.input.json', output: 'weather.output.json' },
        };
        for (const [name, files] of Object.entries(expectTools)) {
            const tool = byName.get(name);
            if (!check(`tools/list has ${name}`, tool !== undefined, [...byName.keys()])) continue;
            check(`${name} has a description`, typeof tool.description === 'string' && tool.description.length > 0, tool);
            checkEqual(`${name} inputSchema equals ${files.input}`, tool.inputSchema, loadSchema(files.input));
            if (files.output) {
                checkEqual(`${name} outputSchema equals ${files.output}`, tool.outputSchema, loadSchema(files.output));
            } else {
                check(`${name} has no outputSchema`, tool.outputSchema === undefined, tool.outputSchema);
            }
        }
    }

    // tools/call with valid arguments
    const echoMessage = 'Hello, MCP! \u00e9\u00e8 \u2713 "quoted" \\ back';
    const echo = await attempt('call echo', () =>
        client.callTool({ name: 'echo', arguments: { message: echoMessage } }, undefined, requestOptions));
    if (echo.ok) {
        checkEqual('echo returns the message as one text block',
                   { content: textBlocks(echo.value), isError: echo.value.isError ?? false },
                   { content: [{ type: 'text', text: echoMessage }], isError: false });
        check('echo has no structuredContent', echo.value.structuredContent === undefined, echo.value);
    }

    const add = await attempt('call add', () =>
        client.callTool({ name: 'add', arguments: { a: 2, b: 40.5 } }, undefined, requestOptions));
    if (add.ok) {
        check('add is not an error', !add.value.isError, add.value);
        checkEqual('add structuredContent is {"sum":42.5}', add.value.structuredContent, { sum: 42.5 });
        checkEqual('add text content is the backend JSON', textBlocks(add.value), [{ type: 'text', text: '{"sum":42.5}' }]);
    }

    const weatherArgs = { city: 'Paris', units: 'metric' };
    const weatherExpected = {
        city: 'Paris',
        units: 'metric',
        temperature: 23.2,
        feels_like: 22.0,
        humidity: 100,
        wind_speed: 11.8,
        conditions: 'rain',
    };
    const weather = await attempt('call weather', () =>
        client.callTool({ name: 'weather', arguments: weatherArgs }, undefined, requestOptions));
    if (weather.ok) {
        check('weather is not an error', !weather.value.isError, weather.value);
        checkEqual('weather structuredContent is the Paris report', weather.value.structuredContent, weatherExpected);
        const blocks = textBlocks(weather.value);
        let parsed;
        try {
            parsed = JSON.parse(blocks?.[0]?.text);
        } catch {
            parsed = undefined;
        }
        check('weather has one text block', blocks?.length === 1 && blocks[0].type === 'text', blocks);
        checkEqual('weather text block holds the same JSON', parsed, weatherExpected);
    }

    const imperial = await attempt('call weather (imperial)', () =>
        client.callTool({ name: 'weather', arguments: { city: 'Paris', units: 'imperial' } }, undefined, requestOptions));
    if (imperial.ok) {
        checkEqual('weather imperial report', imperial.value.structuredContent, {
            city: 'Paris', units: 'imperial', temperature: 73.8, feels_like: 71.6,
            humidity: 100, wind_speed: 7.3, conditions: 'rain',
        });
    }

    // Concurrent calls on one session.
    const parallel = await attempt('8 concurrent add calls', () => Promise.all(
        Array.from({ length: 8 }, (_, i) =>
            client.callTool({ name: 'add', arguments: { a: i, b: 1000 } }, undefined, requestOptions))));
    if (parallel.ok) {
        checkEqual('8 concurrent add calls return their own sums',
                   parallel.value.map(r => r.structuredContent),
                   Array.from({ length: 8 }, (_, i) => ({ sum: i + 1000 })));
    }

    // tools/call with bad arguments: a tool execution error, not a protocol error.
    const badAdd = await attempt('call add with bad arguments', () =>
        client.callTool({ name: 'add', arguments: { a: 'two', b: 2 } }, undefined, requestOptions));
    if (badAdd.ok) {
        check('add with a string argument gives isError true', badAdd.value.isError === true, badAdd.value);
        const blocks = textBlocks(badAdd.value);
        check('the error result explains itself in a text block',
              blocks?.length >= 1 && blocks[0].type === 'text' && blocks[0].text.length > 0, blocks);
    }

    const badEcho = await attempt('call echo without its argument', () =>
        client.callTool({ name: 'echo', arguments: {} }, undefined, requestOptions));
    if (badEcho.ok) {
        check('echo without "message" gives isError true', badEcho.value.isError === true, badEcho.value);
    }

    // Unknown tool: JSON-RPC error -32602.
    try {
        const result = await client.callTool({ name: 'no-such-tool', arguments: {} }, undefined, requestOptions);
        check('unknown tool gives JSON-RPC error -32602', false, { unexpectedResult: result });
    } catch (err) {
        check('unknown tool gives JSON-RPC error -32602',
              err instanceof McpError && err.code === ErrorCode.InvalidParams,
              err && err.stack ? `code ${err.code}: ${err.stack}` : String(err));
    }

    // The session still works after the errors.
    const after = await attempt('call echo after errors', () =>
        client.callTool({ name: 'echo', arguments: { message: 'still here' } }, undefined, requestOptions));
    if (after.ok) {
        checkEqual('session still works after errors', textBlocks(after.value), [{ type: 'text', text: 'still here' }]);
    }

    // DELETE the session, then the old id must be unknown (404).
    const protocolVersion = transport.protocolVersion;
    const terminated = await attempt('terminateSession (DELETE)', () => transport.terminateSession());
    if (terminated.ok) {
        check('terminateSession (DELETE)', true);
        check('transport forgot the session id', transport.sessionId === undefined, transport.sessionId);
    }
    await client.close().catch(() => {});

    if (sessionId) {
        const raw = await attempt('POST with the terminated session id', async () => {
            const response = await fetch(url, {
                method: 'POST',
                headers: {
                    'Content-Type': 'application/json',
                    'Accept': 'application/json, text/event-stream',
                    'Mcp-Session-Id': sessionId,
                    'Mcp-Protocol-Version': protocolVersion ?? LATEST_PROTOCOL_VERSION,
                },
                body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list', params: {} }),
                signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            });
            const body = await response.text();
            return { status: response.status, body };
        });
        if (raw.ok) {
            check('POST with the terminated session id gives HTTP 404', raw.value.status === 404, raw.value);
        }
    }
}

main()
    .catch(err => check('run without an unexpected exception', false, err && err.stack ? err.stack : String(err)))
    .finally(() => {
        clearTimeout(watchdog);
        finish();
    });
