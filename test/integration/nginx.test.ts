// The HTTP check mode behind a real nginx: client → nginx (auth_request → keycard) → an upstream
// that echoes the headers it received. Uses the shipped deploy/nginx/keycard.conf.template.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { launchKeycard, type LaunchedKeycard } from '../helpers/keycard-process.js';
import { ORDERS_POLICY, SEED, settingsYaml } from '../helpers/workspace.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path)) ?? 'nginx';
const TEMPLATE = new URL('../../deploy/nginx/keycard.conf.template', import.meta.url);

let key: TestKey;
let launched: LaunchedKeycard;
let upstream: Server;
let received: IncomingHttpHeaders[] = [];
let nginx: ChildProcess;
let nginxUrl: string;

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function untilAnswers(url: string, deadline = Date.now() + 10_000): Promise<void> {
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

beforeAll(async () => {
  key = await makeKey('ES256');
  launched = await launchKeycard({
    'keycard.yaml': settingsYaml('http: { listen: 127.0.0.1:0 }\nnetwork: { trustedProxies: [127.0.0.1/32] }'),
    'jwks.json': jwks(key),
    'seed.yaml': SEED,
    'policies/orders.yaml': ORDERS_POLICY,
  });
  upstream = createServer((request, response) => {
    received.push(request.headers);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ path: request.url }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));

  const prefix = launched.workspace.path('nginx');
  mkdirSync(prefix, { recursive: true });
  const listen = await freePort();
  const config = readFileSync(TEMPLATE, 'utf8')
    .replaceAll('${PREFIX}', prefix)
    .replaceAll('${LISTEN}', `127.0.0.1:${listen}`)
    .replaceAll('${KEYCARD}', launched.keycard.httpUrl!.replace('http://', ''))
    .replaceAll('${UPSTREAM}', `127.0.0.1:${(upstream.address() as AddressInfo).port}`)
    .replaceAll('${SERVICE}', 'orders');
  writeFileSync(`${prefix}/nginx.conf`, config);
  nginx = spawn(NGINX, ['-p', prefix, '-c', `${prefix}/nginx.conf`, '-e', `${prefix}/error.log`], { stdio: 'ignore' });
  nginxUrl = `http://127.0.0.1:${listen}`;
  await untilAnswers(nginxUrl);
}, 60_000);

afterAll(async () => {
  nginx?.kill('SIGQUIT');
  await launched?.keycard.stop();
  await new Promise((resolve) => upstream?.close(resolve));
  launched?.workspace.remove();
});

async function get(path: string, headers: Record<string, string> = {}) {
  received = [];
  const response = await fetch(`${nginxUrl}${path}`, { headers });
  return { status: response.status, headers: response.headers, upstreamHeaders: received[0] };
}

describe('nginx auth_request → keycard HTTP check mode', () => {
  it('lets an allowed request through with verified identity headers', async () => {
    const token = await signToken(key, { sub: 'alice' });
    const result = await get('/orders/42?x=1', { authorization: `Bearer ${token}` });
    expect(result.status).toBe(200);
    expect(result.upstreamHeaders?.['x-keycard-subject']).toBe('alice');
    expect(result.upstreamHeaders?.['x-keycard-roles']).toBe('customer');
    expect(result.upstreamHeaders?.['x-keycard-decision-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never passes a client-sent identity header to the upstream', async () => {
    const token = await signToken(key, { sub: 'alice' });
    const spoofed = await get('/orders/42', { authorization: `Bearer ${token}`, 'x-keycard-subject': 'root', 'x-keycard-roles': 'admin' });
    expect(spoofed.status).toBe(200);
    expect(spoofed.upstreamHeaders?.['x-keycard-subject']).toBe('alice');
    expect(spoofed.upstreamHeaders?.['x-keycard-roles']).toBe('customer');

    // An anonymous allow sets no identity: the spoofed copy is dropped, not passed on.
    const anonymous = await get('/healthz', { 'x-keycard-subject': 'root' });
    expect(anonymous.status).toBe(200);
    expect(anonymous.upstreamHeaders?.['x-keycard-subject']).toBeUndefined();
  });

  it('answers 401 with the Bearer challenge without a credential, and 403 when no rule allows', async () => {
    const anonymous = await get('/orders/42');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="orders"');
    expect(anonymous.upstreamHeaders).toBeUndefined();

    const token = await signToken(key, { sub: 'alice' });
    const forbidden = await fetch(`${nginxUrl}/orders/42/refund`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(forbidden.status).toBe(403);
    expect(received).toHaveLength(0);
  });

  it('decides on the original URI: the query never matters, the normalized path does', async () => {
    const token = await signToken(key, { sub: 'sam' });
    expect((await get('/v1/orders?bypass=/orders/1', { authorization: `Bearer ${token}` })).status).toBe(403);
    expect((await get('/orders/7/../../v1/x', { authorization: `Bearer ${token}` })).status).toBe(403);
  });

  it('fails closed when keycard is down', async () => {
    await launched.keycard.stop();
    const token = await signToken(key, { sub: 'alice' });
    const result = await get('/orders/42', { authorization: `Bearer ${token}` });
    expect(result.status).toBeGreaterThanOrEqual(500);
    expect(result.upstreamHeaders).toBeUndefined();
  });
});
