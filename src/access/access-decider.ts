// Decides access questions (AuthZEN: may this subject take this action on this resource?) with
// the same evaluator, policies and live state as Envoy's Check: route → identity → state →
// authorize, each phase timed, every failure a deny with a catalogued reason (never a throw).
//
// - route: the policy whose access rules name the resource type (policyForResource); resource
//   type `route` is an HTTP question instead (action = method, resource id = path,
//   `resource.properties.service` names the service), its path normalized as Check does and
//   answered by the HTTP rules.
// - identity: the subject the caller asserts (asserted-identity.ts); no credential, no revocation.
// - state: the subject's roles for the service from the store; the subject directory only when
//   the policy's conditions read `subject.properties` (merged with what the caller may supply).
// - authorize: evaluatePolicy, so dry-run, explicit deny, the trace and challenges behave alike.
// Every decision is told to `onDecision` (metrics, the audit log, the explorer), as Check decisions
// are; a traced decision (AuthZEN) gets its phases told to its PhaseObserver, as Check's do.
import { DenyError } from '../errors.js';
import {
  buildDecision,
  describeDeny,
  loadedPolicies,
  policyRelations,
  routePath,
  runPhases,
  type Lap,
  type Outcome,
  type Progress,
} from '../pipeline/decision-steps.js';
import type { Decision, PhaseObserver } from '../pipeline/types.js';
import { ROUTE_RESOURCE_TYPE } from '../policy/compile-access.js';
import type { RelationChecker, RequestContext } from '../policy/conditions/types.js';
import { evaluatePolicy, type CallerContext, type QuestionFacts } from '../policy/evaluate.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { CompiledPolicy } from '../policy/types.js';
import { readStore } from '../state/store-read.js';
import type { StateStore } from '../state/store.js';
import { assertedIdentity } from './asserted-identity.js';
import { directoryReader } from './directory-reader.js';
import { policyForResource, type ResourcePolicy } from './resource-policy.js';
import { mergeSubjectProperties } from './subject-properties.js';
import type { AccessQuestion, JsonObject } from './types.js';

/**
 * `question`: asked as such (an evaluation, a batch item, `keycard test`); `search`: one candidate a
 * search tried. A search page may try up to `search.maxChecksPerPage` of them.
 */
export type DecisionPurpose = 'question' | 'search';

export interface AccessDeciderDeps {
  /** The policy set to decide with; undefined while none has loaded. */
  readonly policies: () => PolicySet | undefined;
  readonly store: StateStore;
  readonly relations: RelationChecker;
  readonly now?: () => number;
  /** Told of every decision (metrics, audit, the explorer), and whether it was a search candidate. Must not throw or block. */
  readonly onDecision?: (decision: Decision, question: AccessQuestion, purpose: DecisionPurpose) => void;
  /**
   * Told of every decision after onDecision, with the caller context it was made with (undefined
   * when the decider stopped before the state phase): the shadow policy set decides the question
   * again. Must only schedule that work, never do it or throw.
   */
  readonly shadow?: (decision: Decision, question: AccessQuestion, caller: CallerContext | undefined) => void;
}

/** Longest type, id or action name taken; the AuthZEN listener bounds requests too, this is the last line. */
const MAX_NAME_LENGTH = 4096;
const NO_HEADERS: ReadonlyMap<string, string> = new Map();
const EMPTY_CONTEXT: JsonObject = Object.freeze({});
/** An access question is no HTTP request: header, source and principal conditions find nothing. */
const ACCESS_REQUEST: RequestContext = Object.freeze({ method: '', path: '', headers: NO_HEADERS, clientAddress: undefined });

export class AccessDecider {
  private readonly now: () => number;

  constructor(private readonly deps: AccessDeciderDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * `phases`: the decision's trace, when it is traced (see PhaseObserver). `purpose`: told to
   * onDecision (see DecisionPurpose). `found`: the question's
   * resource's policy when the caller has looked it up already (policyForResource; the AuthZEN API
   * does, to check its caller may ask): the decision is then made with that policy and its set.
   */
  async decide(question: AccessQuestion, phases?: PhaseObserver, found?: ResourcePolicy, purpose: DecisionPurpose = 'question'): Promise<Decision> {
    const { outcome, progress, started, phaseMs } = await runPhases((progress, lap) => this.run(question, progress, lap, found), phases);
    // No HTML deny page: the answer is JSON.
    const decision = buildDecision(outcome, progress, { started, phaseMs }, undefined);
    try {
      this.deps.onDecision?.(decision, question, purpose);
    } catch {
      // Observers must never change a decision.
    }
    try {
      this.deps.shadow?.(decision, question, progress.caller);
    } catch {
      // Nor may the shadow evaluation.
    }
    return decision;
  }

  private async run(question: AccessQuestion, progress: Progress, lap: Lap, found: ResourcePolicy | undefined): Promise<Outcome> {
    // 1. route
    checkQuestion(question);
    const resourcePolicy = found ?? policyForResource(loadedPolicies(this.deps.policies()), question.resource);
    progress.policyVersion = resourcePolicy.policies.version;
    const routed = route(resourcePolicy, question);
    progress.policy = routed.policy;
    if (routed.path !== undefined) progress.path = routed.path;
    lap('route');

    // 2. identity: the subject the caller asserts
    const identity = assertedIdentity(question.subject);
    lap('identity');

    // 3. state: roles (never from the question), and the directory if the policy reads it
    const { policy } = routed;
    const { store } = this.deps;
    const reads = policy.storeReads;
    const roles = await readStore(store, () => store.rolesFor(identity.subject, policy.service, reads));
    const http = routed.facts.kind !== 'access';
    const { subject, action, resource } = question;
    // Plain fields, not conditional spreads: this object is built for every question of every batch.
    const caller: CallerContext = {
      identity,
      roles,
      request: routed.request,
      now: this.now(),
      relations: policyRelations(this.deps.relations, reads),
      // The route special case is decided as Check decides: attributes of the request, the directory alone.
      access: http
        ? undefined
        : {
            subject: { type: subject.type, id: subject.id },
            action: action.properties ? { name: action.name, properties: action.properties } : { name: action.name },
            resource: resource.properties ? { type: resource.type, id: resource.id, properties: resource.properties } : { type: resource.type, id: resource.id },
            context: question.context ?? EMPTY_CONTEXT,
          },
      subjectProperties: policy.readsDirectory
        ? directoryReader(store, identity.subject, reads, (directory) => (http ? directory : mergeSubjectProperties(directory, subject.properties, policy.subjectProperties)))
        : undefined,
    };
    progress.caller = caller;
    lap('state');

    // 4. authorize
    const evaluation = await evaluatePolicy(policy, routed.facts, caller);
    progress.evaluation = evaluation;
    lap('authorize');
    return { reason: evaluation.reason, detail: evaluation.allowed ? undefined : describeDeny(evaluation) };
  }
}

interface Routed {
  readonly policy: CompiledPolicy;
  readonly facts: QuestionFacts;
  readonly request: RequestContext;
  /** The normalized path of a route question. */
  readonly path?: string;
}

function route(found: ResourcePolicy, question: AccessQuestion): Routed {
  const { action, resource } = question;
  if (resource.type === ROUTE_RESOURCE_TYPE) {
    const method = action.name;
    // The method is checked before the service: a malformed question is invalid_request whatever it names.
    if (!/^[A-Z]+$/.test(method)) throw new DenyError('invalid_request', `a route question's action is an upper-case HTTP method, got ${JSON.stringify(method.slice(0, 64))}`);
    const policy = policyOf(found);
    const path = routePath(resource.id);
    return {
      policy,
      facts: { method, segments: path.segments },
      request: { method, path: path.path, headers: NO_HEADERS, clientAddress: undefined },
      path: path.path,
    };
  }
  return {
    policy: policyOf(found),
    facts: { kind: 'access', action: action.name, resourceType: resource.type, resourceId: resource.id },
    request: ACCESS_REQUEST,
  };
}

function policyOf(found: ResourcePolicy): CompiledPolicy {
  if (found.policy === undefined) throw new DenyError(found.reason, found.detail);
  return found.policy;
}

/** The shape the listener already checks, checked again: a malformed question is an invalid_request deny. */
function checkQuestion(question: AccessQuestion): void {
  // Field by field, without building lists: this runs for every question of every batch.
  checkName(question.subject?.type, 'subject.type');
  checkName(question.subject?.id, 'subject.id');
  checkName(question.action?.name, 'action.name');
  checkName(question.resource?.type, 'resource.type');
  checkName(question.resource?.id, 'resource.id');
  checkObject(question.subject.properties, 'subject.properties');
  checkObject(question.action.properties, 'action.properties');
  checkObject(question.resource.properties, 'resource.properties');
  checkObject(question.context, 'context');
}

function checkName(value: unknown, field: string): void {
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME_LENGTH) {
    throw new DenyError('invalid_request', `${field} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
  }
}

function checkObject(value: unknown, field: string): void {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) throw new DenyError('invalid_request', `${field} must be a JSON object`);
}
