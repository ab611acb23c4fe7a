// Runs policy unit-test cases: each case is decided offline (decideOffline, the server's own
// pipeline with a given caller) and every expected field is compared with the decision.
import type { RelationChecker } from '../policy/conditions/types.js';
import type { Challenge } from '../policy/evaluate.js';
import { AccessDecider } from '../access/access-decider.js';
import { decideOffline, type OfflineDeps } from '../pipeline/offline.js';
import { decisionLabel, type Decision } from '../pipeline/types.js';
import type { Seed } from '../state/seed-file.js';
import type { StateStore } from '../state/store.js';
import { EXPECT_FIELDS, type ExpectField, type Expectation, type PolicyTestCase, type PolicyTestFile } from './test-file.js';

/** The store (and relation checker over it) that a file's cases are decided against. */
export interface TestState {
  readonly store: StateStore;
  readonly relations: RelationChecker;
  /** Releases a store made for the file; a no-op for the configured one. */
  close(): Promise<void>;
}

export interface TestEnvironment {
  /** The policies (and settings) every case is decided with. */
  readonly deps: Pick<OfflineDeps, 'policies' | 'trustedProxies'>;
  /** The configured state for `undefined`, else a fresh state holding exactly `seed`. */
  state(seed: Seed | undefined): TestState;
}

export interface Mismatch {
  readonly field: ExpectField;
  readonly expected: unknown;
  readonly got: unknown;
}

export interface CaseResult {
  readonly case: PolicyTestCase;
  readonly passed: boolean;
  /** Expected fields that differ, in EXPECT_FIELDS order. */
  readonly mismatches: readonly Mismatch[];
  readonly decision: Decision;
}

export interface FileResult {
  readonly file: string;
  readonly cases: readonly CaseResult[];
}

export async function runTestFile(file: PolicyTestFile, environment: TestEnvironment): Promise<FileResult> {
  const state = environment.state(file.state);
  try {
    const cases: CaseResult[] = [];
    for (const testCase of file.cases) {
      const now = testCase.now;
      const clock = now !== undefined ? { now: () => now } : {};
      const decision = testCase.access
        ? await new AccessDecider({ policies: () => environment.deps.policies, store: state.store, relations: state.relations, ...clock }).decide(testCase.access)
        : await decideOffline({ ...environment.deps, store: state.store, relations: state.relations, ...clock }, testCase.request!, testCase.caller);
      const mismatches = compare(testCase.expect, decision);
      cases.push({ case: testCase, passed: mismatches.length === 0, mismatches, decision });
    }
    return { file: file.file, cases };
  } finally {
    await state.close();
  }
}

/** The decision's value of each field an expectation can name, in the expectation's form. */
export function actual(decision: Decision): Record<ExpectField, unknown> {
  return {
    decision: decisionLabel(decision),
    status: decision.status,
    reason: decision.reason,
    rule: decision.ruleId ?? null,
    permissions: [...(decision.permissions ?? [])].sort(),
    challenge: normalizeChallenge(decision.challenge),
  };
}

export function compare(expected: Expectation, decision: Decision): Mismatch[] {
  const got = actual(decision);
  const mismatches: Mismatch[] = [];
  for (const field of EXPECT_FIELDS) {
    if (expected[field] === undefined) continue;
    const want = field === 'permissions' ? [...(expected.permissions ?? [])].sort() : field === 'challenge' ? normalizeChallenge(expected.challenge) : expected[field];
    if (JSON.stringify(want) !== JSON.stringify(got[field])) mismatches.push({ field, expected: want, got: got[field] });
  }
  return mismatches;
}

/** Key order fixed and lists sorted, so challenges compare by content. */
function normalizeChallenge(challenge: Challenge | null | undefined): Challenge | null {
  if (!challenge) return null;
  return {
    ...(challenge.scope && { scope: [...challenge.scope].sort() }),
    ...(challenge.acrValues && { acrValues: [...challenge.acrValues].sort() }),
    ...(challenge.maxAgeSeconds !== undefined && { maxAgeSeconds: challenge.maxAgeSeconds }),
  };
}
