// Baseline MCP server for make bench: the official TypeScript SDK's
// McpServer behind its StreamableHTTPServerTransport, on node's http module.
//
//     node tools/bench/sdk-server.mjs --sdk-dir DIR [--host H] [--port N] [--port-file F]
//                                     [--backend URL]
//
// DIR is the directory whose node_modules holds @modelcontextprotocol/sdk
// (t/node after `npm ci --prefix t/node`).  Sessions are stateful (one
// transport and one McpServer per Mcp-Session-Id) and answers are plain JSON
// (enableJsonResponse), which is what the nginx module does.  The one tool,
// echo, forwards its arguments to the tool backend at URL, as the module
// does, and answers the backend's body as text content; without --backend
// it answers {"ok":true} at once.  With --port 0 the system picks the port; it
// is printed, and written to F when --port-file is given, once the server
// listens.

import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

function usage(message) {
    process.stderr.write(`${message}\nusage: node sdk-server.mjs --sdk-dir DIR [--host H] [--port N] [--port-file F]\n`);
    process.exit(2);
}

const options = { host: '127.0.0.1', port: '0', 'sdk-dir': undefined, 'port-file': undefined,
                  backend: undefined };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || !(name in options)) usage(`unknown argument: ${argv[i]}`);
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    options[name] = argv[++i];
}
if (options['sdk-dir'] === undefined) usage('missing --sdk-dir');
const port = Number(options.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`bad port: ${options.port}`);

// The SDK is resolved from DIR through its package exports, as any
// dependent package there would load it.
const require = createRequire(join(resolve(options['sdk-dir']), 'package.json'));
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { isInitializeRequest } = require('@modelcontextprotocol/sdk/types.js');

// The version, for the output: from the package.json above the resolved
// files (the package's exports do not include it).
function sdkPackageVersion() {
    let dir = dirname(require.resolve('@modelcontextprotocol/sdk/server/mcp.js'));
    for (;;) {
        try {
            const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
            if (pkg.name === '@modelcontextprotocol/sdk') return pkg.version;
        } catch {
            // no package.json at this level
        }
        const up = dirname(dir);
        if (up === dir) return 'unknown';
        dir = up;
    }
}
const sdkVersion = sdkPackageVersion();

const OK_TEXT = JSON.stringify({ ok: true });
const MAX_BODY = 1024 * 1024;

function newServer() {
    const server = new McpServer({ name: 'sdk-bench-baseline', version: sdkVersion });
    server.registerTool('echo', { description: 'Forward the arguments to the tool backend.',
                                  inputSchema: {} },
        async (args) => {
            if (options.backend === undefined) {
                return { content: [{ type: 'text', text: OK_TEXT }] };
            }
            const res = await fetch(options.backend, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify(args ?? {}),
            });
            const text = await res.text();
            return { content: [{ type: 'text', text }], isError: !res.ok };
        });
    return server;
}

const transports = new Map();

function jsonError(res, status, code, message) {
    const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
}

function readBody(req) {
    return new Promise((done, fail) => {
        const chunks = [];
        let size = 0;
        req.on('data', (chunk) => {
            size += chunk.length;
            if (size > MAX_BODY) {
                fail(new Error('body too large'));
                req.destroy();
                return;
            }
            chunks.push(chunk);
        });
        req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
        req.on('error', fail);
    });
}

async function handle(req, res) {
    if (new URL(req.url, 'http://localhost').pathname !== '/mcp') {
        jsonError(res, 404, -32600, 'not found');
        return;
    }
    const sessionId = req.headers['mcp-session-id'];

    if (req.method !== 'POST') {
        const transport = sessionId && transports.get(sessionId);
        if (!transport) {
            jsonError(res, sessionId ? 404 : 400, -32000, sessionId ? 'session not found' : 'missing session');
            return;
        }
        await transport.handleRequest(req, res);
        return;
    }

    let body;
    try {
        body = JSON.parse(await readBody(req));
    } catch {
        jsonError(res, 400, -32700, 'parse error');
        return;
    }

    if (sessionId) {
        const transport = transports.get(sessionId);
        if (!transport) {
            jsonError(res, 404, -32001, 'session not found');
            return;
        }
        await transport.handleRequest(req, res, body);
        return;
    }
    if (!isInitializeRequest(body)) {
        jsonError(res, 400, -32000, 'missing session');
        return;
    }

    const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (id) => { transports.set(id, transport); },
        onsessionclosed: (id) => { transports.delete(id); },
    });
    transport.onclose = () => {
        if (transport.sessionId) transports.delete(transport.sessionId);
    };
    await newServer().connect(transport);
    await transport.handleRequest(req, res, body);
}

const http = createServer((req, res) => {
    handle(req, res).catch((err) => {
        process.stderr.write(`sdk-server: ${err.stack || err}\n`);
        if (!res.headersSent) jsonError(res, 500, -32603, 'internal error');
        else res.destroy();
    });
});

http.on('error', (err) => {
    process.stderr.write(`sdk-server: ${err.message}\n`);
    process.exit(1);
});

http.listen(port, options.host, () => {
    const actual = http.address().port;
    if (options['port-file']) writeFileSync(options['port-file'], `${actual}\n`);
    process.stdout.write(`sdk-server ${sdkVersion} listening on ${options.host}:${actual}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
        for (const transport of transports.values()) transport.close().catch(() => {});
        http.close();
        http.closeAllConnections();
        process.exit(0);
    });
}
