// Drives a TypeScript SDK v1 server (ts-server.mjs) through "mcpauthz
// proxy" with the official TypeScript SDK v1 client (interop/run.sh, step 6).
//
// Usage:
//   node proxy-client.mjs keys <signer-file>   writes an ES256 signing key to
//       <signer-file> and prints the public JWK Set (for the proxy's YAML)
//   node proxy-client.mjs run <proxy-mcp-url> <signer-file> <issuer> <resource> <proxy-pid>
//       mints a token for alice (group engineering) and checks:
//       a filtered tools/list, an allowed call, a denied call, the forwarded
//       principal (a spoofed X-Mcpauthz-Subject is stripped, the token is not
//       passed on), and a progress notification streamed before the result.
//       Then, still connected (its GET event stream open), it sends SIGTERM
//       to the proxy and checks that the proxy exits within 5 s although its
//       drain deadline is 30 s: shutdown ended the stream.
import { readFileSync, writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [cmd, ...args] = process.argv.slice(2);
const log = (...a) => console.log('[proxy-v1]', ...a);

if (cmd === 'keys') {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pub = { ...(await exportJWK(publicKey)), kid: 'interop-1', alg: 'ES256', use: 'sig' };
  writeFileSync(args[0], JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'interop-1' }), { mode: 0o600 });
  console.log(JSON.stringify({ keys: [pub] }));
  process.exit(0);
}

const [url, signerFile, issuer, resource, proxyPid] = args;
const jwk = JSON.parse(readFileSync(signerFile, 'utf8'));
const key = await importJWK(jwk, 'ES256');
const token = await new SignJWT({ client_id: 'interop-agent', scope: 'mcp:tools', groups: ['engineering'] })
  .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid })
  .setIssuer(issuer).setAudience(resource).setSubject('alice')
  .setIssuedAt().setExpirationTime('10m').setJti(crypto.randomUUID())
  .sign(key);

const failures = [];
const check = (ok, what) => { log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures.push(what); };
const text = (r) => r?.content?.[0]?.text;

const client = new Client({ name: 'mcpauthz-proxy-interop', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}`, 'X-Mcpauthz-Subject': 'root', 'x_mcpauthz_subject': 'root' } },
}));
check(typeof client.transport?.sessionId === 'string', `stateful session ${client.transport?.sessionId}`);

const tools = (await client.listTools()).tools.map((t) => t.name).sort();
check(JSON.stringify(tools) === JSON.stringify(['echo', 'release', 'slow_progress', 'whoami']),
  `tools/list filtered: ${tools.join(',')} (deploy hidden)`);

check(text(await client.callTool({ name: 'echo', arguments: {} })) === 'echo from ts', 'allowed call (echo)');

let denied = '';
try {
  const r = await client.callTool({ name: 'deploy', arguments: {} });
  denied = r.isError ? `tool error ${text(r)}` : `ALLOWED: ${text(r)}`;
} catch (e) {
  denied = String(e?.message ?? e);
}
check(/403|-31403|forbidden|denied/i.test(denied) && !denied.startsWith('ALLOWED'), `denied call (deploy): ${denied.slice(0, 120)}`);

const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
check(who.subject === 'alice' && who.authorization === false,
  `upstream saw subject "${who.subject}" (spoofed "root" stripped), Authorization forwarded: ${who.authorization}`);

// The progress event must arrive while the tool is still running: the tool
// waits for "release", which this client sends only when it sees progress.
// A proxy that buffered the stream would deliver nothing until the tool
// timed out ("timed out").
const events = [];
const result = await client.callTool({ name: 'slow_progress', arguments: {} }, undefined, {
  onprogress: (p) => {
    events.push(`progress ${p.progress}/${p.total}`);
    client.callTool({ name: 'release', arguments: {} }).catch((e) => events.push(`release failed: ${e}`));
  },
  timeout: 20000,
});
events.push(`result ${text(result)}`);
check(events[0] === 'progress 1/2' && text(result) === 'released', `streamed progress before the result: ${events.join(' -> ')}`);

// Graceful shutdown with this client's GET stream open.
process.kill(Number(proxyPid), 'SIGTERM');
const t0 = Date.now();
const alive = () => { try { process.kill(Number(proxyPid), 0); return true; } catch { return false; } };
while (alive() && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 50));
const took = Date.now() - t0;
check(!alive() && took < 5000, `proxy exited ${took} ms after SIGTERM with this client connected (drain deadline 30 s)`);
client.onerror = () => {}; // the GET stream's end and reconnect attempts
await client.close().catch(() => {});
if (failures.length) {
  log(`${failures.length} check(s) failed`);
  process.exit(1);
}
log('all checks passed');
