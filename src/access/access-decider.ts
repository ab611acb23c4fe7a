// Decides access questions (AuthZEN: may this subject take this action on this resource?) with
// the same evaluator, policies and live state as Envoy's Check: route → identity → state →
// authorize, each phase timed, every failure a deny with a catalogued reason (never a throw).
//
// - route: the policy whose access rules name the resource type (PolicySet.routeResourceType);
//   resource type `route` is an HTTP question instead (action = method, resource id = path,
//   `resource.properties.service` names the service), routed and normalized as Check does and
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
  routePolicy,
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
import { mergeSubjectProperties } from './subject-properties.js';
import type { AccessQuestion, JsonObject } from './types.js';

export interface AccessDeciderDeps {
  /** The policy set to decide with; undefined while none has loaded. */
  readonly policies: () => PolicySet | undefined;
  readonly store: StateStore;
  readonly relations: RelationChecker;
  readonly now?: () => number;
  /** Told of every decision (metrics, audit). Must not throw or block. */
  readonly onDecision?: (decision: Decision, question: AccessQuestion) => void;
}

/** Longest type, id or action name taken; the AuthZEN listener bounds requests too, this is the last line. */
const MAX_NAME_LENGTH = 4096;
const NO_HEADERS: ReadonlyMap<string, string> = new Map();
const EMPTY_CONTEXT: JsonObject = Object.freeze({});

export class AccessDecider {
  private readonly now: () => number;

  constructor(private readonly deps: AccessDeciderDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** `phases`: the decision's trace, when it is traced (see PhaseObserver). */
  async decide(question: AccessQuestion, phases?: PhaseObserver): Promise<Decision> {
    const { outcome, progress, started, phaseMs } = await runPhases((progress, lap) => this.run(question, progress, lap), phases);
    // No HTML deny page: the answer is JSON.
    const decision = buildDecision(outcome, progress, { started, phaseMs }, undefined);
    try {
      this.deps.onDecision?.(decision, question);
    } catch {
      // Observers must never change a decision.
    }
    return decision;
  }

  private async run(question: AccessQuestion, progress: Progress, lap: Lap): Promise<Outcome> {
    // 1. route
    checkQuestion(question);
    const policies = loadedPolicies(this.deps.policies());
    progress.policyVersion = policies.version;
    const routed = route(policies, question);
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
    const caller: CallerContext = {
      identity,
      roles,
      request: routed.request,
      now: this.now(),
      relations: policyRelations(this.deps.relations, reads),
      // The route special case is decided as Check decides: attributes of the request, the directory alone.
      ...(!http && {
        access: {
          subject: { type: question.subject.type, id: question.subject.id },
          action: { name: question.action.name, ...(question.action.properties && { properties: question.action.properties }) },
          resource: { type: question.resource.type, id: question.resource.id, ...(question.resource.properties && { properties: question.resource.properties }) },
          context: question.context ?? EMPTY_CONTEXT,
        },
      }),
      ...(policy.readsDirectory && {
        subjectProperties: directoryReader(store, identity.subject, reads, (directory) =>
          http ? directory : mergeSubjectProperties(directory, question.subject.properties, policy.subjectProperties),
        ),
      }),
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

function route(policies: PolicySet, question: AccessQuestion): Routed {
  const { action, resource } = question;
  if (resource.type === ROUTE_RESOURCE_TYPE) {
    const method = action.name;
    if (!/^[A-Z]+$/.test(method)) throw new DenyError('invalid_request', `a route question's action is an upper-case HTTP method, got ${JSON.stringify(method.slice(0, 64))}`);
    const service = resource.properties?.service;
    // Only an explicit service: a route question never picks its policy by a host it names.
    if (typeof service !== 'string' || service === '') throw new DenyError('unknown_service', 'a route question names its service in resource.properties.service');
    const policy = routePolicy(policies, service, '');
    const path = routePath(resource.id);
    return {
      policy,
      facts: { method, segments: path.segments },
      request: { method, path: path.path, headers: NO_HEADERS, clientAddress: undefined },
      path: path.path,
    };
  }
  const policy = policies.routeResourceType(resource.type);
  if (!policy) throw new DenyError('unknown_resource_type', `resource type "${resource.type.slice(0, 128)}"`);
  return {
    policy,
    facts: { kind: 'access', action: action.name, resourceType: resource.type, resourceId: resource.id },
    // An access question is no HTTP request: header, source and principal conditions find nothing.
    request: { method: '', path: '', headers: NO_HEADERS, clientAddress: undefined },
  };
}

/** The shape the listener already checks, checked again: a malformed question is an invalid_request deny. */
function checkQuestion(question: AccessQuestion): void {
  const names: [string, unknown][] = [
    ['subject.type', question.subject?.type],
    ['subject.id', question.subject?.id],
    ['action.name', question.action?.name],
    ['resource.type', question.resource?.type],
    ['resource.id', question.resource?.id],
  ];
  for (const [field, value] of names) {
    if (typeof value !== 'string' || value === '' || value.length > MAX_NAME_LENGTH) {
      throw new DenyError('invalid_request', `${field} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
    }
  }
  for (const [field, value] of [
    ['subject.properties', question.subject.properties],
    ['action.properties', question.action.properties],
    ['resource.properties', question.resource.properties],
    ['context', question.context],
  ] as const) {
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) throw new DenyError('invalid_request', `${field} must be a JSON object`);
  }
}
