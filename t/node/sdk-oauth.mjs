// The official MCP TypeScript SDK as an OAuth client of the gateway.
//
//     node t/node/sdk-oauth.mjs URL CLIENT_ID CLIENT_SECRET
//
// URL is an MCP endpoint behind "mcp_auth jwt" whose mcp_oauth names an
// authorization server offering the client credentials grant
// (tools/oauth_server.py).  The client starts with no token: it must
// find the server's protected resource metadata from the 401
// (RFC 9728), the authorization server's metadata (RFC 8414), get a token
// for the resource (RFC 8707), and, when a tool needs more scope (403
// insufficient_scope), a token with more.  The output is TAP; the exit
// status is non-zero when a check fails.

import { inspect } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { discoverOAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/client/auth.js';

const [endpoint, clientId, clientSecret] = process.argv.slice(2);
if (!clientSecret) {
    process.stderr.write('usage: node sdk-oauth.mjs URL CLIENT_ID CLIENT_SECRET\n');
    process.exit(2);
}

let n = 0;
let failed = 0;

function ok(cond, name, detail) {
    n++;
    if (!cond) {
        failed++;
        process.stdout.write(`not ok ${n} - ${name}\n`);
        if (detail !== undefined) {
            process.stdout.write(`# ${inspect(detail, { depth: 6 }).replace(/\n/g, '\n# ')}\n`);
        }
    } else {
        process.stdout.write(`ok ${n} - ${name}\n`);
    }
}

setTimeout(() => {
    process.stdout.write('not ok - the client did not finish within 60 s\n');
    process.exit(1);
}, 60000).unref();

const url = new URL(endpoint);

try {
    // the SDK's own discovery, with its schema of the metadata
    const prm = await discoverOAuthProtectedResourceMetadata(url);
    ok(prm.resource === url.href, 'RFC 9728: the SDK finds the metadata; resource is this endpoint', prm);
    ok(Array.isArray(prm.authorization_servers) && prm.authorization_servers.length === 1,
       'with one authorization server', prm);

    // The SDK's client credentials provider asks for its configured scope,
    // not for the one a challenge names (its authorization code flow does
    // use the challenge's); this one asks for the challenge's, as a client
    // that follows MCP's scope selection would.
    class ChallengeScopedProvider extends ClientCredentialsProvider {
        prepareTokenRequest() {
            return super.prepareTokenRequest(this.challengeScope);
        }
    }

    const provider = new ChallengeScopedProvider({ clientId, clientSecret });
    const observing = async (input, init) => {
        const res = await fetch(input, init);
        const m = /scope="([^"]*)"/.exec(res.headers.get('www-authenticate') || '');
        if (m) {
            provider.challengeScope = m[1];
        }
        return res;
    };
    const transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: observing });
    const client = new Client({ name: 'sdk-oauth', version: '1.0.0' });

    await client.connect(transport);
    ok(true, 'connects: 401, metadata, a token, initialize');

    const first = provider.tokens();
    ok(first && typeof first.access_token === 'string' && first.access_token.split('.').length === 3,
       'the token it got is a JWT');
    ok(first && first.scope === 'mcp', 'holding the scope the 401 named ("mcp")', first && first.scope);

    const tools = await client.listTools();
    const names = tools.tools.map((t) => t.name).sort();
    ok(JSON.stringify(names) === JSON.stringify(['add']),
       'tools/list shows only what "mcp" may call', names);

    const add = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    ok(!add.isError && add.structuredContent && add.structuredContent.sum === 5,
       'add works with the first token', add);

    // echo needs tools:call: 403 insufficient_scope, the SDK asks for it
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'scoped' } });
    const text = echo.content && echo.content[0] && echo.content[0].text;
    ok(!echo.isError && text === 'scoped', 'echo works after the scope challenge', echo);

    const second = provider.tokens();
    ok(second && second.access_token !== first.access_token, 'with a new token');
    ok(second && second.scope === 'mcp tools:call',
       'holding the scopes the 403 named ("mcp tools:call")', second && second.scope);

    const after = await client.listTools();
    ok(after.tools.map((t) => t.name).sort().join(',') === 'add,echo',
       'and tools/list now shows echo too', after.tools.map((t) => t.name));

    await transport.terminateSession();
    ok(true, 'DELETE ends the session with the new token');
    await client.close();
} catch (err) {
    ok(false, 'no exception', err);
}

process.stdout.write(`1..${n}\n`);
process.exit(failed ? 1 : 0);
