// Properties of the request normalizer: it never throws, its output is a fixed point, encoding an
// unreserved character changes nothing, and no re-spelling of a denied path gets it allowed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/authn/identity.js';
import { normalizePath, type PathResult } from '../../src/pipeline/normalize.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { authzInput, fixedIdentity, pipelineWith } from '../helpers/pipeline.js';
import { compileYaml } from '../helpers/policy.js';
import { anyString, encodingChoices, pathLike, reencode, respell, respellOps, segment } from './path-arbitraries.js';

const RUNS = { numRuns: 400 } as const;

/** What a well-formed success looks like: one canonical spelling, segments without structure. */
function expectCanonical(result: PathResult): void {
  if (!result.ok) {
    expect(result.problem).toMatch(/\S/);
    return;
  }
  expect(result.path).toBe(`/${result.segments.join('/')}`);
  for (const part of result.segments) {
    expect(part).not.toMatch(/^\.{1,2}$|^$|[/\\?#;]/);
    // eslint-disable-next-line no-control-regex -- control characters are what must not survive
    expect(part).not.toMatch(/[\x00-\x1f\x7f]|%(?![0-9A-F]{2})|%(2F|5C|00)/);
  }
}

describe('normalizePath', () => {
  it('never throws, and answers a canonical path or a problem, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, pathLike), (target) => {
        expectCanonical(normalizePath(target));
      }),
      RUNS,
    );
  });

  it('is idempotent: a normalized path normalizes to itself', () => {
    fc.assert(
      fc.property(pathLike, (target) => {
        const first = normalizePath(target);
        if (!first.ok) return;
        expect(normalizePath(first.path)).toEqual({ ok: true, path: first.path, segments: first.segments, query: '' });
      }),
      RUNS,
    );
  });

  it('gives the same answer when unreserved characters are percent-encoded (either hex case)', () => {
    fc.assert(
      fc.property(pathLike, encodingChoices, (target, choices) => {
        expect(normalizePath(reencode(target, choices))).toEqual(normalizePath(target));
      }),
      RUNS,
    );
  });

  it('resolves every detour, doubled slash and trailing slash back to the same path', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), respellOps, (segments, ops) => {
        const canonical = normalizePath(`/${segments.join('/')}`);
        expect(canonical.ok).toBe(true);
        if (!canonical.ok) return;
        const respelled = normalizePath(respell(canonical.path, ops));
        expect(respelled).toMatchObject({ ok: true, path: canonical.path, segments: canonical.segments });
      }),
      RUNS,
    );
  });
});

// A policy that lets everyone in anywhere except below two denied subtrees. One deny template is
// written with escapes (%61 is "a", %7E is "~", lower-case hex of a non-ASCII letter): templates
// are matched in normalized form too.
const POLICY = compileYaml(`
service: s
rules:
  - { id: open, effect: allow, match: { paths: ["/**"] }, anonymous: true }
  - { id: no-admin, effect: deny, match: { paths: ["/admin/**", "/%61pi/%7Einternal/caf%c3%a9/**"] } }
`);
const pipeline = pipelineWith({ policies: () => new PolicySet([POLICY], 'p1'), authenticator: fixedIdentity(ANONYMOUS) });

async function reasonFor(path: string): Promise<string> {
  return (await pipeline.decide(authzInput('s', path))).reason;
}

/** A path in a denied subtree: /admin/... or /api/~internal/café/... */
const deniedPath = fc
  .tuple(fc.constantFrom('/admin', '/api/~internal/caf%C3%A9'), fc.array(segment, { maxLength: 4 }))
  .map(([prefix, rest]) => [prefix, ...rest].join('/'));

/** Insertions that can only make a path invalid, never move it: encoded slashes, backslashes, ";", NUL, broken escapes. */
const HOSTILE = ['%2F', '%2f', '%5C', '\\', ';', ';x=1', '%00', '\u0000', '%G1', '%%'] as const;

describe('a denied path stays denied', () => {
  it('the denied subtrees are denied and the rest allowed (baseline)', async () => {
    expect(await reasonFor('/admin/users')).toBe('explicit_deny');
    expect(await reasonFor('/api/~internal/caf%c3%a9/x')).toBe('explicit_deny');
    expect(await reasonFor('/api/internal/x')).toBe('allowed');
    expect(await reasonFor('/public')).toBe('allowed');
  });

  it('under any re-encoding and re-spelling', async () => {
    await fc.assert(
      fc.asyncProperty(deniedPath, encodingChoices, respellOps, async (path, choices, ops) => {
        expect(await reasonFor(path)).toBe('explicit_deny');
        expect(await reasonFor(reencode(respell(path, ops), choices))).toBe('explicit_deny');
      }),
      { numRuns: 300 },
    );
  });

  it('with hostile characters inserted anywhere: denied, or rejected as an invalid path', async () => {
    await fc.assert(
      fc.asyncProperty(deniedPath, fc.nat(), fc.constantFrom(...HOSTILE), encodingChoices, async (path, at, hostile, choices) => {
        const index = 1 + (at % path.length);
        const mangled = reencode(path.slice(0, index) + hostile + path.slice(index), choices);
        expect(['explicit_deny', 'invalid_path']).toContain(await reasonFor(mangled));
      }),
      { numRuns: 300 },
    );
  });
});
