// The HTML deny page: what a person in a browser sees instead of the JSON body, when the service
// turns it on (`denyPage.html`) and the browser prefers text/html (accept.ts). One small,
// self-contained document: no scripts, no external resources, an inline style pinned by the CSP.
//
// It says only what the JSON body says (status, catalogued message, challenge hints, decision
// id) plus what to do next and the configured support contact. Never the audit detail, a token
// or anything else taken from the request; every interpolated value is HTML-escaped.
import { createHash } from 'node:crypto';
import type { DenyPageOptions } from '../config/deny-page-settings.js';
import { denySpec, type DenyReason, type DenyStatus } from '../errors.js';
import type { Decision } from '../pipeline/types.js';

export const DENY_PAGE_CONTENT_TYPE = 'text/html; charset=utf-8';

const STYLE =
  'body{margin:0;padding:3rem 1rem;font:16px/1.5 system-ui,sans-serif;color:#1f2328;background:#f6f8fa}' +
  'main{max-width:36rem;margin:0 auto;padding:1.5rem 2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}' +
  'h1{margin:0 0 .75rem;font-size:1.4rem}' +
  'code{padding:.1rem .3rem;font:14px ui-monospace,monospace;background:#f6f8fa;border-radius:4px;overflow-wrap:anywhere}' +
  '.meta{color:#59636e}';

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** Headers of the HTML answer besides those every deny has: the page may load and run nothing. */
export const DENY_PAGE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['content-security-policy', `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`],
  ['x-content-type-options', 'nosniff'],
];

const TITLE: Record<DenyStatus, string> = {
  400: 'Bad request',
  401: 'Sign-in required',
  403: 'Access denied',
  503: 'Temporarily unavailable',
};

const NEXT_STEP: Record<DenyStatus, string> = {
  400: 'The request cannot be served as it was sent. Check the address you followed and try again.',
  401: 'Sign in and try again.',
  403: 'If you need access, ask the owner of this service or your administrator for it, and quote the decision id below.',
  503: 'Access cannot be checked right now. Try again in a few moments.',
};

/** Where the status alone would send the reader the wrong way. */
const NEXT_STEP_BY_REASON: Partial<Record<DenyReason, string>> = {
  insufficient_user_authentication: 'Sign in again with a stronger method, such as multi-factor authentication, and try again.',
  insufficient_scope: 'Your sign-in does not grant a permission this request needs. Sign in again granting it, or ask for access.',
  internal_error: 'Something went wrong while checking your access. Try again; if it keeps happening, contact support and quote the decision id below.',
  not_ready: 'The service is starting or being updated. Try again in a few moments.',
};

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text and attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** The page for a deny (never call it for an allow). */
export function renderDenyPage(decision: Decision, options: DenyPageOptions): string {
  if (decision.reason === 'allowed') throw new Error('renderDenyPage called for an allow');
  const spec = denySpec(decision.reason);
  const title = `${spec.status} ${TITLE[spec.status]}`;
  const { challenge } = decision;
  const hints: string[] = [];
  if (challenge?.scope) hints.push(`Permission (scope) needed: <code>${escapeHtml(challenge.scope.join(' '))}</code>`);
  if (challenge?.acrValues) hints.push(`Authentication level needed: <code>${escapeHtml(challenge.acrValues.join(' '))}</code>`);
  if (challenge?.maxAgeSeconds !== undefined) hints.push(`Your sign-in must be no older than ${escapeHtml(duration(challenge.maxAgeSeconds))}.`);
  const meta = [
    ...(decision.service !== undefined ? [`Service: <code>${escapeHtml(decision.service)}</code>`] : []),
    `Decision id: <code>${escapeHtml(decision.id)}</code>`,
  ];
  const contact = options.supportContact !== undefined
    ? `<p>Need help? Contact ${escapeHtml(options.supportContact)} and quote the decision id.</p>`
    : '<p>Need help? Contact your support team and quote the decision id.</p>';
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    `<title>${title}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<h1>${title}</h1>`,
    `<p>${escapeHtml(sentence(spec.message))}</p>`,
    `<p>${NEXT_STEP_BY_REASON[decision.reason] ?? NEXT_STEP[spec.status]}</p>`,
    ...(hints.length > 0 ? [`<ul>${hints.map((hint) => `<li>${hint}</li>`).join('')}</ul>`] : []),
    `<p class="meta">${meta.join('<br>')}</p>`,
    contact,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** "the token has expired" → "The token has expired." */
function sentence(message: string): string {
  return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
}

function duration(seconds: number): string {
  const [amount, unit] = seconds >= 3600 && seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : seconds >= 60 && seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second'];
  return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
}
