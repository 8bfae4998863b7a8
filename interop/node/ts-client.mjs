// Drives the official TypeScript MCP SDK clients (v2 @modelcontextprotocol/client
// and v1 @modelcontextprotocol/sdk) against an mcpauthz-protected MCP server.
//
// Usage: node ts-client.mjs <mode> <mcp-url>
//   mode: v2-ema | v2-cc | v2-jwt | v1-cc | v1-jwt
// Configuration comes as JSON in MCPAUTHZ_TS_CONTEXT:
//   { client_id, client_secret, private_key_pem, alg, as_issuer, scope,
//     idp_issuer, idp_client_id, idp_client_secret, user, password,
//     allowed_tool, denied_tool }
// It lists tools, calls allowed_tool (must succeed) and denied_tool (must fail),
// prints a summary line, and exits non-zero on any unexpected outcome.
import * as v2 from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider as V1CC, PrivateKeyJwtProvider as V1JWT } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { createHash, randomBytes } from 'node:crypto';

const [mode, url] = process.argv.slice(2);
const ctx = JSON.parse(process.env.MCPAUTHZ_TS_CONTEXT || '{}');
const log = (...a) => console.log(`[${mode}]`, ...a);

// Logs a user in at the development IdP the way a browser would (authorization
// code + PKCE through its HTML form) and returns the ID token.
async function loginAtDevIdP() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirect = 'http://127.0.0.1:9/callback';
  const form = new URLSearchParams({
    client_id: ctx.idp_client_id, redirect_uri: redirect, response_type: 'code', state: 's1', scope: 'openid',
    code_challenge: challenge, code_challenge_method: 'S256', username: ctx.user, password: ctx.password,
  });
  const page = await fetch(`${ctx.idp_issuer}/authorize?${form}`);
  if (page.status !== 200) throw new Error(`login page: HTTP ${page.status}`);
  const res = await fetch(`${ctx.idp_issuer}/login`, { method: 'POST', body: form, redirect: 'manual' });
  const loc = res.headers.get('location');
  if (res.status !== 302 || !loc) throw new Error(`login: HTTP ${res.status}`);
  const code = new URL(loc).searchParams.get('code');
  const tok = await fetch(`${ctx.idp_issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier, client_id: ctx.idp_client_id, client_secret: ctx.idp_client_secret }),
  });
  const body = await tok.json();
  if (!body.id_token) throw new Error(`code exchange: ${JSON.stringify(body)}`);
  return body.id_token;
}

function v2Provider() {
  switch (mode) {
    case 'v2-ema':
      return new v2.CrossAppAccessProvider({
        clientId: ctx.client_id, clientSecret: ctx.client_secret, expectedIssuer: ctx.as_issuer,
        assertion: async (c) => {
          const idToken = await loginAtDevIdP();
          const r = await v2.requestJwtAuthorizationGrant({
            tokenEndpoint: `${ctx.idp_issuer}/token`, audience: c.authorizationServerUrl, resource: c.resourceUrl,
            idToken, clientId: ctx.idp_client_id, clientSecret: ctx.idp_client_secret, scope: c.scope ?? ctx.scope, fetchFn: c.fetchFn,
          });
          log(`ID-JAG obtained from the IdP (scope "${r.scope ?? ''}")`);
          return r.jwtAuthGrant;
        },
      });
    case 'v2-cc':
      return new v2.ClientCredentialsProvider({ clientId: ctx.client_id, clientSecret: ctx.client_secret, expectedIssuer: ctx.as_issuer, scope: ctx.scope });
    case 'v2-jwt':
      return new v2.PrivateKeyJwtProvider({ clientId: ctx.client_id, privateKey: ctx.private_key_pem, algorithm: ctx.alg || 'ES256', expectedIssuer: ctx.as_issuer, scope: ctx.scope });
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

async function connect() {
  if (mode.startsWith('v2-')) {
    const client = new v2.Client({ name: 'mcpauthz-interop-v2', version: '1.0.0' });
    await client.connect(new v2.StreamableHTTPClientTransport(new URL(url), { authProvider: v2Provider() }));
    return client;
  }
  const provider = mode === 'v1-cc'
    ? new V1CC({ clientId: ctx.client_id, clientSecret: ctx.client_secret, expectedIssuer: ctx.as_issuer, scope: ctx.scope })
    : new V1JWT({ clientId: ctx.client_id, privateKey: ctx.private_key_pem, algorithm: ctx.alg || 'ES256', expectedIssuer: ctx.as_issuer, scope: ctx.scope });
  const client = new V1Client({ name: 'mcpauthz-interop-v1', version: '1.0.0' });
  await client.connect(new V1Transport(new URL(url), { authProvider: provider }));
  return client;
}

let failures = 0;
try {
  const client = await connect();
  const { tools } = await client.listTools();
  log('tools/list ->', tools.map((t) => t.name).join(', '));
  const ok = await client.callTool({ name: ctx.allowed_tool, arguments: { message: 'hello from the TypeScript SDK' } });
  if (ok.isError) { failures++; log(`tools/call ${ctx.allowed_tool} -> unexpected tool error`); } else log(`tools/call ${ctx.allowed_tool} -> allowed:`, ok.content?.[0]?.text ?? '');
  if (ctx.denied_tool) {
    try {
      const r = await client.callTool({ name: ctx.denied_tool, arguments: {} });
      if (r.isError) log(`tools/call ${ctx.denied_tool} -> denied (tool error)`); else { failures++; log(`tools/call ${ctx.denied_tool} -> UNEXPECTEDLY ALLOWED`); }
    } catch (e) {
      log(`tools/call ${ctx.denied_tool} -> denied as expected: ${String(e.message ?? e).slice(0, 160)}`);
    }
  }
  await client.close();
} catch (e) {
  failures++;
  log('FAILED:', e?.stack ?? e);
}
log(failures === 0 ? 'PASS' : `FAIL (${failures})`);
process.exit(failures === 0 ? 0 : 1);
