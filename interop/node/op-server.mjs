// A real OpenID provider (panva/oidc-provider) for the mcpauthz interop suite.
//
// It plays two roles, on 127.0.0.1 with a random port:
//   1. an authorization server that issues RFC 9068 JWT access tokens through
//      client_credentials with RFC 8707 resource indicators;
//   2. an enterprise IdP that issues ID-JAGs through RFC 8693 token exchange,
//      added with provider.registerGrantType (oidc-provider has no built-in
//      ID-JAG support).
//
// Usage: node op-server.mjs <resource> <other-resource> <as-issuer> <as-client-id>
// Prints one JSON line {"issuer": ...} on stdout when ready; stops on SIGTERM.
import http from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import { SignJWT, jwtVerify, createLocalJWKSet, importJWK } from 'jose';

const [resource, otherResource, asIssuer, asClientID] = process.argv.slice(2);
if (!resource || !otherResource || !asIssuer || !asClientID) {
  console.error('usage: node op-server.mjs <resource> <other-resource> <as-issuer> <as-client-id>');
  process.exit(2);
}

// Fresh key ids on every start, so no verifier can confuse two runs' keys.
const run = randomUUID().slice(0, 8);
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const ecJWK = { ...ec, kid: `es-${run}`, alg: 'ES256', use: 'sig' };
const rsaJWK = { ...rsa, kid: `rs-${run}`, alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const users = {
  alice: { email: 'alice@example.com', groups: ['engineering'] },
  bob: { email: 'bob@example.com', groups: ['marketing'] },
};
const tokenExchange = 'urn:ietf:params:oauth:grant-type:token-exchange';

const provider = new Provider(issuer, {
  jwks: { keys: [ecJWK, rsaJWK] },
  clients: [
    { client_id: 'mcp-cc', client_secret: 'mcp-cc-secret', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' },
    { client_id: 'idp-app', client_secret: 'idp-app-secret', grant_types: ['authorization_code', tokenExchange], redirect_uris: ['http://127.0.0.1:9/callback'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post' },
  ],
  findAccount: async (ctx, id) => users[id] && ({
    accountId: id,
    claims: async () => ({ sub: id, email: users[id].email, groups: users[id].groups }),
  }),
  claims: { openid: ['sub'], email: ['email'], groups: ['groups'] },
  scopes: ['openid', 'email', 'groups', 'mcp:tools', 'mcp:deploy'],
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        if (indicator !== resource && indicator !== otherResource) throw new errors.InvalidTarget();
        return { scope: 'mcp:tools mcp:deploy', audience: indicator, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
  pkce: { required: () => true },
});

// RFC 8693 token exchange: ID token in, ID-JAG out (ID-JAG draft §4.3).
const ownKeys = createLocalJWKSet({ keys: [ecJWK, rsaJWK].map(({ d, p, q, dp, dq, qi, ...pub }) => pub) });
const signingKey = await importJWK(ecJWK, 'ES256');
provider.registerGrantType(tokenExchange, async (ctx) => {
  const p = ctx.oidc.params;
  if (p.requested_token_type !== 'urn:ietf:params:oauth:token-type:id-jag') throw new errors.InvalidRequest('requested_token_type must be urn:ietf:params:oauth:token-type:id-jag');
  if (p.subject_token_type !== 'urn:ietf:params:oauth:token-type:id_token') throw new errors.InvalidRequest('subject_token_type must be urn:ietf:params:oauth:token-type:id_token');
  if (p.audience !== asIssuer) throw new errors.InvalidTarget('unknown audience');
  if (p.resource && p.resource !== resource) throw new errors.InvalidTarget('unknown resource');
  let idt;
  try {
    ({ payload: idt } = await jwtVerify(p.subject_token, ownKeys, { issuer, audience: ctx.oidc.client.clientId }));
  } catch {
    throw new errors.InvalidGrant('subject_token is not a valid ID token for this client');
  }
  const allowed = ['mcp:tools', 'mcp:deploy'];
  const scope = (p.scope || 'mcp:tools').split(' ').filter((s) => allowed.includes(s)).join(' ');
  const now = Math.floor(Date.now() / 1000);
  const jag = await new SignJWT({ client_id: asClientID, resource, scope, email: idt.email, groups: users[idt.sub]?.groups ?? [] })
    .setProtectedHeader({ alg: 'ES256', kid: ecJWK.kid, typ: 'oauth-id-jag+jwt' })
    .setIssuer(issuer).setSubject(idt.sub).setAudience(asIssuer).setIssuedAt(now).setExpirationTime(now + 300).setJti(randomUUID())
    .sign(signingKey);
  ctx.body = { access_token: jag, issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag', token_type: 'N_A', expires_in: 300, scope };
}, ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope'], []);

provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error', err));
server.on('request', provider.callback());
console.log(JSON.stringify({ issuer }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
