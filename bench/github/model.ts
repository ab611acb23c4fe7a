// The policy set generated for the GitHub API, as data: one allow rule per operation (role by the
// operation's first tag: <tag>-reader or <tag>-writer may GET, only <tag>-writer may change), one
// `match.permissions` rule per tag for <tag>-maintainer, one for github-admin over every
// permission, and one deny rule (deleting a repository, unless github-admin). The same data
// writes the policy YAML (policy-files.ts) and predicts decisions (oracle.ts), so the benchmark
// can check keycard's answers against an independent reading of the rules.
import { asObject, OPENAPI_METHODS } from './document.js';

export interface ModelOperation {
  readonly operationId: string;
  /** The rule written for it. */
  readonly ruleId: string;
  /** Upper case. */
  readonly method: string;
  /** Full request path template, e.g. /repos/{owner}/{repo}. */
  readonly path: string;
  readonly tag: string;
  readonly permission: string;
  /** Roles its rule allows. */
  readonly roles: readonly string[];
}

export interface MaintainRule {
  readonly id: string;
  readonly tag: string;
  readonly role: string;
  readonly permissions: readonly string[];
}

export interface PolicyModel {
  readonly service: string;
  readonly host: string;
  /** In document order: the order of their rules. */
  readonly operations: readonly ModelOperation[];
  /** After the operation rules, by tag. */
  readonly maintain: readonly MaintainRule[];
  readonly admin: { readonly id: string; readonly role: string; readonly permissions: readonly string[] };
  /** First in the policy. */
  readonly deny: { readonly id: string; readonly operationId: string; readonly unlessRole: string };
  /** The seed's role bindings: a few roles, enough that every operation is reachable (github-admin). */
  readonly bindings: readonly { readonly subject: string; readonly roles: readonly string[] }[];
}

export const SERVICE = 'github';
export const ADMIN_ROLE = 'github-admin';
const DENIED_OPERATION = 'repos/delete';
const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

export function buildModel(document: Record<string, unknown>): PolicyModel {
  const base = basePath(document.servers);
  const operations: ModelOperation[] = [];
  const ruleIds = new Set<string>();
  for (const [key, value] of Object.entries(asObject(document.paths) ?? {})) {
    const item = asObject(value) ?? {};
    for (const [method, operationValue] of Object.entries(item)) {
      const operation = asObject(operationValue);
      if (!OPENAPI_METHODS.includes(method) || !operation) continue;
      const operationId = operation.operationId;
      const permission = operation['x-keycard-permission'];
      const tag = Array.isArray(operation.tags) ? operation.tags[0] : undefined;
      if (typeof operationId !== 'string' || typeof permission !== 'string' || typeof tag !== 'string') {
        throw new Error(`${method.toUpperCase()} ${key}: operationId, first tag and x-keycard-permission are needed`);
      }
      // operationIds are like "repos/get"; rule ids may not contain "/".
      const ruleId = `op.${operationId.replaceAll('/', '.')}`;
      if (!RULE_ID.test(ruleId) || ruleIds.has(ruleId)) throw new Error(`operation ${operationId} does not give a unique rule id (${ruleId})`);
      ruleIds.add(ruleId);
      const upper = method.toUpperCase();
      const read = upper === 'GET' || upper === 'HEAD';
      operations.push({
        operationId,
        ruleId,
        method: upper,
        path: `${base}${key === '/' && base !== '' ? '' : key}`,
        tag,
        permission,
        roles: read ? [`${tag}-reader`, `${tag}-writer`] : [`${tag}-writer`],
      });
    }
  }
  if (!operations.some((operation) => operation.operationId === DENIED_OPERATION)) throw new Error(`the document has no ${DENIED_OPERATION}`);

  const permissionsByTag = new Map<string, Set<string>>();
  for (const operation of operations) {
    const set = permissionsByTag.get(operation.tag) ?? new Set<string>();
    set.add(operation.permission);
    permissionsByTag.set(operation.tag, set);
  }
  const tags = [...permissionsByTag.keys()].sort();
  const maintain = tags.map((tag): MaintainRule => ({ id: `maintain.${tag}`, tag, role: `${tag}-maintainer`, permissions: [...permissionsByTag.get(tag)!].sort() }));
  return {
    service: SERVICE,
    host: 'api.github.com',
    operations,
    maintain,
    admin: { id: 'admin', role: ADMIN_ROLE, permissions: maintain.flatMap((rule) => rule.permissions) },
    deny: { id: 'protect-repository-delete', operationId: DENIED_OPERATION, unlessRole: ADMIN_ROLE },
    bindings: [
      { subject: 'ada', roles: [ADMIN_ROLE] },
      { subject: 'rita', roles: ['repos-reader'] },
      { subject: 'walt', roles: ['issues-writer'] },
      { subject: 'mae', roles: ['pulls-maintainer'] },
      { subject: 'alex', roles: ['actions-reader'] },
    ],
  };
}

/** The first server URL's path ("" for the root), as keycard reads it. */
function basePath(servers: unknown): string {
  const first = Array.isArray(servers) ? asObject(servers[0]) : undefined;
  if (!first || typeof first.url !== 'string') return '';
  if (first.url.includes('{')) throw new Error(`server URL variables are not handled here: ${first.url}`);
  return new URL(first.url, 'http://server.invalid/').pathname.replace(/\/+$/, '');
}
