// Policy unit-test files (`*.test.yaml` beside the policies), read by `keycard test`:
//
//   service: orders                    # default service for the cases (optional)
//   now: "2026-11-23T10:00:00Z"        # default decision time (optional)
//   state:                             # optional: the store holds exactly this (seed-file form)
//     roleBindings: [{ subject: alice, roles: [customer] }]
//   cases:
//     - name: customers read orders
//       request: { method: GET, path: /orders/42, headers: { x-tenant: acme }, source: 10.1.2.3 }
//       caller: { subject: alice, claims: { amr: [pwd, otp] }, roles: [customer] }   # omit: anonymous
//       now: "2026-11-23T10:00:00Z"
//       expect: { decision: allow, rule: customers-browse }
//     - name: owners update their todos             # an access question (AuthZEN) instead of a request
//       access:
//         subject: { type: user, id: alice, properties: { team: blue } }    # type: user when left out
//         action: { name: can_update_todo }
//         resource: { type: todo, id: "42", properties: { ownerID: alice@example.com } }
//         context: { ip: 10.0.0.1 }
//       expect: { decision: allow, rule: owner-updates }
//
// Beyond the schema, a file is checked against the loaded policies: a case must reach a policy
// (unless it expects unknown_service) and an expected rule must exist in it, so a typo fails
// loudly instead of passing as a deny.
import { z } from 'zod';
import { readYamlFile, validate, type KeyPath, type YamlSource } from '../config/yaml-file.js';
import { ConfigError, DENY_REASONS, formatConfigIssue, type ConfigIssue, type DenyReason } from '../errors.js';
import { normalizeHost } from '../pipeline/normalize.js';
import type { OfflineCaller, OfflineRequest } from '../pipeline/offline.js';
import { defaultIssuer, instantSchema, offlineCallerSchema, offlineRequestSchema } from '../pipeline/offline-schema.js';
import type { RelationSchemaView } from '../policy/conditions/types.js';
import type { AccessQuestion, JsonObject } from '../access/types.js';
import { policyForResource } from '../access/resource-policy.js';
import { ROUTE_RESOURCE_TYPE } from '../policy/compile-access.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { CompiledPolicy } from '../policy/types.js';
import { seedFromData, seedSchema, type Seed } from '../state/seed-file.js';
import { checkSeedTuples } from '../state/seed-tuples.js';

export const DECISIONS = ['allow', 'deny', 'dry_run_deny'] as const;
const REASONS = ['allowed', ...(Object.keys(DENY_REASONS) as DenyReason[])] as const;
const STATUSES = [200, ...new Set(Object.values(DENY_REASONS).map((spec) => spec.status))];

const expectSchema = z
  .strictObject({
    decision: z.enum(DECISIONS).optional(),
    status: z
      .number()
      .int()
      .refine((status) => STATUSES.includes(status), `one of ${STATUSES.join(', ')}`)
      .optional(),
    reason: z.enum(REASONS).optional(),
    /** The rule that allowed or explicitly denied; null for none. */
    rule: z.string().min(1).nullable().optional(),
    /** Permissions the caller holds (policies with forward.permissionsHeader), in any order. */
    permissions: z.array(z.string().min(1)).optional(),
    /** What an insufficient_scope or step-up deny asks for; null for none. */
    challenge: z
      .strictObject({
        scope: z.array(z.string().min(1)).optional(),
        acrValues: z.array(z.string().min(1)).optional(),
        maxAgeSeconds: z.number().int().nonnegative().optional(),
      })
      .nullable()
      .optional(),
  })
  .refine((expected) => Object.keys(expected).length > 0, {
    message: 'expect needs at least one of decision, status, reason, rule, permissions, challenge',
  });

export type Expectation = z.infer<typeof expectSchema>;
export type ExpectField = keyof Expectation;
export const EXPECT_FIELDS: readonly ExpectField[] = ['decision', 'status', 'reason', 'rule', 'permissions', 'challenge'];

const jsonObject = z.record(z.string(), z.unknown()).transform((value) => value as JsonObject);

/** An access question as an AuthZEN caller sends it (the subject is asserted, its roles come from the state). */
const accessSchema = z.strictObject({
  subject: z.strictObject({ type: z.string().min(1).default('user'), id: z.string().min(1), properties: jsonObject.optional() }),
  action: z.strictObject({ name: z.string().min(1), properties: jsonObject.optional() }),
  resource: z.strictObject({ type: z.string().min(1), id: z.string().min(1), properties: jsonObject.optional() }),
  context: jsonObject.optional(),
});

const caseSchema = z
  .strictObject({
    name: z.string().min(1),
    request: offlineRequestSchema.optional(),
    /** An access question instead of a request. */
    access: accessSchema.optional(),
    /** Leave out for an anonymous caller. Not for access questions: their subject is in `access`. */
    caller: offlineCallerSchema.optional(),
    now: instantSchema.optional(),
    expect: expectSchema,
  })
  .superRefine((spec, ctx) => {
    if ((spec.request === undefined) === (spec.access === undefined)) {
      ctx.addIssue({ code: 'custom', path: spec.request === undefined ? [] : ['access'], message: 'a case has either request (an HTTP request) or access (an access question)' });
    }
    if (spec.access !== undefined && spec.caller !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['caller'], message: 'an access question names its subject in access.subject; its roles come from state' });
    }
  });

export const testFileSchema = z.strictObject({
  description: z.string().optional(),
  service: z.string().min(1).optional(),
  now: instantSchema.optional(),
  state: seedSchema.optional(),
  cases: z.array(caseSchema).min(1),
});

export interface PolicyTestCase {
  readonly name: string;
  /** Line of the case in the file. */
  readonly line: number;
  /** The HTTP request decided (absent for an access question). */
  readonly request?: OfflineRequest;
  /** The access question decided instead of a request. */
  readonly access?: AccessQuestion;
  readonly caller: OfflineCaller;
  /** Decision time in milliseconds; undefined for the clock. */
  readonly now?: number;
  readonly expect: Expectation;
}

export interface PolicyTestFile {
  /** As given (or relative to the working directory), for messages. */
  readonly file: string;
  /** Undefined: the configured store's state. */
  readonly state?: Seed;
  readonly cases: readonly PolicyTestCase[];
}

export interface TestFileContext {
  readonly policies: PolicySet;
  /** Issuer names of the settings file. */
  readonly issuers: readonly string[];
  /** The relation schema that `state.tuples` must use. */
  readonly relations?: RelationSchemaView;
}

/**
 * Reads, validates and checks a test file against `policies` (and the `state:` tuples against the
 * relation schema, as for a seed file); throws ConfigError with every problem.
 */
export function loadTestFile(file: string, context: TestFileContext, displayName = file): PolicyTestFile {
  const { policies, issuers, relations } = context;
  const { source, value } = readYamlFile(file, displayName);
  const data = validate(source, testFileSchema, value);
  const issues: ConfigIssue[] = [];
  if (data.state) {
    try {
      checkSeedTuples(within(source, ['state']), data.state.tuples, relations);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  }
  const names = new Map<string, number>();
  const cases = data.cases.map((spec, index): PolicyTestCase => {
    const at = ['cases', index];
    const earlier = names.get(spec.name);
    if (earlier !== undefined) issues.push(source.issue('invalid_value', [...at, 'name'], `case name "${spec.name}" is also used by cases[${earlier}]`));
    names.set(spec.name, index);
    const now = spec.now ?? data.now;
    const timing = { name: spec.name, line: source.locate(at).line, ...(now !== undefined && { now }), expect: spec.expect };
    if (spec.access) {
      const access = withDefaultService(spec.access, data.service);
      issues.push(...checkAccessCase(source, at, access, spec.expect, policies));
      return { ...timing, access, caller: {} };
    }
    const specRequest = spec.request!;
    const request: OfflineRequest = { ...specRequest, service: specRequest.service ?? data.service };
    const policy = policies.route(request.service, normalizeHost(request.host ?? ''));
    issues.push(...checkAgainstPolicy(source, at, request, spec.expect, policy, specRequest.service === undefined && data.service !== undefined));
    let caller: OfflineCaller = {};
    if (spec.caller) {
      const { issuer } = spec.caller;
      if (issuer !== undefined && !issuers.includes(issuer)) {
        issues.push(source.issue('unknown_issuer', [...at, 'caller', 'issuer'], `issuer "${issuer}" is not configured in the settings file`));
      }
      caller = { ...spec.caller, issuer: issuer ?? defaultIssuer(policy, issuers) };
    }
    return { ...timing, request, caller };
  });
  if (issues.length > 0) {
    // In file order, and a bad default service once rather than once per case.
    const unique = [...new Map(issues.map((issue) => [formatConfigIssue(issue), issue])).values()];
    throw new ConfigError(unique.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)));
  }
  return { file: displayName, ...(data.state && { state: seedFromData(data.state) }), cases };
}

function checkAgainstPolicy(
  source: YamlSource,
  at: readonly (string | number)[],
  request: OfflineRequest,
  expected: Expectation,
  policy: CompiledPolicy | undefined,
  serviceFromFile: boolean,
): ConfigIssue[] {
  if (!policy) {
    if (expected.reason === 'unknown_service') return [];
    const named = request.service !== undefined && request.service !== '';
    const message = named ? `no policy serves service "${request.service}"` : `no policy serves host "${request.host ?? ''}" (name a service)`;
    return [named && serviceFromFile ? source.issue('invalid_value', ['service'], message) : source.issue('invalid_value', [...at, 'request'], message)];
  }
  const issues: ConfigIssue[] = [];
  if (typeof expected.rule === 'string' && !hasRule(policy, expected.rule)) {
    issues.push(source.issue('invalid_value', [...at, 'expect', 'rule'], `policy "${policy.service}" has no rule "${expected.rule}"`));
  }
  if (expected.permissions && !policy.forward.permissionsHeader) {
    issues.push(
      source.issue('invalid_value', [...at, 'expect', 'permissions'], `policy "${policy.service}" does not forward permissions (forward.permissionsHeader), so none are computed`),
    );
  }
  return issues;
}

function hasRule(policy: CompiledPolicy, id: string): boolean {
  return policy.rules.some((rule) => rule.id === id) || policy.accessRules.some((rule) => rule.id === id);
}

/** A route question without `resource.properties.service` asks about the file's service. */
function withDefaultService(access: AccessQuestion, service: string | undefined): AccessQuestion {
  const { resource } = access;
  if (resource.type !== ROUTE_RESOURCE_TYPE || service === undefined || resource.properties?.service !== undefined) return access;
  return { ...access, resource: { ...resource, properties: { ...resource.properties, service } } };
}

/** An access question must reach a policy (unless it expects it not to), and an expected rule must be there. */
function checkAccessCase(source: YamlSource, at: readonly (string | number)[], access: AccessQuestion, expected: Expectation, policies: PolicySet): ConfigIssue[] {
  const { resource } = access;
  const route = resource.type === ROUTE_RESOURCE_TYPE;
  const service = resource.properties?.service;
  const { policy } = policyForResource(policies, resource);
  if (!policy) {
    if (expected.reason === 'unknown_service' || expected.reason === 'unknown_resource_type') return [];
    const message = route ? `no policy serves service ${JSON.stringify(service ?? null)} (name it in access.resource.properties.service)` : `no policy's access rules name resource type "${resource.type}"`;
    return [source.issue('invalid_value', [...at, 'access', 'resource'], message)];
  }
  if (typeof expected.rule === 'string' && !hasRule(policy, expected.rule)) {
    return [source.issue('invalid_value', [...at, 'expect', 'rule'], `policy "${policy.service}" has no rule "${expected.rule}"`)];
  }
  return [];
}

/** `source` with every issue's key path under `prefix` (the seed checks locate from the seed's root). */
function within(source: YamlSource, prefix: readonly (string | number)[]): YamlSource {
  return Object.assign(Object.create(source) as YamlSource, {
    issue: (code: ConfigIssue['code'], path: KeyPath, message: string, keyName?: string) => source.issue(code, [...prefix, ...path], message, keyName),
  });
}
