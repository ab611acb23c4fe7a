// What a rule matches: `methods` × `paths` as written, or the exact (method, template) routes of
// the API description's operations it names by `operationId` (`match.operations`) or by the
// permission they declare (`match.permissions`, `x-keycard-permission`). Names resolve here, at
// load time; an unknown one is a located load error, so a rule can never silently match nothing.
import type { ConfigIssue } from '../errors.js';
import type { KeyPath, YamlSource } from '../config/yaml-file.js';
import type { ApiDescription, ApiOperation } from '../registry/types.js';
import { isPathTemplate, parsePathTemplate, type PathTemplate } from './path-template.js';
import type { RuleSpec } from './schema.js';

/** The policy's API description, indexed for resolving names. */
export interface ApiIndex {
  readonly description: ApiDescription;
  readonly byId: ReadonlyMap<string, ApiOperation>;
  readonly byPermission: ReadonlyMap<string, readonly ApiOperation[]>;
}

export function indexApi(description: ApiDescription): ApiIndex {
  const byId = new Map<string, ApiOperation>();
  const byPermission = new Map<string, ApiOperation[]>();
  for (const operation of description.operations) {
    if (operation.operationId !== undefined && !byId.has(operation.operationId)) byId.set(operation.operationId, operation);
    if (operation.permission !== undefined) {
      const list = byPermission.get(operation.permission) ?? [];
      list.push(operation);
      byPermission.set(operation.permission, list);
    }
  }
  return { description, byId, byPermission };
}

export interface RuleMatch {
  readonly methods: ReadonlySet<string> | undefined;
  readonly paths: readonly PathTemplate[] | undefined;
  readonly routes: ReadonlyMap<string, readonly PathTemplate[]> | undefined;
  readonly operations: readonly string[] | undefined;
  readonly permissions: readonly string[] | undefined;
}

/**
 * `api`: the policy's description; undefined when the policy names none; `unavailable` when it
 * names one that did not load (that is reported once, at `api.openapi`, not for every rule).
 * Returns undefined when the rule cannot be matched (issues are pushed, except for `unavailable`).
 */
export function compileRuleMatch(
  rule: RuleSpec,
  path: KeyPath,
  source: YamlSource,
  issues: ConfigIssue[],
  api: ApiIndex | undefined | 'unavailable',
): RuleMatch | undefined {
  const { operations, permissions } = rule.match;
  if (operations === undefined && permissions === undefined) return writtenMatch(rule, path, source, issues);

  const at = [...path, 'match'];
  const kind = operations !== undefined ? 'operations' : 'permissions';
  const before = issues.length;
  if (operations !== undefined && permissions !== undefined) {
    issues.push(source.issue('invalid_value', [...at, 'permissions'], 'a rule matches by match.operations or by match.permissions, not both: write two rules'));
  }
  for (const key of ['methods', 'paths'] as const) {
    if (rule.match[key] !== undefined) {
      issues.push(
        source.issue('invalid_value', [...at, key], `match.${kind} already fixes the methods and paths of the rule (from the API description): remove match.${key}, or write another rule for other requests`),
      );
    }
  }
  if (permissions !== undefined && rule.permission !== undefined) {
    issues.push(source.issue('invalid_value', [...path, 'permission'], 'a rule with match.permissions grants exactly those permissions: remove "permission"'));
  }
  if (api === undefined) {
    issues.push(source.issue('missing_key', [...at, kind], `match.${kind} names ${kind} of the service's API description: add "api: { openapi: FILE }" to the policy`));
    return undefined;
  }
  if (api === 'unavailable' || issues.length > before) return undefined;

  const matched: ApiOperation[] = [];
  if (operations !== undefined) {
    operations.forEach((id, index) => {
      const operation = api.byId.get(id);
      if (operation) matched.push(operation);
      else issues.push(source.issue('unknown_operation', [...at, 'operations', index], `operation "${id}" is not in ${api.description.file}${known('operationIds', api.byId.keys())}`));
    });
  } else {
    permissions!.forEach((name, index) => {
      const declaring = api.byPermission.get(name);
      if (declaring) matched.push(...declaring);
      else issues.push(source.issue('unknown_permission', [...at, 'permissions', index], `no operation in ${api.description.file} has "x-keycard-permission: ${name}"${known('declared', api.byPermission.keys())}`));
    });
  }
  if (issues.length > before) return undefined;

  const routes = new Map<string, PathTemplate[]>();
  const paths = new Map<string, PathTemplate>();
  for (const operation of matched) {
    const templates = routes.get(operation.method) ?? [];
    if (!templates.some((template) => template.source === operation.template.source)) templates.push(operation.template);
    routes.set(operation.method, templates);
    if (!paths.has(operation.template.source)) paths.set(operation.template.source, operation.template);
  }
  return {
    methods: new Set(routes.keys()),
    paths: [...paths.values()],
    routes,
    operations: operations && [...new Set(operations)],
    permissions: permissions && [...new Set(permissions)],
  };
}

/** `match.methods` × `match.paths`, as keycard has always read them. */
function writtenMatch(rule: RuleSpec, path: KeyPath, source: YamlSource, issues: ConfigIssue[]): RuleMatch {
  const templates: PathTemplate[] = [];
  rule.match.paths?.forEach((text, pathIndex) => {
    const parsed = parsePathTemplate(text);
    if (isPathTemplate(parsed)) templates.push(parsed);
    else issues.push(source.issue('invalid_path_template', [...path, 'match', 'paths', pathIndex], parsed.problem));
  });
  return {
    methods: rule.match.methods ? new Set(rule.match.methods) : undefined,
    paths: rule.match.paths ? templates : undefined,
    routes: undefined,
    operations: undefined,
    permissions: undefined,
  };
}

/** " (known: a, b, c)" — the names the description does have, so a typo is easy to spot. */
function known(what: string, names: Iterable<string>): string {
  const list = [...names].sort();
  if (list.length === 0) return ` (it has no ${what === 'declared' ? 'x-keycard-permission' : 'operationIds'})`;
  const shown = list.slice(0, 12).join(', ');
  return ` (${what}: ${shown}${list.length > 12 ? ', …' : ''})`;
}
