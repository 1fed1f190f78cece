// Baseline MCP server for make bench: the TypeScript fastmcp framework
// (https://www.npmjs.com/package/fastmcp, pinned in tools/bench/node) with
// its HTTP Stream transport.
//
//     node tools/bench/fastmcp-server.mjs --dir DIR --port N --backend URL
//
// DIR is the directory whose node_modules holds fastmcp (tools/bench/node
// after `npm ci`).  Sessions are stateful and answers are plain JSON
// (enableJsonResponse), as with the nginx module.  The one tool, echo,
// forwards its arguments to the tool backend at URL, as the module does,
// and answers the backend's body as text content.  "listening" is printed
// once the server accepts connections.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function usage(message) {
    process.stderr.write(`${message}\nusage: node fastmcp-server.mjs --dir DIR --port N --backend URL\n`);
    process.exit(2);
}

const options = { dir: undefined, port: undefined, backend: undefined, host: '127.0.0.1' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || !(name in options)) usage(`unknown argument: ${argv[i]}`);
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    options[name] = argv[++i];
}
for (const name of ['dir', 'port', 'backend']) {
    if (options[name] === undefined) usage(`missing --${name}`);
}
const port = Number(options.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`bad port: ${options.port}`);

// fastmcp and its zod, resolved from DIR as a package there would load them
const require = createRequire(join(resolve(options.dir), 'package.json'));
const load = async (name) => import(pathToFileURL(require.resolve(name)).href);
const { FastMCP } = await load('fastmcp');
const { z } = await load('zod');
const version = JSON.parse(readFileSync(
    join(resolve(options.dir), 'node_modules/fastmcp/package.json'), 'utf8')).version;

const server = new FastMCP({ name: 'fastmcp-bench-baseline', version });

server.addTool({
    name: 'echo',
    description: 'Forward the arguments to the tool backend.',
    parameters: z.object({}).passthrough(),
    execute: async (args) => {
        const res = await fetch(options.backend, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(args ?? {}),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`backend answered ${res.status}: ${text}`);
        return text;
    },
});

await server.start({
    transportType: 'httpStream',
    httpStream: { host: options.host, port, endpoint: '/mcp', enableJsonResponse: true },
});

process.stdout.write(`fastmcp-server ${version} listening on ${options.host}:${port}\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
        server.stop().finally(() => process.exit(0));
    });
}
