// Reading verified claims for conditions.
import type { Identity } from '../../authn/identity.js';

/** The claim at a dotted path (`org.id`), or undefined; only for an authenticated caller. */
export function claimAt(identity: Identity, path: readonly string[]): unknown {
  if (!identity.authenticated) return undefined;
  let value: unknown = identity.claims;
  for (const part of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A claim as a list of strings: arrays as they are, space-separated strings split (OAuth `scope`). */
export function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  return [];
}

/** Scalar claim values compare as strings, so `equals: 42` matches the claim 42 and "42". */
export function scalarText(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}
