// An MCP server written with the official TypeScript SDK v1
// (@modelcontextprotocol/sdk, stateful Streamable HTTP on node:http), run
// behind "mcpauthz proxy" by interop/run.sh. It knows nothing about
// authorization: the proxy in front of it decides.
//
// Usage: node ts-server.mjs   (prints "listening http://127.0.0.1:PORT/mcp")
// Tools:
//   echo           returns "echo from ts"
//   whoami         reports the X-Mcpauthz-Subject header it received and
//                  whether an Authorization header reached it
//   slow_progress  sends a progress notification, then waits (at most 10 s)
//                  until "release" is called, and returns "released"
//   release        lets slow_progress finish
//   deploy         must never run (the policy denies it)
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

let release = () => {};

function newServer() {
  const s = new McpServer({ name: 'ts-v1-upstream', version: '1.0.0' });
  s.registerTool('echo', { description: 'echo' }, async () => ({ content: [{ type: 'text', text: 'echo from ts' }] }));
  s.registerTool('whoami', { description: 'who the proxy says the caller is' }, async (extra) => {
    const h = extra.requestInfo?.headers ?? {};
    const sub = h['x-mcpauthz-subject'] ?? '';
    return { content: [{ type: 'text', text: JSON.stringify({ subject: sub, authorization: 'authorization' in h }) }] };
  });
  s.registerTool('slow_progress', { description: 'progress, then a result once released' }, async (extra) => {
    const token = extra._meta?.progressToken;
    if (token !== undefined) {
      await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 1, total: 2, message: 'halfway' } });
    }
    const outcome = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('timed out'), 10000);
      release = () => { clearTimeout(timer); resolve('released'); };
    });
    return { content: [{ type: 'text', text: outcome }] };
  });
  s.registerTool('release', { description: 'release slow_progress' }, async () => {
    release();
    return { content: [{ type: 'text', text: 'ok' }] };
  });
  s.registerTool('deploy', { description: 'must never run' }, async () => {
    console.error('deploy executed');
    process.exitCode = 3;
    return { content: [{ type: 'text', text: 'deployed' }] };
  });
  return s;
}

const transports = new Map();

async function readJSON(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

const http = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x');
    if (url.pathname !== '/mcp') { res.writeHead(404).end(); return; }
    const sid = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJSON(req) : undefined;
    let t = sid ? transports.get(sid) : undefined;
    if (!t) {
      if (sid || req.method !== 'POST' || !isInitializeRequest(body)) {
        res.writeHead(sid ? 404 : 400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: sid ? 'Session not found' : 'Bad Request' } }));
        return;
      }
      t = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => transports.set(id, t),
      });
      t.onclose = () => { if (t.sessionId) transports.delete(t.sessionId); };
      await newServer().connect(t);
    }
    if (req.method === 'GET') console.error('ts-server: GET event stream opened');
    await t.handleRequest(req, res, body);
  } catch (err) {
    console.error('ts-server:', err);
    if (!res.headersSent) res.writeHead(500).end();
  }
});
http.listen(0, '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${http.address().port}/mcp`);
});
process.on('SIGTERM', () => { http.closeAllConnections?.(); http.close(() => process.exit(process.exitCode ?? 0)); });
