// The official TypeScript MCP SDK v2 client (@modelcontextprotocol/client)
// logs a user in through the quickstart's authorization server (the broker)
// with its standard OAuth flow: authorization code + PKCE, driven by an
// OAuthClientProvider, with a real headless Chromium as the user's browser
// (interop/browser's browser-login command, chromedp).
//
// Usage: node ts-authcode.mjs <mcp-url>
// Configuration comes as JSON in MCPAUTHZ_TS_CONTEXT:
//   { browser_login,            path of the browser-login binary
//     user, client_id,          demo user; pre-registered public client id
//     as_issuer,                the authorization server's issuer
//     registration,             "preregistered" (default) or "dynamic" (RFC 7591)
//     expected_tools,           the exact, sorted tools/list the user must see
//     allowed_tool, allowed_args, denied_tool }
// It connects (401 → discovery → browser login → code → token), lists the
// tools, calls allowed_tool (must succeed) and denied_tool (must fail),
// prints a summary line, and exits non-zero on any unexpected outcome.
import * as v2 from '@modelcontextprotocol/client';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';

const [url] = process.argv.slice(2);
const ctx = JSON.parse(process.env.MCPAUTHZ_TS_CONTEXT || '{}');
const log = (...a) => console.log(`[v2-authcode ${ctx.registration ?? 'preregistered'}]`, ...a);

// The client's loopback redirect endpoint: it keeps the callback's query.
function startRedirectListener() {
  let resolve;
  const received = new Promise((r) => { resolve = r; });
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    if (u.pathname !== '/callback') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in. You can close this window.\n');
    resolve(u.searchParams);
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 1_000;
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, received, port: server.address().port })));
}

// An OAuthClientProvider for an interactive, public client: the shape every
// TypeScript MCP host implements. Nothing here talks OAuth itself; the SDK's
// auth() does discovery, PKCE, the authorization URL and the code exchange.
class BrowserProvider {
  constructor(redirectUrl) {
    this._redirectUrl = redirectUrl;
    this._state = randomBytes(16).toString('base64url');
    this.authorizationURL = undefined;
    // A pre-registered client is bound to the issuer that registered it
    // (SEP-2352), so the SDK refuses to use it with another server.
    if ((ctx.registration ?? 'preregistered') === 'preregistered') this._client = { client_id: ctx.client_id, issuer: ctx.as_issuer };
  }
  get redirectUrl() { return this._redirectUrl; }
  get clientMetadata() {
    return {
      client_name: 'mcpauthz interop (TypeScript SDK v2)', redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
    };
  }
  state() { return this._state; }
  clientInformation() { return this._client; }
  saveClientInformation(info) {
    if (info.client_id !== this._client?.client_id) {
      this.registered = true;
      log(`registered dynamically (RFC 7591) as ${info.client_id.slice(0, 12)}...`);
    }
    this._client = info;
  }
  tokens() { return this._tokens; }
  saveTokens(t) { this._tokens = t; }
  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() { return this._verifier; }
  // Kept with the verifier, so the SDK binds the callback to the
  // authorization server it started with.
  saveDiscoveryState(s) { this._discovery = s; }
  discoveryState() { return this._discovery; }
  async redirectToAuthorization(authorizationUrl) {
    this.authorizationURL = authorizationUrl;
    const args = ['-user', ctx.user, '-redirect', this._redirectUrl, '-name', `ts-v2-authcode-${ctx.registration ?? 'preregistered'}`, authorizationUrl.href];
    const out = await new Promise((ok, fail) => execFile(ctx.browser_login, args, { timeout: 90_000 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`browser-login: ${err.message} ${stderr}`)); else ok(stdout.trim());
    }));
    log(out);
  }
}

let failures = 0;
const fail = (msg) => { failures++; log('FAIL:', msg); };
for (const k of ['browser_login', 'as_issuer', 'user', 'expected_tools', 'allowed_tool', 'denied_tool']) {
  if (!ctx[k]) { log(`FAIL: MCPAUTHZ_TS_CONTEXT lacks ${k}`); process.exit(1); }
}
const { server, received, port } = await startRedirectListener();
try {
  const provider = new BrowserProvider(`http://127.0.0.1:${port}/callback`);
  const client = new v2.Client({ name: `mcpauthz-interop-v2-authcode-${ctx.registration ?? 'preregistered'}`, version: '1.0.0' });
  try {
    await client.connect(new v2.StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
    throw new Error('connected without logging in');
  } catch (e) {
    if (!(e instanceof v2.UnauthorizedError)) throw e;
  }
  if ((ctx.registration === 'dynamic') !== Boolean(provider.registered)) fail(`registration ${ctx.registration}, registered dynamically: ${Boolean(provider.registered)}`);
  const a = provider.authorizationURL;
  if (!a) throw new Error('the SDK never asked for a browser login');
  const q = a.searchParams;
  if (q.get('code_challenge_method') !== 'S256' || q.get('resource') !== url || q.get('client_id') !== provider.clientInformation()?.client_id) {
    fail(`authorization request: method ${q.get('code_challenge_method')}, resource ${q.get('resource')}, client ${q.get('client_id')}`);
  }
  const params = await Promise.race([received, new Promise((_, no) => setTimeout(() => no(new Error('no callback within 30 s')), 30_000))]);
  if (params.get('state') !== provider.state() || params.has('error') || !params.get('code')) {
    throw new Error(`callback: state ok ${params.get('state') === provider.state()}, error ${params.get('error')}`);
  }
  log(`browser login done, callback has a code, state matches, iss ${params.get('iss')}`);
  const transport = new v2.StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await transport.finishAuth(params); // checks iss (RFC 9207), redeems the code with the PKCE verifier
  await client.connect(transport);
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  log('tools/list ->', names.join(', '));
  if (JSON.stringify(names) !== JSON.stringify(ctx.expected_tools)) fail(`tools/list ${names} != ${ctx.expected_tools}`);
  const ok = await client.callTool({ name: ctx.allowed_tool, arguments: ctx.allowed_args ?? {} });
  if (ok.isError) fail(`tools/call ${ctx.allowed_tool} -> tool error`); else log(`tools/call ${ctx.allowed_tool} -> allowed:`, ok.content?.[0]?.text ?? '');
  try {
    const r = await client.callTool({ name: ctx.denied_tool, arguments: {} });
    if (r.isError) log(`tools/call ${ctx.denied_tool} -> denied (tool error)`); else fail(`tools/call ${ctx.denied_tool} UNEXPECTEDLY ALLOWED`);
  } catch (e) {
    log(`tools/call ${ctx.denied_tool} -> denied as expected: ${String(e.message ?? e).slice(0, 160)}`);
  }
  await client.close();
} catch (e) {
  fail(e?.stack ?? e);
} finally {
  server.close();
}
log(failures === 0 ? 'PASS' : `FAIL (${failures})`);
process.exit(failures === 0 ? 0 : 1);
