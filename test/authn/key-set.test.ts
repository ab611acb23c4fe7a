// KeySet: loading, single-flight refresh, rate-limited refresh on unknown kids, keeping the last
// good keys, refusing private/symmetric key material, and the file and URI loaders.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors, exportJWK, generateSecret, jwtVerify, type JWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileLoader, JwksUnavailableError, KeySet, publicKeysOnly, uriLoader, type JwksLoader, type KeySetOptions } from '../../src/authn/key-set.js';
import { jwks, makeKey, signToken, type TestKey } from '../helpers/keys.js';
import { Workspace } from '../helpers/workspace.js';

let a: TestKey;
let b: TestKey;

beforeAll(async () => {
  [a, b] = await Promise.all([makeKey('ES256', 'key-a'), makeKey('RS256', 'key-b')]);
});

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.useRealTimers();
});

/** An in-memory loader: answers with `value` (or throws `failure`), optionally held until released. */
class FakeLoader implements JwksLoader {
  readonly description = 'memory://jwks';
  calls = 0;
  value: unknown;
  failure: Error | undefined;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(value: unknown) {
    this.value = value;
  }

  /** Holds every load until release(). */
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async load(): Promise<unknown> {
    this.calls += 1;
    if (this.gate) await this.gate;
    if (this.failure) throw this.failure;
    return structuredClone(this.value);
  }
}

interface Fetches {
  readonly results: ('ok' | 'error')[];
  readonly errors: (Error | undefined)[];
}

function keySet(loader: JwksLoader, options: Partial<KeySetOptions> = {}): { keys: KeySet; fetches: Fetches } {
  const fetches: Fetches = { results: [], errors: [] };
  const keys = new KeySet(loader, {
    refreshIntervalMs: 300_000,
    minRefreshIntervalMs: 0,
    onFetch: (result, error) => {
      fetches.results.push(result);
      fetches.errors.push(error);
    },
    ...options,
  });
  cleanups.push(() => keys.stop());
  return { keys, fetches };
}

/** Verifies a token signed by `key` with the KeySet as jose's key resolver; returns its subject. */
async function verifyWith(keys: KeySet, key: TestKey): Promise<string | undefined> {
  const { payload } = await jwtVerify(await signToken(key), keys.getKey);
  return payload.sub;
}

describe('KeySet loading', () => {
  it('is not ready until keys have loaded, then reports the fetch as ok', async () => {
    const loader = new FakeLoader(jwks(a));
    const { keys, fetches } = keySet(loader);
    expect(keys.ready).toBe(false);
    await keys.refresh();
    expect(keys.ready).toBe(true);
    expect(loader.calls).toBe(1);
    expect(fetches.results).toEqual(['ok']);
    expect(fetches.errors).toEqual([undefined]);
    expect(await verifyWith(keys, a)).toBe('alice');
  });

  it('reports a failed fetch as an error naming the source, and stays not ready', async () => {
    const loader = new FakeLoader(jwks(a));
    loader.failure = new Error('connection refused');
    const { keys, fetches } = keySet(loader);
    const failure = await keys.refresh().then(
      () => expect.fail('refresh should reject'),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(JwksUnavailableError);
    expect(String(failure)).toMatch(/memory:\/\/jwks: connection refused/);
    expect(keys.ready).toBe(false);
    expect(fetches.results).toEqual(['error']);
    expect(fetches.errors[0]).toBe(failure);
  });

  it('loads keys on first use when none are loaded', async () => {
    const loader = new FakeLoader(jwks(a));
    const { keys } = keySet(loader, { minRefreshIntervalMs: 60_000 });
    expect(await verifyWith(keys, a)).toBe('alice');
    expect(loader.calls).toBe(1);
    expect(keys.ready).toBe(true);
  });

  it('throws JwksUnavailableError from getKey when no keys can be loaded, retrying at most once per minRefreshInterval', async () => {
    let now = 5_000_000;
    const loader = new FakeLoader(jwks(a));
    loader.failure = new Error('down');
    const { keys } = keySet(loader, { minRefreshIntervalMs: 10_000, now: () => now });
    await expect(verifyWith(keys, a)).rejects.toBeInstanceOf(JwksUnavailableError);
    await expect(verifyWith(keys, a)).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(loader.calls).toBe(1);

    loader.failure = undefined;
    now += 9_999;
    await expect(verifyWith(keys, a)).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(loader.calls).toBe(1);
    now += 1;
    expect(await verifyWith(keys, a)).toBe('alice');
    expect(loader.calls).toBe(2);
  });

  it('start() loads the keys and does not throw when loading fails', async () => {
    const good = keySet(new FakeLoader(jwks(a)));
    await good.keys.start();
    expect(good.keys.ready).toBe(true);

    const failing = new FakeLoader(jwks(a));
    failing.failure = new Error('down');
    const bad = keySet(failing);
    await expect(bad.keys.start()).resolves.toBeUndefined();
    expect(bad.keys.ready).toBe(false);
    expect(bad.fetches.results).toEqual(['error']);
  });

  it('refreshes in the background every refreshInterval until stop()', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const loader = new FakeLoader(jwks(a));
    const { keys } = keySet(loader, { refreshIntervalMs: 1_000 });
    await keys.start();
    expect(loader.calls).toBe(1);

    loader.value = jwks(a, b);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(loader.calls).toBe(2);
    expect(await verifyWith(keys, b)).toBe('alice');

    await vi.advanceTimersByTimeAsync(2_000);
    expect(loader.calls).toBe(4);
    keys.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(loader.calls).toBe(4);
  });
});

describe('KeySet single-flight refresh', () => {
  it('shares one load between concurrent refresh() calls', async () => {
    const loader = new FakeLoader(jwks(a));
    const { keys, fetches } = keySet(loader);
    loader.hold();
    const refreshes = [keys.refresh(), keys.refresh(), keys.refresh()];
    expect(refreshes[1]).toBe(refreshes[0]);
    loader.release();
    await Promise.all(refreshes);
    expect(loader.calls).toBe(1);
    expect(fetches.results).toEqual(['ok']);

    await keys.refresh(); // a later refresh is a new load
    expect(loader.calls).toBe(2);
  });

  it('shares one failed load between concurrent callers, and a later refresh tries again', async () => {
    const loader = new FakeLoader(jwks(a));
    loader.failure = new Error('down');
    const { keys } = keySet(loader);
    loader.hold();
    const refreshes = [keys.refresh(), keys.refresh()].map((refresh) => refresh.then(() => 'ok', (error: unknown) => error));
    loader.release();
    const outcomes = await Promise.all(refreshes);
    expect(outcomes[0]).toBeInstanceOf(JwksUnavailableError);
    expect(outcomes[1]).toBe(outcomes[0]);
    expect(loader.calls).toBe(1);

    loader.failure = undefined;
    await keys.refresh();
    expect(loader.calls).toBe(2);
    expect(keys.ready).toBe(true);
  });

  it('shares one load between concurrent getKey calls for an unknown kid', async () => {
    const loader = new FakeLoader(jwks(a));
    const { keys } = keySet(loader);
    await keys.refresh();
    loader.value = jwks(a, b);
    loader.hold();
    const verifications = [verifyWith(keys, b), verifyWith(keys, b), verifyWith(keys, b)];
    // Let all three reach the refresh before it completes.
    await vi.waitFor(() => expect(loader.calls).toBe(2));
    loader.release();
    expect(await Promise.all(verifications)).toEqual(['alice', 'alice', 'alice']);
    expect(loader.calls).toBe(2);
  });
});

describe('KeySet refresh on unknown kid', () => {
  it('refreshes when a token names an unknown kid, picking up a rotated key', async () => {
    const loader = new FakeLoader(jwks(a));
    const { keys } = keySet(loader, { minRefreshIntervalMs: 0 });
    await keys.refresh();
    await expect(verifyWith(keys, b)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(loader.calls).toBe(2);

    loader.value = jwks(a, b);
    expect(await verifyWith(keys, b)).toBe('alice');
    expect(loader.calls).toBe(3);
    expect(await verifyWith(keys, a)).toBe('alice');
    expect(loader.calls).toBe(3);
  });

  it('refreshes at most once per minRefreshInterval', async () => {
    let now = 1_000_000;
    const loader = new FakeLoader(jwks(a));
    const { keys } = keySet(loader, { minRefreshIntervalMs: 30_000, now: () => now });
    await keys.refresh();
    loader.value = jwks(a, b);
    for (let i = 0; i < 3; i += 1) await expect(verifyWith(keys, b)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(loader.calls).toBe(1);

    now += 29_999;
    await expect(verifyWith(keys, b)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(loader.calls).toBe(1);

    now += 1;
    expect(await verifyWith(keys, b)).toBe('alice');
    expect(loader.calls).toBe(2);
  });

  it('waits for a refresh already under way instead of failing, even inside the interval', async () => {
    const loader = new FakeLoader(jwks(a, b));
    const { keys } = keySet(loader, { minRefreshIntervalMs: 60_000 });
    const token = await signToken(b);
    loader.hold();
    const first = keys.refresh(); // the start-up load, still in flight
    const verification = jwtVerify(token, keys.getKey);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the verification is now waiting for keys
    loader.release();
    await first;
    expect((await verification).payload.sub).toBe('alice');
    expect(loader.calls).toBe(1);
  });

  it('counts a failed refresh against the interval too', async () => {
    let now = 1_000_000;
    const loader = new FakeLoader(jwks(a));
    const { keys } = keySet(loader, { minRefreshIntervalMs: 30_000, now: () => now });
    await keys.refresh();
    now += 30_000;
    loader.failure = new Error('down');
    await expect(verifyWith(keys, b)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(loader.calls).toBe(2);
    loader.failure = undefined;
    loader.value = jwks(a, b);
    await expect(verifyWith(keys, b)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(loader.calls).toBe(2);
  });

  it('keeps the last good keys when a refresh fails or returns an invalid JWKS', async () => {
    const loader = new FakeLoader(jwks(a));
    const { keys, fetches } = keySet(loader);
    await keys.refresh();

    loader.failure = new Error('HTTP 502');
    await expect(keys.refresh()).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(keys.ready).toBe(true);
    expect(await verifyWith(keys, a)).toBe('alice');

    loader.failure = undefined;
    loader.value = { keys: [{ ...b.publicJwk, d: 'c2VjcmV0' }] };
    await expect(keys.refresh()).rejects.toThrow(/private key material/);
    expect(await verifyWith(keys, a)).toBe('alice');
    expect(fetches.results).toEqual(['ok', 'error', 'error']);
  });
});

describe('publicKeysOnly', () => {
  it('passes a set of public keys through', () => {
    const set = jwks(a, b);
    expect(publicKeysOnly(set)).toEqual(set);
    expect(publicKeysOnly({ keys: [] })).toEqual({ keys: [] });
  });

  it.each([
    ['null', null],
    ['a string', 'keys'],
    ['an object without keys', { jwks: [] }],
    ['keys that is not an array', { keys: {} }],
  ])('refuses %s as not a JWKS', (_label, value) => {
    expect(() => publicKeysOnly(value)).toThrow(/not a JWKS/);
  });

  it('refuses a key that is not an object', () => {
    expect(() => publicKeysOnly({ keys: [null] })).toThrow(/not an object/);
    expect(() => publicKeysOnly({ keys: ['x'] })).toThrow(/not an object/);
  });

  it('refuses private key material', async () => {
    const privateJwk: JWK = await exportJWK(a.privateKey);
    expect(privateJwk.d).toBeDefined();
    expect(() => publicKeysOnly({ keys: [a.publicJwk, privateJwk] })).toThrow(/private key material/);
    expect(() => publicKeysOnly({ keys: [{ ...b.publicJwk, p: 'AQAB' }] })).toThrow(/private key material/);
  });

  it('refuses symmetric keys', async () => {
    const oct: JWK = await exportJWK(await generateSecret('HS256', { extractable: true }));
    expect(() => publicKeysOnly({ keys: [oct] })).toThrow(/symmetric/);
    expect(() => publicKeysOnly({ keys: [{ kty: 'oct' }] })).toThrow(/symmetric/);
    expect(() => publicKeysOnly({ keys: [{ ...a.publicJwk, k: 'c2VjcmV0' }] })).toThrow(/private key material/);
  });
});

describe('fileLoader', () => {
  it('reads a JWKS file, fresh on every load', async () => {
    const workspace = new Workspace();
    cleanups.push(() => workspace.remove());
    const file = workspace.write('jwks.json', jwks(a));
    const loader = fileLoader(file);
    expect(loader.description).toBe(file);
    expect(await loader.load()).toEqual(jwks(a));
    workspace.write('jwks.json', jwks(a, b));
    expect(await loader.load()).toEqual(jwks(a, b));
  });

  it('rejects a missing file and a file that is not JSON', async () => {
    const workspace = new Workspace();
    cleanups.push(() => workspace.remove());
    await expect(fileLoader(workspace.path('absent.json')).load()).rejects.toThrow(/ENOENT/);
    await expect(fileLoader(workspace.write('broken.json', '{"keys": [')).load()).rejects.toThrow(SyntaxError);
  });
});

describe('uriLoader', () => {
  type Handler = (response: ServerResponse, path: string) => void;

  async function serve(handler: Handler): Promise<{ url: (path?: string) => string; requests: { path: string; headers: IncomingHttpHeaders }[]; server: Server }> {
    const requests: { path: string; headers: IncomingHttpHeaders }[] = [];
    const server = createServer((request, response) => {
      requests.push({ path: request.url ?? '', headers: request.headers });
      handler(response, request.url ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as AddressInfo;
    return { url: (path = '/jwks.json') => `http://127.0.0.1:${port}${path}`, requests, server };
  }

  const json = (status: number, body: unknown): Handler => (response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

  it('fetches the JWKS as JSON', async () => {
    const endpoint = await serve(json(200, jwks(a)));
    const loader = uriLoader(endpoint.url(), 2_000);
    expect(loader.description).toBe(endpoint.url());
    expect(await loader.load()).toEqual(jwks(a));
    expect(endpoint.requests).toHaveLength(1);
    expect(endpoint.requests[0]?.headers.accept).toBe('application/json');
  });

  it('rejects a non-200 answer', async () => {
    const endpoint = await serve(json(500, { error: 'boom' }));
    await expect(uriLoader(endpoint.url(), 2_000).load()).rejects.toThrow('HTTP 500');
  });

  it('rejects a body that is not JSON', async () => {
    const endpoint = await serve((response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>login</html>');
    });
    await expect(uriLoader(endpoint.url(), 2_000).load()).rejects.toThrow(SyntaxError);
  });

  it('does not follow redirects', async () => {
    const endpoint = await serve((response, path) => {
      if (path === '/jwks.json') {
        response.writeHead(302, { location: '/elsewhere.json' });
        response.end();
      } else json(200, jwks(a))(response, path);
    });
    await expect(uriLoader(endpoint.url(), 2_000).load()).rejects.toThrow();
    expect(endpoint.requests.map((request) => request.path)).toEqual(['/jwks.json']);
  });

  it('rejects a JWKS larger than 1 MiB', async () => {
    const endpoint = await serve(json(200, { keys: [], padding: 'x'.repeat(1024 * 1024) }));
    await expect(uriLoader(endpoint.url(), 5_000).load()).rejects.toThrow(/larger than/);
  });

  it('stops reading a chunked body (no content-length) once it passes 1 MiB', async () => {
    let written = 0;
    const endpoint = await serve((response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        // Stops by itself after 4 MiB; the loader must have given up long before.
        while (written < 4 * 1024 * 1024 && response.write(chunk)) written += chunk.length;
        if (written < 4 * 1024 * 1024) response.once('drain', pump);
        else response.end();
      };
      response.write('{"keys":[],"padding":"');
      pump();
    });
    await expect(uriLoader(endpoint.url(), 5_000).load()).rejects.toThrow(/larger than 1048576 bytes/);
  });

  it('rejects when the endpoint refuses connections', async () => {
    const endpoint = await serve(json(200, jwks(a)));
    const url = endpoint.url();
    endpoint.server.closeAllConnections();
    await new Promise<void>((resolve) => endpoint.server.close(() => resolve()));
    await expect(uriLoader(url, 2_000).load()).rejects.toThrow();
  });

  it('gives up after the timeout when the endpoint does not answer', async () => {
    const endpoint = await serve(() => undefined); // never answers
    await expect(uriLoader(endpoint.url(), 100).load()).rejects.toThrow();
    expect(endpoint.requests).toHaveLength(1);
  });

  it('feeds a KeySet end to end', async () => {
    const endpoint = await serve(json(200, jwks(a, b)));
    const { keys } = keySet(uriLoader(endpoint.url(), 2_000));
    await keys.start();
    expect(keys.ready).toBe(true);
    expect(await verifyWith(keys, b)).toBe('alice');
  });
});
