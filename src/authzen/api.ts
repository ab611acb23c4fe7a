// The AuthZEN Authorization API 1.0 endpoints, independent of HTTP: a parsed body and the
// authenticated caller in, a status and a JSON body out. Malformed requests throw BadRequest
// (400, from request-shapes.ts). A question about a resource the caller may not ask about is a
// 403 for a single evaluation and for a search (both concern one service); inside a batch it is
// that item's `decision: false` with the spec's per-item error, so a batch spanning services
// still answers the items the caller may ask about. Decisions never fail open: a decider that
// throws anyway yields `decision: false`. A traced request's evaluations each get a span; a
// search's candidate decisions are only counted on the request span (src/tracing/authzen-trace.ts).
import type { FoundPolicy } from '../access/resource-policy.js';
import type { AccessQuestion, AccessResource } from '../access/types.js';
import type { AuthenticatedIdentity } from '../authn/identity.js';
import { denySpec } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { StateStore } from '../state/store.js';
import type { AuthzenTrace } from '../tracing/authzen-trace.js';
import { ROUTE_RESOURCE_TYPE } from '../policy/compile-access.js';
import { ROUTE_ACTIONS, type AccessModel } from './access-model.js';
import { scopeMessage, type CallerGate } from './caller.js';
import { itemError, toAuthzenDecision, type AuthzenDecision } from './decision-context.js';
import { runEvaluations } from './evaluations.js';
import { decodePageToken, queryDigest } from './page-token.js';
import { readActionSearch, readEvaluation, readEvaluations, readResourceSearch, readSubjectSearch, type PageRequest } from './request-shapes.js';
import { resourceCandidates, subjectCandidates, type Candidates } from './search-candidates.js';
import { searchPage } from './search-page.js';
import type { AuthzenSettings } from './settings.js';

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface AuthzenApiDeps {
  readonly model: AccessModel;
  readonly gate: CallerGate;
  readonly store: StateStore;
  readonly settings: AuthzenSettings;
  readonly logger: Logger;
  /** Told of each decision made for a caller, by endpoint (metrics). */
  readonly onDecision?: (endpoint: string, decision: boolean) => void;
}

/** What one call needs besides its body. */
export interface CallContext {
  readonly caller: AuthenticatedIdentity;
  readonly requestId: string | undefined;
  /** The request's trace, when it is traced. */
  readonly trace?: AuthzenTrace;
}

/** The metrics' label for a decision. A search's decisions are only counted in its trace; the others get a span each. */
type DecisionEndpoint = 'evaluation' | 'evaluations' | 'search';

export class AuthzenApi {
  constructor(private readonly deps: AuthzenApiDeps) {}

  async evaluation(body: Record<string, unknown>, call: CallContext): Promise<ApiAnswer> {
    return this.single(readEvaluation(body), call, 'evaluation');
  }

  async evaluations(body: Record<string, unknown>, call: CallContext): Promise<ApiAnswer> {
    const request = readEvaluations(body, this.deps.settings.maxBatch);
    if (!request.items) return this.single(request.single!, call, 'evaluations');
    // Whether the caller may ask, per policy: one store read per service the batch asks about.
    const mayAsk = new Map<CompiledPolicy, Promise<boolean>>();
    const evaluations = await runEvaluations(request.items, request.semantic, async (question) => {
      const found = this.deps.model.policyFor(question.resource);
      if (found === undefined || found.policy === undefined) return itemError(403, scopeMessage(question.resource.type));
      let may = mayAsk.get(found.policy);
      if (!may) mayAsk.set(found.policy, (may = this.mayAsk(call, found.policy)));
      try {
        if (!(await may)) return itemError(403, scopeMessage(question.resource.type));
      } catch (error) {
        return itemError(503, `the caller's access could not be checked: ${(error as Error).message}`);
      }
      return this.decide(question, call, 'evaluations', found);
    });
    return { status: 200, body: { evaluations } };
  }

  async searchSubject(body: Record<string, unknown>, call: CallContext): Promise<ApiAnswer> {
    const search = readSubjectSearch(body);
    const found = await this.scope(call, search.resource);
    if (!found) return forbidden(search.resource.type);
    const { subjectType, action, resource, context } = search;
    const digest = queryDigest('subject', { subjectType, action, resource, context });
    const candidates = await subjectCandidates(this.deps.store, subjectType, `${resource.type}:${resource.id}`, found.policy.service);
    return this.page(search.page, digest, candidates, async (id) => (await this.decide({ subject: { type: subjectType, id }, action, resource, ...(context && { context }) }, call, 'search', found)).decision, (id) => ({ type: subjectType, id }));
  }

  async searchResource(body: Record<string, unknown>, call: CallContext): Promise<ApiAnswer> {
    const search = readResourceSearch(body);
    // Every candidate is of this type and has no properties: the policy found for the type is each one's.
    const found = await this.scope(call, { type: search.resourceType });
    if (!found) return forbidden(search.resourceType);
    const { subject, action, resourceType, context } = search;
    const digest = queryDigest('resource', { subject, action, resourceType, context });
    const candidates = await resourceCandidates(this.deps.store, `${subject.type}:${subject.id}`, resourceType);
    return this.page(search.page, digest, candidates, async (id) => (await this.decide({ subject, action, resource: { type: resourceType, id }, ...(context && { context }) }, call, 'search', found)).decision, (id) => ({ type: resourceType, id }));
  }

  async searchAction(body: Record<string, unknown>, call: CallContext): Promise<ApiAnswer> {
    const search = readActionSearch(body);
    const found = await this.scope(call, search.resource);
    if (!found) return forbidden(search.resource.type);
    const { subject, resource, context } = search;
    const digest = queryDigest('action', { subject, resource, context });
    const names = resource.type === ROUTE_RESOURCE_TYPE ? ROUTE_ACTIONS : this.deps.model.declaredActions(found.policy, resource.type);
    const candidates: Candidates = { ids: [...new Set(names)].sort(), truncated: false };
    return this.page(search.page, digest, candidates, async (name) => (await this.decide({ subject, action: { name }, resource, ...(context && { context }) }, call, 'search', found)).decision, (name) => ({ name }));
  }

  private async single(question: AccessQuestion, call: CallContext, endpoint: DecisionEndpoint): Promise<ApiAnswer> {
    const found = await this.scope(call, question.resource);
    if (!found) return forbidden(question.resource.type);
    return { status: 200, body: await this.decide(question, call, endpoint, found) };
  }

  /** The policy the caller may ask about `resource` under; its store reads traced under the request. */
  private scope(call: CallContext, resource: Pick<AccessResource, 'type' | 'properties'>): Promise<FoundPolicy | undefined> {
    const { gate } = this.deps;
    return call.trace ? call.trace.within(() => gate.scope(call.caller, resource)) : gate.scope(call.caller, resource);
  }

  /** Whether the caller may ask about the policy's service; its store read traced under the request. */
  private mayAsk(call: CallContext, policy: CompiledPolicy): Promise<boolean> {
    const { gate } = this.deps;
    return call.trace ? call.trace.within(() => gate.mayAsk(call.caller, policy)) : gate.mayAsk(call.caller, policy);
  }

  private async page<T>(page: PageRequest, digest: string, candidates: Candidates, allowed: (id: string) => Promise<boolean>, result: (id: string) => T): Promise<ApiAnswer> {
    const { search } = this.deps.settings;
    const position = page.token === undefined ? undefined : decodePageToken(page.token, digest);
    const limit = Math.min(page.limit ?? search.defaultPageSize, search.maxPageSize);
    return { status: 200, body: await searchPage(candidates, { position, limit, maxChecks: search.maxChecksPerPage, digest }, allowed, result) };
  }

  /** `found`: the question's resource's policy, found when the caller's scope was checked. */
  private async decide(question: AccessQuestion, call: CallContext, endpoint: DecisionEndpoint, found: FoundPolicy): Promise<AuthzenDecision> {
    const { trace } = call;
    const evaluation = endpoint === 'search' ? undefined : trace?.evaluation(question);
    let answer: AuthzenDecision;
    try {
      const asked = call.requestId === undefined ? question : { ...question, requestId: call.requestId };
      const decision = await this.deps.model.decide(asked, evaluation, found, endpoint === 'search' ? 'search' : 'question');
      answer = toAuthzenDecision(decision);
      trace?.decided(decision, evaluation);
    } catch (error) {
      // The decider promises never to throw; if it does, the answer is still a deny.
      this.deps.logger.error({ err: error }, 'access decision failed outside the decider; denying');
      trace?.decided(undefined, evaluation, error);
      answer = { decision: false, context: { reason: 'internal_error', reason_user: { 'en-403': denySpec('internal_error').message } } };
    }
    this.deps.onDecision?.(endpoint, answer.decision);
    return answer;
  }
}

function forbidden(resourceType: string): ApiAnswer {
  return { status: 403, body: { error: 'forbidden', message: scopeMessage(resourceType) } };
}
