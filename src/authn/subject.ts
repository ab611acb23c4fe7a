// What makes a `sub` acceptable, whichever credential carried it (a JWT keycard verified, a JWT
// Envoy verified, an introspection answer). The subject travels on in x-keycard-subject and keys
// role bindings, so every credential must meet the same rule.

/** Longest subject accepted (role bindings and headers stay bounded). */
export const MAX_SUBJECT_LENGTH = 256;

// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const UNFORWARDABLE = /[\x00-\x1f\x7f]|^ | $/;

/** The subject a `sub` claim names, or why it is not acceptable. */
export function checkSubject(sub: unknown): { readonly ok: true; readonly subject: string } | { readonly ok: false; readonly problem: string } {
  if (typeof sub !== 'string' || sub === '' || sub.length > MAX_SUBJECT_LENGTH) {
    return { ok: false, problem: `"sub" must be a non-empty string of at most ${MAX_SUBJECT_LENGTH} characters` };
  }
  // A control character would break (or forge) header lines, and a header parser drops
  // surrounding spaces (" root" would read as "root").
  if (UNFORWARDABLE.test(sub)) return { ok: false, problem: '"sub" has a control character or surrounding spaces' };
  return { ok: true, subject: sub };
}
