// `keycard diff` as data: for every operation of a service (the union of the old and new API
// descriptions) and every caller class, the decision under the old and the new policy for every
// combination of the requirements either side names, and the access gained and lost.
import type { CompiledPolicy, CompiledRule } from '../../policy/types.js';
import type { ApiDescription, ApiOperation } from '../types.js';
import { coverCases, termText } from './boolean-cover.js';
import { callerClasses, callerLabel, type CallerClass } from './caller-class.js';
import { matchingRules } from './matching-rules.js';
import { operationLabel } from './operation-coverage.js';
import { decide, requirementsOf, verdictFor, type Verdict } from './verdict.js';

export interface DiffSide {
  /** Undefined when the policy set has no such service: every request to it is denied. */
  readonly policy: CompiledPolicy | undefined;
  readonly api: ApiDescription | undefined;
}

export interface ServiceDiffInput {
  readonly service: string;
  readonly from: DiffSide;
  readonly to: DiffSide;
  /** Roles the store binds for the service. */
  readonly roles: readonly string[];
}

export type Change = 'gained' | 'lost';

export interface AccessChange {
  readonly change: Change;
  readonly service: string;
  /** operationId, else `METHOD /path` (from the new description when both have the operation). */
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly caller: string;
  /** The cases, as conjunctions of requirements; ['always'] when the change holds for every request of the class. */
  readonly when: readonly string[];
  /** Rules that decided before, over those cases; "(no rule)" for a deny because no allow rule applied. */
  readonly before: readonly string[];
  readonly after: readonly string[];
  /** The new policy is in dry-run mode: the change is recorded, not enforced. */
  readonly dryRun: boolean;
}

/** More requirements than this for one operation and caller are compared on their extremes only. */
const MAX_REQUIREMENTS = 12;
const NO_RULE = '(no rule)';
/** The policy set has no such service: keycard denies every request to it (unknown_service). */
const NO_POLICY = '(no policy)';
/** The old policy was in dry-run mode: it let every request through. */
const DRY_RUN_MODE = '(dry-run mode)';

const DENY_ALL = (caller: CallerClass): Verdict => ({ caller, decision: 'deny', grants: [], denies: [], dryRunDenies: [] });

/** The operations of both descriptions, keyed by method and path; the new one's data wins. */
function unionOperations(from: ApiDescription | undefined, to: ApiDescription | undefined): ApiOperation[] {
  const byKey = new Map<string, ApiOperation>();
  for (const operation of [...(from?.operations ?? []), ...(to?.operations ?? [])]) byKey.set(`${operation.method} ${operation.path}`, operation);
  return [...byKey.values()];
}

async function verdicts(policy: CompiledPolicy | undefined, operation: ApiOperation, callers: readonly CallerClass[]): Promise<Verdict[]> {
  if (!policy) return callers.map(DENY_ALL);
  const rules = (await matchingRules(policy, operation)).map((entry) => entry.rule);
  return Promise.all(callers.map((caller) => verdictFor(rules, caller)));
}

export async function serviceDiff(input: ServiceDiffInput): Promise<AccessChange[]> {
  const callers = callerClasses(input.roles);
  const changes: AccessChange[] = [];
  // Leaving dry-run mode: before, every request was let through whatever the policy said.
  const leavesDryRun = input.from.policy?.mode === 'dry-run' && input.to.policy?.mode !== 'dry-run';
  for (const operation of unionOperations(input.from.api, input.to.api)) {
    const [before, after] = await Promise.all([verdicts(input.from.policy, operation, callers), verdicts(input.to.policy, operation, callers)]);
    callers.forEach((caller, index) => {
      for (const change of compareVerdicts(before[index]!, after[index]!, leavesDryRun)) {
        changes.push({
          ...change,
          before: input.from.policy ? (leavesDryRun ? [DRY_RUN_MODE] : change.before) : [NO_POLICY],
          after: input.to.policy ? change.after : [NO_POLICY],
          service: input.service,
          operation: operationLabel(operation),
          method: operation.method,
          path: operation.path,
          caller: callerLabel(caller),
          dryRun: input.to.policy?.mode === 'dry-run',
        });
      }
    });
  }
  return changes;
}

type Compared = Pick<AccessChange, 'change' | 'when' | 'before' | 'after'>;

/** Gained and lost cases of one operation and caller class; `beforeAllowsAll`: the old side let every request through (dry-run mode). */
export function compareVerdicts(before: Verdict, after: Verdict, beforeAllowsAll = false): Compared[] {
  const names = [...new Set([...requirementsOf(before), ...requirementsOf(after)])].sort();
  // Beyond the limit only "none hold" and "all hold" are compared: still catches a plain loss.
  const masks = names.length <= MAX_REQUIREMENTS ? Array.from({ length: 1 << names.length }, (_, mask) => mask) : [0, 2 ** names.length - 1];
  const lost: number[] = [];
  const gained: number[] = [];
  const rules = { lost: { before: new Set<string>(), after: new Set<string>() }, gained: { before: new Set<string>(), after: new Set<string>() } };
  for (const mask of masks) {
    const holds = (requirement: string) => (mask === 2 ** names.length - 1 ? true : ((mask >> names.indexOf(requirement)) & 1) === 1);
    const old = beforeAllowsAll ? { allowed: true, rule: undefined } : decide(before, holds);
    const next = decide(after, holds);
    if (old.allowed === next.allowed) continue;
    const kind = old.allowed ? 'lost' : 'gained';
    (kind === 'lost' ? lost : gained).push(mask);
    rules[kind].before.add(ruleName(old.rule));
    rules[kind].after.add(ruleName(next.rule));
  }
  const describe = (cases: number[]): string[] =>
    names.length <= MAX_REQUIREMENTS ? coverCases(cases, names.length).map((term) => termText(term, names)) : cases.map((mask) => (mask === 0 ? 'none of the conditions hold' : 'all the conditions hold'));
  const result: Compared[] = [];
  if (lost.length > 0) result.push({ change: 'lost', when: describe(lost), before: [...rules.lost.before], after: [...rules.lost.after] });
  if (gained.length > 0) result.push({ change: 'gained', when: describe(gained), before: [...rules.gained.before], after: [...rules.gained.after] });
  return result;
}

function ruleName(rule: CompiledRule | undefined): string {
  return rule?.id ?? NO_RULE;
}
