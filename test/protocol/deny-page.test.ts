// The HTML deny page: its content, escaping and headers, and how deny answers are planned on both
// wire paths (gRPC CheckResponse and the HTTP check mode) with the page on and off.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/authn/identity.js';
import type { DenyReason } from '../../src/errors.js';
import { DENY_REASONS, denySpec } from '../../src/errors.js';
import type { Decision } from '../../src/pipeline/types.js';
import { decisionToCheckResponse } from '../../src/protocol/check-response.js';
import { planResponse } from '../../src/protocol/decision-response.js';
import { DENY_PAGE_CONTENT_TYPE, escapeHtml, renderDenyPage } from '../../src/protocol/deny-page.js';
import { decisionToHttpAnswer } from '../../src/protocol/http-check.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function deny(reason: DenyReason, overrides: Partial<Decision> = {}): Decision {
  return {
    id: '6f1c2b9e-0000-4000-8000-000000000001',
    allowed: false,
    reason,
    status: denySpec(reason).status,
    service: 'orders',
    identity: ANONYMOUS,
    roles: [],
    forwardIdentity: true,
    trace: [],
    durationMs: 0,
    phaseMs: {},
    ...overrides,
  };
}

const accept = (value: string) => new Map([['accept', value]]);
const header = (headers: ReadonlyArray<readonly [string, string]>, name: string) => headers.find(([key]) => key === name)?.[1];

describe('escapeHtml', () => {
  it('escapes the five characters that matter in text and attribute values', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });
});

describe('renderDenyPage', () => {
  it('says the status, the catalogued message, what to do next, the decision id and the contact', () => {
    const page = renderDenyPage(deny('explicit_deny'), { supportContact: 'helpdesk@example.com' });
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain('<title>403 Access denied</title>');
    expect(page).toContain('<h1>403 Access denied</h1>');
    expect(page).toContain('<p>Access is denied by policy.</p>');
    expect(page).toContain('ask the owner of this service or your administrator for it');
    expect(page).toContain('Service: <code>orders</code>');
    expect(page).toContain('Decision id: <code>6f1c2b9e-0000-4000-8000-000000000001</code>');
    expect(page).toContain('Contact helpdesk@example.com and quote the decision id.');
  });

  it.each<[DenyReason, string, string]>([
    ['authentication_required', '401 Sign-in required', 'Sign in and try again.'],
    ['token_expired', '401 Sign-in required', 'Sign in and try again.'],
    ['invalid_path', '400 Bad request', 'Check the address you followed'],
    ['store_unavailable', '503 Temporarily unavailable', 'Try again in a few moments.'],
    ['not_ready', '503 Temporarily unavailable', 'being updated'],
    ['no_matching_rule', '403 Access denied', 'ask the owner of this service'],
    ['internal_error', '403 Access denied', 'Something went wrong while checking your access'],
  ])('%s: %s, "%s"', (reason, title, next) => {
    const page = renderDenyPage(deny(reason), {});
    expect(page).toContain(`<h1>${title}</h1>`);
    expect(page).toContain(next);
    expect(page).toContain('Contact your support team and quote the decision id.');
  });

  it('gives the step-up hints of a 401 challenge: authentication level and maximum sign-in age', () => {
    const page = renderDenyPage(deny('insufficient_user_authentication', { challenge: { acrValues: ['urn:example:loa:mfa'], maxAgeSeconds: 600 } }), {});
    expect(page).toContain('Sign in again with a stronger method, such as multi-factor authentication');
    expect(page).toContain('Authentication level needed: <code>urn:example:loa:mfa</code>');
    expect(page).toContain('Your sign-in must be no older than 10 minutes.');
  });

  it('names the scope an insufficient_scope deny needs', () => {
    const page = renderDenyPage(deny('insufficient_scope', { challenge: { scope: ['orders:write', 'orders:read'] } }), {});
    expect(page).toContain('Permission (scope) needed: <code>orders:write orders:read</code>');
    expect(page).toContain('Sign in again granting it, or ask for access.');
  });

  it('leaves the service line out when no policy was routed', () => {
    const page = renderDenyPage(deny('unknown_service', { service: undefined }), {});
    expect(page).not.toContain('Service:');
    expect(page).toContain('Decision id:');
  });

  it('escapes every interpolated value: service, decision id, contact and challenge hints', () => {
    const hostile = `"><script>alert(1)</script><img src=x onerror='alert(2)'>&`;
    const page = renderDenyPage(
      deny('insufficient_scope', { service: hostile, id: hostile, challenge: { scope: [hostile], acrValues: [hostile] } }),
      { supportContact: hostile },
    );
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).not.toContain(`onerror='`);
    const escaped = '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;alert(2)&#39;&gt;&amp;';
    // Service, decision id, contact, scope and acr_values: each escaped, none raw.
    expect(page.split(escaped).length - 1).toBe(5);
    // The only tags are the page's own.
    const tags = new Set([...page.matchAll(/<\/?([a-z0-9!]+)/gi)].map((match) => match[1]!.toLowerCase()));
    expect([...tags].sort()).toEqual(['!doctype', 'body', 'br', 'code', 'h1', 'head', 'html', 'li', 'main', 'meta', 'p', 'style', 'title', 'ul']);
  });

  it('never shows the audit detail or anything from the request', () => {
    const decision = deny('invalid_signature', { detail: 'kid k-secret-7 failed with RS256', denyPage: {} });
    const plan = planResponse(decision, new Map([
      ['accept', BROWSER],
      ['authorization', 'Bearer eyJhbGciOiJSUzI1NiJ9.secret-token.sig'],
      ['cookie', 'session=s3cr3t-cookie'],
      ['user-agent', 'Mozilla/5.0 probe-agent'],
    ]));
    const page = plan.body ?? '';
    expect(page).toContain('The token signature is invalid.');
    for (const secret of ['k-secret-7', 'RS256', 'secret-token', 's3cr3t-cookie', 'probe-agent', 'eyJ']) expect(page).not.toContain(secret);
  });

  it('loads nothing and runs nothing: no scripts, links, images or URLs', () => {
    for (const reason of Object.keys(DENY_REASONS) as DenyReason[]) {
      const page = renderDenyPage(deny(reason, { challenge: { scope: ['a'], acrValues: ['b'], maxAgeSeconds: 3600 } }), { supportContact: 'ops' });
      expect(page, reason).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import|https?:/i);
    }
  });

  it('refuses to render an allow', () => {
    expect(() => renderDenyPage({ ...deny('explicit_deny'), allowed: true, reason: 'allowed', status: 200 }, {})).toThrow();
  });
});

describe('planResponse with the deny page', () => {
  it('is off by default: a browser gets the JSON body and no Vary', () => {
    const plan = planResponse(deny('explicit_deny'), accept(BROWSER));
    expect(header(plan.headers, 'content-type')).toBe('application/json');
    expect(header(plan.headers, 'vary')).toBeUndefined();
    expect(JSON.parse(plan.body ?? '')).toMatchObject({ error: 'forbidden', reason: 'explicit_deny' });
  });

  it('answers a browser with the page, keeping the decision id, no-store and the challenge', () => {
    const decision = deny('token_expired', { denyPage: { supportContact: 'ops' } });
    const plan = planResponse(decision, accept(BROWSER));
    expect(plan.status).toBe(401);
    expect(header(plan.headers, 'content-type')).toBe(DENY_PAGE_CONTENT_TYPE);
    expect(header(plan.headers, 'x-keycard-decision-id')).toBe(decision.id);
    expect(header(plan.headers, 'cache-control')).toBe('no-store');
    expect(header(plan.headers, 'vary')).toBe('accept');
    expect(header(plan.headers, 'www-authenticate')).toBe('Bearer realm="orders", error="invalid_token", error_description="the token has expired"');
    expect(header(plan.headers, 'x-content-type-options')).toBe('nosniff');
    expect(plan.body).toContain('<h1>401 Sign-in required</h1>');
    expect(plan.body).toContain('Contact ops and quote the decision id.');
    expect(plan.headersToRemove).toEqual([]);
  });

  it('pins the inline style by hash in a CSP that allows nothing else', () => {
    const plan = planResponse(deny('explicit_deny', { denyPage: {} }), accept(BROWSER));
    const style = /<style>([^<]*)<\/style>/.exec(plan.body ?? '')?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    expect(header(plan.headers, 'content-security-policy')).toBe(`default-src 'none'; style-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
  });

  it('answers an API client with the same JSON and headers as with the page off, plus Vary: accept', () => {
    for (const value of ['application/json', '*/*', 'text/html, application/json', 'text/html;q=0.9 garbage']) {
      const on = planResponse(deny('insufficient_scope', { denyPage: {}, challenge: { scope: ['orders:write'] } }), accept(value));
      const off = planResponse(deny('insufficient_scope', { challenge: { scope: ['orders:write'] } }), accept(value));
      expect(on.body, value).toBe(off.body);
      expect(on.headers, value).toEqual([...off.headers.slice(0, 3), ['vary', 'accept'], ...off.headers.slice(3)]);
    }
    const without = planResponse(deny('explicit_deny', { denyPage: {} }), new Map());
    expect(header(without.headers, 'content-type')).toBe('application/json');
  });

  it('puts Vary only on deny answers, never on an allow', () => {
    const allow: Decision = { ...deny('explicit_deny'), allowed: true, reason: 'allowed', status: 200, denyPage: {} };
    expect(header(planResponse(allow, accept(BROWSER)).headers, 'vary')).toBeUndefined();
    expect(planResponse(allow, accept(BROWSER)).body).toBeUndefined();
  });
});

describe('both wire paths carry the page', () => {
  it('gRPC: the denied_response has the page as body and the HTML headers', () => {
    const response = decisionToCheckResponse(deny('no_matching_rule', { denyPage: { supportContact: 'ops' } }), accept(BROWSER));
    expect(response.status).toEqual({ code: 7, message: 'no_matching_rule' });
    expect(response.denied_response?.status.code).toBe(403);
    expect(response.denied_response?.body).toContain('<h1>403 Access denied</h1>');
    const headers = Object.fromEntries(response.denied_response?.headers.map(({ header: h }) => [h.key, h.value]) ?? []);
    expect(headers).toMatchObject({ 'content-type': DENY_PAGE_CONTENT_TYPE, vary: 'accept', 'cache-control': 'no-store', 'x-keycard-decision-id': deny('no_matching_rule').id });
  });

  it('HTTP check mode: the same status, headers and page', () => {
    const answer = decisionToHttpAnswer(deny('store_unavailable', { denyPage: {} }), accept(BROWSER));
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toBe(DENY_PAGE_CONTENT_TYPE);
    expect(answer.headers.vary).toBe('accept');
    expect(answer.body).toContain('<h1>503 Temporarily unavailable</h1>');
    const api = decisionToHttpAnswer(deny('store_unavailable', { denyPage: {} }), accept('application/json'));
    expect(JSON.parse(api.body)).toMatchObject({ error: 'unavailable', reason: 'store_unavailable' });
  });
});
