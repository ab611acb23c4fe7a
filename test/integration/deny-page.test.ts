// keycard as a real process: a browser that prefers text/html gets the HTML deny page (over gRPC
// Check and the HTTP check mode) where the policy turns it on; API clients keep the JSON body; a
// service that does not turn it on answers JSON to everyone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusNumber } from '../../src/protocol/check-client.js';
import { responseHeader, serveKeycard, type ServedKeycard } from '../helpers/keycard-process.js';
import { ORDERS_POLICY, SEED, settingsYaml } from '../helpers/workspace.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const CONTACT = 'the help desk <helpdesk@shop.example>';

const CATALOG = `
service: catalog
rules:
  - { id: read, effect: allow, match: { methods: [GET] }, when: [{ role: customer }] }
`;

let served: ServedKeycard;

beforeAll(async () => {
  served = await serveKeycard(settingsYaml(`http: { listen: 127.0.0.1:0 }\ndenyPage: { supportContact: "${CONTACT}" }`), {
    'seed.yaml': SEED,
    'policies/orders.yaml': `${ORDERS_POLICY}denyPage: { html: true }\n`,
    'policies/catalog.yaml': CATALOG,
  });
});

afterAll(() => served?.close());

describe('HTML deny page over gRPC Check', () => {
  it('answers a browser without a credential with the 401 page, keeping the challenge and the decision id', async () => {
    const response = await served.ask({ service: 'orders', path: '/orders/42', headers: { accept: BROWSER } });
    expect(response.status?.code).toBe(16);
    expect(httpStatusNumber(response.denied_response?.status?.code)).toBe(401);
    expect(responseHeader(response, 'content-type')).toBe('text/html; charset=utf-8');
    expect(responseHeader(response, 'vary')).toBe('accept');
    expect(responseHeader(response, 'cache-control')).toBe('no-store');
    expect(responseHeader(response, 'www-authenticate')).toBe('Bearer realm="orders"');
    expect(responseHeader(response, 'content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-/);
    const page = response.denied_response?.body ?? '';
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<h1>401 Sign-in required</h1>');
    expect(page).toContain('Sign in and try again.');
    expect(page).toContain(`Decision id: <code>${responseHeader(response, 'x-keycard-decision-id')}</code>`);
    // The settings file's contact, escaped.
    expect(page).toContain('Contact the help desk &lt;helpdesk@shop.example&gt; and quote the decision id.');
  });

  it('answers a signed-in browser without access with the 403 page', async () => {
    const response = await served.ask({ service: 'orders', path: '/orders/42/refund', method: 'POST', headers: { accept: BROWSER } }, 'alice');
    expect(httpStatusNumber(response.denied_response?.status?.code)).toBe(403);
    const page = response.denied_response?.body ?? '';
    expect(page).toContain('<h1>403 Access denied</h1>');
    expect(page).toContain('Service: <code>orders</code>');
    // Nothing of the caller's token on the page.
    expect(page).not.toContain('eyJ');
    expect(page).not.toContain('alice');
  });

  it('answers API clients with JSON on the same service', async () => {
    for (const accept of ['application/json', '*/*', 'text/html, application/json']) {
      const response = await served.ask({ service: 'orders', path: '/orders/42', headers: { accept } });
      expect(responseHeader(response, 'content-type'), accept).toBe('application/json');
      expect(responseHeader(response, 'vary'), accept).toBe('accept');
      const body = JSON.parse(response.denied_response?.body ?? '{}') as Record<string, unknown>;
      expect(body, accept).toMatchObject({ error: 'unauthenticated', reason: 'authentication_required', decision_id: responseHeader(response, 'x-keycard-decision-id') });
    }
    const noAccept = await served.ask({ service: 'orders', path: '/orders/42' });
    expect(responseHeader(noAccept, 'content-type')).toBe('application/json');
  });

  it('keeps JSON for browsers on a service that does not turn the page on (off by default)', async () => {
    const response = await served.ask({ service: 'catalog', path: '/products', headers: { accept: BROWSER } });
    expect(httpStatusNumber(response.denied_response?.status?.code)).toBe(401);
    expect(responseHeader(response, 'content-type')).toBe('application/json');
    expect(responseHeader(response, 'vary')).toBeUndefined();
    expect(JSON.parse(response.denied_response?.body ?? '{}')).toMatchObject({ reason: 'authentication_required' });
  });

  it('keeps JSON for an unknown service: the settings file does not turn the page on', async () => {
    const response = await served.ask({ service: 'nowhere', path: '/', headers: { accept: BROWSER } });
    expect(responseHeader(response, 'content-type')).toBe('application/json');
    expect(JSON.parse(response.denied_response?.body ?? '{}')).toMatchObject({ reason: 'unknown_service' });
  });
});

describe('HTML deny page in the HTTP check mode', () => {
  it('answers the same page to a browser and JSON to an API client', async () => {
    const browser = await fetch(`${served.keycard.httpUrl}/service/orders/orders/42`, { headers: { accept: BROWSER } });
    expect(browser.status).toBe(401);
    expect(browser.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(browser.headers.get('vary')).toBe('accept');
    expect(browser.headers.get('www-authenticate')).toBe('Bearer realm="orders"');
    const page = await browser.text();
    expect(page).toContain('<h1>401 Sign-in required</h1>');
    expect(page).toContain(`Decision id: <code>${browser.headers.get('x-keycard-decision-id')}</code>`);

    const api = await fetch(`${served.keycard.httpUrl}/service/orders/orders/42`, { headers: { accept: 'application/json' } });
    expect(api.headers.get('content-type')).toBe('application/json');
    expect(await api.json()).toMatchObject({ reason: 'authentication_required' });
  });
});
