// Opaque tokens via RFC 7662 introspection, against a real HTTP introspection server on a free
// port: the request keycard sends, what active/inactive/expired answers mean, caching (positive
// until exp, negative briefly, never errors), single-flight, and every way the endpoint can fail.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { credentialRequest } from '../../src/authn/credentials/request-source.js';
import type { AuthenticationConfig, CredentialSpecOf } from '../../src/authn/credentials/types.js';
import { IntrospectionProvider, type IntrospectionResult } from '../../src/authn/credentials/introspection.js';
import { IdentityPhase } from '../../src/authn/identity-phase.js';
import type { AuthenticatedIdentity } from '../../src/authn/identity.js';
import type { IntrospectionEndpointSettings } from '../../src/config/credential-settings.js';
import { ConfigError, DenyError } from '../../src/errors.js';
import { makeKey, signToken } from '../helpers/keys.js';
import { authzInput, testAuthenticator } from '../helpers/pipeline.js';
import { Workspace } from '../helpers/workspace.js';
import { PROCESS_ENVIRONMENT, type SecretEnvironment } from '../../src/config/secret-source.js';

const CLIENT_ID = 'keycard';
const CLIENT_SECRET = 'p@ss:w/rd 1';
/** RFC 6749 §2.3.1: both form-urlencoded before base64. */
const EXPECTED_AUTHORIZATION = `Basic ${Buffer.from('keycard:p%40ss%3Aw%2Frd+1').toString('base64')}`;

interface Seen {
  readonly method: string;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: URLSearchParams;
}

type Handler = (request: IncomingMessage, response: ServerResponse, seen: Seen) => void;

/** An introspection server on 127.0.0.1:0 whose answers each test sets. */
class IntrospectionServer {
  readonly seen: Seen[] = [];
  handler: Handler = (_request, response) => json(response, { active: false });
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        const seen: Seen = {
          method: request.method ?? '',
          contentType: request.headers['content-type'],
          authorization: request.headers.authorization,
          body: new URLSearchParams(body),
        };
        this.seen.push(seen);
        this.handler(request, response, seen);
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/introspect`;
  }

  /** Tokens asked about, in order. */
  get tokens(): string[] {
    return this.seen.map((seen) => seen.body.get('token') ?? '');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function json(response: ServerResponse, body: unknown, status = 200): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Answers like an authorization server that knows `tokens`, checking the client's credentials. */
function knows(tokens: Record<string, Record<string, unknown>>): Handler {
  return (_request, response, seen) => {
    if (seen.authorization !== EXPECTED_AUTHORIZATION) return json(response, { error: 'invalid_client' }, 401);
    const token = seen.body.get('token') ?? '';
    json(response, Object.hasOwn(tokens, token) ? { active: true, ...tokens[token] } : { active: false });
  };
}

/** A manual clock starting now; lru-cache reads it at most once per real millisecond. */
class Clock {
  ms = Date.now();
  readonly now = () => this.ms;
  get seconds(): number {
    return Math.floor(this.ms / 1000);
  }
  async advance(ms: number): Promise<void> {
    this.ms += ms;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function endpointSettings(name: string, url: string, overrides: Partial<IntrospectionEndpointSettings> = {}): IntrospectionEndpointSettings {
  return {
    name,
    endpoint: url,
    clientId: CLIENT_ID,
    clientSecretEnv: 'INTROSPECTION_SECRET',
    timeout: 1_000,
    cacheMaxTtl: 300_000,
    negativeCacheTtl: 10_000,
    cacheSize: 100,
    ...overrides,
  };
}

interface Observed {
  readonly lookups: string[];
  readonly requests: string[];
  readonly details: string[];
}

function provider(endpoints: IntrospectionEndpointSettings[], clock = new Clock()): { provider: IntrospectionProvider; observed: Observed } {
  const observed: Observed = { lookups: [], requests: [], details: [] };
  const introspection = new IntrospectionProvider(endpoints, {
    clockSkewMs: 0,
    maxTokenBytes: 4096,
    now: clock.now,
    observer: {
      cacheLookup: (endpoint, hit) => observed.lookups.push(`${endpoint}:${hit ? 'hit' : 'miss'}`),
      request: (endpoint, result: IntrospectionResult, detail) => {
        observed.requests.push(`${endpoint}:${result}`);
        if (detail !== undefined) observed.details.push(detail);
      },
    },
  });
  introspection.loadSecrets('keycard.yaml', environment({ INTROSPECTION_SECRET: CLIENT_SECRET }));
  return { provider: introspection, observed };
}

const spec = (...endpoints: string[]): CredentialSpecOf<'introspection'> => ({ kind: 'introspection', header: 'authorization', endpoints });

function verify(introspection: IntrospectionProvider, token: string, endpoints: string[] = ['idp']): Promise<AuthenticatedIdentity> {
  const request = credentialRequest(authzInput('s', '/', { headers: new Map([['authorization', `Bearer ${token}`]]) }));
  const found = introspection.find(request, spec(...endpoints));
  if (!found) throw new Error('no credential found');
  return found.verify();
}

async function denial(promise: Promise<unknown>): Promise<DenyError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DenyError) return error;
    throw error;
  }
  throw new Error('expected a deny');
}

let server: IntrospectionServer;
let other: IntrospectionServer;

beforeAll(async () => {
  server = await new IntrospectionServer().start();
  other = await new IntrospectionServer().start();
});

afterAll(async () => {
  await server.close();
  await other.close();
});

afterEach(() => {
  server.seen.length = 0;
  other.seen.length = 0;
});

describe('introspection: the call', () => {
  it('POSTs token and token_type_hint as a form, with HTTP Basic client authentication (RFC 6749 §2.3.1 encoding)', async () => {
    server.handler = knows({ 'opaque-1': { sub: 'alice' } });
    const { provider: introspection } = provider([endpointSettings('idp', server.url)]);
    await verify(introspection, 'opaque-1');
    expect(server.seen).toHaveLength(1);
    const [seen] = server.seen;
    expect(seen!.method).toBe('POST');
    expect(seen!.contentType).toBe('application/x-www-form-urlencoded');
    expect(seen!.authorization).toBe(EXPECTED_AUTHORIZATION);
    expect([...seen!.body]).toEqual([['token', 'opaque-1'], ['token_type_hint', 'access_token']]);
  });

  it('finds the token with claim "certain" on the configured header, and nothing without a Bearer token', () => {
    const { provider: introspection } = provider([endpointSettings('idp', server.url)]);
    const request = (headers: Record<string, string>) => credentialRequest(authzInput('s', '/', { headers: new Map(Object.entries(headers)) }));
    expect(introspection.find(request({ 'x-token': 'Bearer abc' }), { ...spec('idp'), header: 'x-token' })).toMatchObject({ kind: 'introspection', carrier: 'header:x-token', claim: 'certain' });
    expect(introspection.find(request({ authorization: 'Basic abc' }), spec('idp'))).toBeUndefined();
    expect(introspection.find(request({}), spec('idp'))).toBeUndefined();
    expect(() => introspection.find(request({ authorization: 'Bearer a b' }), spec('idp'))).toThrow(DenyError);
  });
});

describe('introspection: answers', () => {
  it('active: the subject, the endpoint as issuer, every other member as a claim, exp as expiry', async () => {
    const clock = new Clock();
    const exp = clock.seconds + 600;
    server.handler = knows({ 'opaque-1': { sub: 'alice', scope: 'orders:read orders:write', client_id: 'web', exp, iat: clock.seconds, acr: 'urn:mfa', amr: ['pwd', 'otp'], auth_time: clock.seconds - 5 } });
    const { provider: introspection, observed } = provider([endpointSettings('idp', server.url)], clock);
    const identity = await verify(introspection, 'opaque-1');
    expect(identity).toEqual({
      authenticated: true,
      subject: 'alice',
      issuer: 'idp',
      credential: 'introspection',
      claims: { sub: 'alice', scope: 'orders:read orders:write', client_id: 'web', exp, iat: clock.seconds, acr: 'urn:mfa', amr: ['pwd', 'otp'], auth_time: clock.seconds - 5 },
      expiresAt: exp,
    });
    expect(identity.claims).not.toHaveProperty('active');
    expect(observed.requests).toEqual(['idp:active']);
  });

  it('inactive: token_inactive', async () => {
    server.handler = knows({});
    const { provider: introspection, observed } = provider([endpointSettings('idp', server.url)]);
    expect((await denial(verify(introspection, 'unknown'))).reason).toBe('token_inactive');
    expect(observed.requests).toEqual(['idp:inactive']);
  });

  it('active but expired (exp passed): token_expired; nbf or iat in the future: token_not_yet_valid', async () => {
    const clock = new Clock();
    server.handler = knows({
      old: { sub: 'alice', exp: clock.seconds - 10 },
      later: { sub: 'alice', exp: clock.seconds + 600, nbf: clock.seconds + 60 },
      issuedLater: { sub: 'alice', exp: clock.seconds + 600, iat: clock.seconds + 60 },
    });
    const { provider: introspection } = provider([endpointSettings('idp', server.url)], clock);
    expect((await denial(verify(introspection, 'old'))).reason).toBe('token_expired');
    expect((await denial(verify(introspection, 'later'))).reason).toBe('token_not_yet_valid');
    expect((await denial(verify(introspection, 'issuedLater'))).reason).toBe('token_not_yet_valid');
  });

  it.each([
    ['no sub', { scope: 'x' }],
    ['an empty sub', { sub: '' }],
    ['a numeric sub', { sub: 42 }],
    ['a sub of 257 characters', { sub: 'a'.repeat(257) }],
    ['a sub with a line break (it would forge x-keycard-subject)', { sub: 'alice\nx-keycard-roles: admin' }],
    ['a sub with surrounding spaces', { sub: 'root ' }],
    ['a string exp', { sub: 'alice', exp: '9999999999' }],
  ])('active with %s: invalid_claims', async (_name, answer) => {
    server.handler = knows({ odd: answer });
    const { provider: introspection } = provider([endpointSettings('idp', server.url)]);
    expect((await denial(verify(introspection, 'odd'))).reason).toBe('invalid_claims');
  });

  it('an active answer without exp is trusted for cacheMaxTtl (at least a minute)', async () => {
    const clock = new Clock();
    server.handler = knows({ forever: { sub: 'alice' } });
    const { provider: introspection } = provider([endpointSettings('idp', server.url, { cacheMaxTtl: 120_000 })], clock);
    expect((await verify(introspection, 'forever')).expiresAt).toBe((clock.ms + 120_000) / 1000);
  });

  it('refuses a token longer than maxTokenBytes without asking', async () => {
    const { provider: introspection } = provider([endpointSettings('idp', server.url)]);
    expect((await denial(verify(introspection, 'x'.repeat(4097)))).reason).toBe('token_too_large');
    expect(server.seen).toHaveLength(0);
  });
});

describe('introspection: caching', () => {
  it('answers an active token from the cache (counted as hits) until its exp', async () => {
    const clock = new Clock();
    server.handler = knows({ 'opaque-1': { sub: 'alice', exp: clock.seconds + 30 } });
    const { provider: introspection, observed } = provider([endpointSettings('idp', server.url)], clock);
    for (let i = 0; i < 3; i++) expect((await verify(introspection, 'opaque-1')).subject).toBe('alice');
    expect(server.seen).toHaveLength(1);
    expect(observed.lookups).toEqual(['idp:miss', 'idp:hit', 'idp:hit']);
    await clock.advance(31_000);
    // Past exp the cached answer is gone; the server (asked again) now says expired.
    expect((await denial(verify(introspection, 'opaque-1'))).reason).toBe('token_expired');
    expect(server.seen).toHaveLength(2);
  });

  it('caches an active token at most cacheMaxTtl, even when exp is later', async () => {
    const clock = new Clock();
    server.handler = knows({ 'opaque-1': { sub: 'alice', exp: clock.seconds + 3600 } });
    const { provider: introspection } = provider([endpointSettings('idp', server.url, { cacheMaxTtl: 5_000 })], clock);
    await verify(introspection, 'opaque-1');
    await clock.advance(4_000);
    await verify(introspection, 'opaque-1');
    expect(server.seen).toHaveLength(1);
    await clock.advance(2_000);
    await verify(introspection, 'opaque-1');
    expect(server.seen).toHaveLength(2);
  });

  it('remembers an inactive token for negativeCacheTtl, then asks again', async () => {
    const clock = new Clock();
    let tokens: Record<string, Record<string, unknown>> = {};
    server.handler = (request, response, seen) => knows(tokens)(request, response, seen);
    const { provider: introspection, observed } = provider([endpointSettings('idp', server.url, { negativeCacheTtl: 2_000 })], clock);
    expect((await denial(verify(introspection, 'new-token'))).reason).toBe('token_inactive');
    expect((await denial(verify(introspection, 'new-token'))).reason).toBe('token_inactive');
    expect(server.seen).toHaveLength(1);
    // The token becomes active at the server; keycard notices once the negative entry expires.
    tokens = { 'new-token': { sub: 'bob' } };
    await clock.advance(1_500);
    expect((await denial(verify(introspection, 'new-token'))).reason).toBe('token_inactive');
    await clock.advance(1_000);
    expect((await verify(introspection, 'new-token')).subject).toBe('bob');
    expect(server.seen).toHaveLength(2);
    expect(observed.lookups).toEqual(['idp:miss', 'idp:hit', 'idp:hit', 'idp:miss']);
  });

  it('never caches a failure: the next request asks again', async () => {
    let fail = true;
    server.handler = (request, response, seen) => (fail ? json(response, { error: 'down' }, 500) : knows({ t: { sub: 'alice' } })(request, response, seen));
    const { provider: introspection, observed } = provider([endpointSettings('idp', server.url)]);
    expect((await denial(verify(introspection, 't'))).reason).toBe('introspection_unavailable');
    fail = false;
    expect((await verify(introspection, 't')).subject).toBe('alice');
    expect(server.seen).toHaveLength(2);
    expect(observed.requests).toEqual(['idp:http_error', 'idp:active']);
  });

  it('makes one call for concurrent requests with the same new token (single-flight)', async () => {
    server.handler = (request, response, seen) => setTimeout(() => knows({ burst: { sub: 'alice' } })(request, response, seen), 100);
    const { provider: introspection } = provider([endpointSettings('idp', server.url)]);
    const identities = await Promise.all(Array.from({ length: 20 }, () => verify(introspection, 'burst')));
    expect(server.seen).toHaveLength(1);
    expect(new Set(identities.map((identity) => identity.subject))).toEqual(new Set(['alice']));
    // Different tokens are different calls.
    await Promise.all([verify(introspection, 'other-1').catch(() => undefined), verify(introspection, 'other-2').catch(() => undefined)]);
    expect(server.tokens.slice(1).sort()).toEqual(['other-1', 'other-2']);
  });

  it('keeps the caches of two endpoints apart', async () => {
    server.handler = knows({});
    other.handler = knows({ shared: { sub: 'carol' } });
    const { provider: introspection } = provider([endpointSettings('idp', server.url), endpointSettings('legacy', other.url)]);
    expect((await denial(verify(introspection, 'shared', ['idp']))).reason).toBe('token_inactive');
    expect((await verify(introspection, 'shared', ['legacy'])).issuer).toBe('legacy');
    expect((await denial(verify(introspection, 'shared', ['idp']))).reason).toBe('token_inactive');
    expect(server.seen).toHaveLength(1);
    expect(other.seen).toHaveLength(1);
  });
});

describe('introspection: several endpoints', () => {
  it('asks in order until one says active', async () => {
    server.handler = knows({});
    other.handler = knows({ t: { sub: 'dave' } });
    const { provider: introspection } = provider([endpointSettings('idp', server.url), endpointSettings('legacy', other.url)]);
    expect(await verify(introspection, 't', ['idp', 'legacy'])).toMatchObject({ subject: 'dave', issuer: 'legacy' });
    server.handler = knows({ u: { sub: 'erin' } });
    expect(await verify(introspection, 'u', ['idp', 'legacy'])).toMatchObject({ subject: 'erin', issuer: 'idp' });
    expect(other.tokens).toEqual(['t']);
  });

  it('all inactive: token_inactive; one failed and none active: introspection_unavailable; one failed, another active: allowed', async () => {
    server.handler = knows({});
    other.handler = knows({});
    const { provider: introspection } = provider([endpointSettings('idp', server.url), endpointSettings('legacy', other.url)]);
    expect((await denial(verify(introspection, 'a', ['idp', 'legacy']))).reason).toBe('token_inactive');
    server.handler = (_request, response) => json(response, {}, 502);
    expect((await denial(verify(introspection, 'b', ['idp', 'legacy']))).reason).toBe('introspection_unavailable');
    other.handler = knows({ c: { sub: 'frank' } });
    expect((await verify(introspection, 'c', ['idp', 'legacy'])).subject).toBe('frank');
  });
});

describe('introspection: failures are 503 introspection_unavailable, never an allow', () => {
  async function failure(handler: Handler, settings: Partial<IntrospectionEndpointSettings> = {}) {
    server.handler = handler;
    const { provider: introspection, observed } = provider([endpointSettings('idp', server.url, settings)]);
    const started = Date.now();
    const error = await denial(verify(introspection, 'secret-token-value'));
    return { error, observed, ms: Date.now() - started };
  }

  it('a server that never answers: a timeout after `timeout`', async () => {
    const { error, observed, ms } = await failure(() => undefined, { timeout: 200 });
    expect(error.reason).toBe('introspection_unavailable');
    expect(observed.requests).toEqual(['idp:timeout']);
    expect(ms).toBeLessThan(2_000);
  });

  it('a server that sends headers, then stalls the body: a timeout too', async () => {
    const { error, observed } = await failure((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"active":');
    }, { timeout: 300 });
    expect(error.reason).toBe('introspection_unavailable');
    expect(observed.requests).toEqual(['idp:timeout']);
  });

  it('a redirect is not followed (the token would go somewhere else)', async () => {
    other.handler = knows({ 'secret-token-value': { sub: 'mallory' } });
    const { error, observed } = await failure((_request, response) => {
      response.writeHead(307, { location: other.url });
      response.end();
    });
    expect(error.reason).toBe('introspection_unavailable');
    expect(observed.requests).toEqual(['idp:unreachable']);
    expect(other.seen).toHaveLength(0);
  });

  it('a body over 64 KiB is refused, declared or streamed', async () => {
    const declared = await failure((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(200_000) });
      response.write(`{"active":true,"sub":"alice","x":"`);
    });
    expect(declared.error.reason).toBe('introspection_unavailable');
    expect(declared.observed.details).toEqual(['the response is larger than 65536 bytes']);
    const streamed = await failure((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(`{"active":true,"sub":"alice","x":"`);
      const chunk = 'x'.repeat(16_384);
      let sent = 0;
      const timer = setInterval(() => {
        // Up to 10 MiB, unless the client goes away first.
        if (response.destroyed || sent > 10 * 1024 * 1024) return clearInterval(timer);
        response.write(chunk);
        sent += chunk.length;
      }, 1);
    });
    expect(streamed.error.reason).toBe('introspection_unavailable');
    expect(streamed.observed.details).toEqual(['the response is larger than 65536 bytes']);
  });

  it.each([
    ['not JSON', 'active=true', 'the response is not JSON'],
    ['a JSON array', '[{"active":true,"sub":"alice"}]', 'the response is not a JSON object'],
    ['"active" as a string', '{"active":"true","sub":"alice"}', '"active" is missing or not a boolean'],
    ['no "active"', '{"sub":"alice"}', '"active" is missing or not a boolean'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'the response is not UTF-8'],
  ])('garbage (%s)', async (_name, body, detail) => {
    const { error, observed } = await failure((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(body);
    });
    expect(error.reason).toBe('introspection_unavailable');
    expect(observed.requests).toEqual(['idp:invalid_response']);
    expect(observed.details).toEqual([detail]);
  });

  it('wrong client credentials (401 from the server)', async () => {
    server.handler = knows({ 'secret-token-value': { sub: 'alice' } });
    const introspection = new IntrospectionProvider([endpointSettings('idp', server.url)], { clockSkewMs: 0, maxTokenBytes: 4096 });
    introspection.loadSecrets('keycard.yaml', environment({ INTROSPECTION_SECRET: 'wrong-secret' }));
    const error = await denial(verify(introspection, 'secret-token-value'));
    expect(error.reason).toBe('introspection_unavailable');
    expect(error.detail).toBe('idp: HTTP 401');
  });

  it('an endpoint nobody listens on', async () => {
    const closed = await new IntrospectionServer().start();
    const url = closed.url;
    await closed.close();
    const { provider: introspection, observed } = provider([endpointSettings('idp', url)]);
    expect((await denial(verify(introspection, 'secret-token-value'))).reason).toBe('introspection_unavailable');
    expect(observed.requests).toEqual(['idp:unreachable']);
    expect(observed.details[0]).toContain('ECONNREFUSED');
  });

  it('never puts the token or the client secret into a detail', async () => {
    const results = await Promise.all([
      failure(() => undefined, { timeout: 100 }),
      failure((_request, response) => json(response, { echo: 'secret-token-value' }, 400)),
    ]);
    for (const { error, observed } of results) {
      for (const text of [error.detail ?? '', ...observed.details]) {
        expect(text).not.toContain('secret-token-value');
        expect(text).not.toContain(CLIENT_SECRET);
      }
    }
  });
});

describe('introspection: client secrets', () => {
  it('reads the secret from a file (without its final newline) or the environment', async () => {
    const workspace = new Workspace();
    try {
      server.handler = knows({ t: { sub: 'alice' } });
      const file = workspace.write('secret', `${CLIENT_SECRET}\n`);
      const introspection = new IntrospectionProvider([endpointSettings('idp', server.url, { clientSecretEnv: undefined, clientSecretFile: file })], { clockSkewMs: 0, maxTokenBytes: 4096 });
      introspection.loadSecrets('keycard.yaml', environment({}));
      expect((await verify(introspection, 't')).subject).toBe('alice');
    } finally {
      workspace.remove();
    }
  });

  it('a missing or empty secret, credentials in the URL and plain http to another host are located ConfigErrors', () => {
    const introspection = new IntrospectionProvider(
      [
        endpointSettings('a', server.url, { clientSecretEnv: 'UNSET_SECRET' }),
        endpointSettings('b', server.url, { clientSecretEnv: undefined, clientSecretFile: '/nonexistent/secret' }),
        endpointSettings('c', 'https://user:pw@idp.example/introspect'),
        endpointSettings('d', 'http://idp.example/introspect'),
      ],
      { clockSkewMs: 0, maxTokenBytes: 4096 },
    );
    let error: unknown;
    try {
      introspection.loadSecrets('keycard.yaml', environment({ INTROSPECTION_SECRET: CLIENT_SECRET, UNSET_SECRET: '' }));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => `${issue.key}: ${issue.message}`)).toEqual([
      'introspection[0].clientSecretEnv: the environment variable UNSET_SECRET (the client secret of introspection endpoint a) is not set or empty',
      'introspection[1].clientSecretFile: the client secret of introspection endpoint b cannot be read from /nonexistent/secret: ENOENT',
      'introspection[2].endpoint: put the client credentials in clientId and clientSecretFile/clientSecretEnv, not in the URL',
      'introspection[3].endpoint: the endpoint must use https (http only for loopback addresses): the client secret and tokens travel to it',
    ]);
  });

  it('before the secrets are loaded (offline tools), an opaque token is introspection_unavailable without a call', async () => {
    const introspection = new IntrospectionProvider([endpointSettings('idp', server.url)], { clockSkewMs: 0, maxTokenBytes: 4096 });
    expect((await denial(verify(introspection, 't'))).reason).toBe('introspection_unavailable');
    expect(server.seen).toHaveLength(0);
  });
});

describe('introspection beside jwt on one header', () => {
  it('an opaque token goes to introspection, a JWS to the JWT verifier', async () => {
    const workspace = new Workspace();
    try {
      const key = await makeKey('ES256');
      const phase = new IdentityPhase({ jwt: await testAuthenticator(workspace, key), introspection: provider([endpointSettings('idp', server.url)]).provider });
      server.handler = knows({ 'opaque-token': { sub: 'olga' } });
      const config: AuthenticationConfig = {
        credentials: [{ kind: 'jwt', header: 'authorization', issuers: undefined, types: undefined }, spec('idp')],
        onMultiple: 'reject',
      };
      const as = (token: string) => phase.authenticate(credentialRequest(authzInput('s', '/', { headers: new Map([['authorization', `Bearer ${token}`]]) })), config);
      expect(await as('opaque-token')).toMatchObject({ subject: 'olga', credential: 'introspection' });
      expect(await as(await signToken(key, { sub: 'jay' }))).toMatchObject({ subject: 'jay', credential: 'jwt' });
      expect(server.tokens).toEqual(['opaque-token']);
    } finally {
      workspace.remove();
    }
  });
});

/** The process's files, with these environment variables instead of the process's. */
function environment(env: Record<string, string>): SecretEnvironment {
  return { ...PROCESS_ENVIRONMENT, env };
}
