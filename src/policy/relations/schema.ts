// The relation schema (ReBAC, Zanzibar-style) from the `relations:` section of the settings file:
//   relations:
//     subjectType: user            # callers are user:<sub>
//     maxDepth: 8                  # longest chain of usersets followed
//     maxReads: 256                # store reads one check may make; past it the check fails closed
//     types:
//       group: { member: [] }                   # [] = direct tuples only
//       order:
//         owner: []
//         shop: []                              # order:1#shop@shop:9
//         manager: ["shop->owner"]              # tuple-to-userset: owners of the order's shop
//         viewer: [owner, manager]              # computed usersets
// Every relation includes its direct tuples; each entry adds another relation of the same type
// or `TUPLESET->RELATION`: RELATION on every object the tupleset relation's tuples point to.
import { z } from 'zod';
import { formatKeyPath, type YamlSource } from '../../config/yaml-file.js';
import { ConfigError, type ConfigErrorCode } from '../../errors.js';
import { NAME_RULE, RELATION_NAME } from '../../state/tuple.js';
import type { RelationSchemaView } from '../conditions/types.js';

export const DEFAULT_MAX_DEPTH = 8;
export const DEFAULT_MAX_READS = 256;

export const relationSettingsSchema = z.strictObject({
  subjectType: z.string().default('user'),
  maxDepth: z.number().int().min(1).max(64).default(DEFAULT_MAX_DEPTH),
  maxReads: z.number().int().min(1).max(100_000).default(DEFAULT_MAX_READS),
  types: z.record(z.string(), z.record(z.string(), z.array(z.string()))),
});

export type RelationSettings = z.infer<typeof relationSettingsSchema>;

export type Rewrite =
  /** Everyone with `relation` on the same object. */
  | { readonly kind: 'computed'; readonly relation: string }
  /** Everyone with `relation` on each object that `object#tupleset` points to. */
  | { readonly kind: 'tuple_to_userset'; readonly tupleset: string; readonly relation: string };

/** A problem in the `relations` section; `path` is relative to it. */
export interface RelationSchemaIssue {
  readonly code: ConfigErrorCode;
  readonly path: readonly (string | number)[];
  /** Set when the problem is a key's name: the location is the key itself. */
  readonly keyName?: string;
  readonly message: string;
}

const ARROW = '->';

/** Every problem zod cannot see: names, and references between relations. */
export function relationSchemaIssues(settings: RelationSettings): RelationSchemaIssue[] {
  const issues: RelationSchemaIssue[] = [];
  if (!RELATION_NAME.test(settings.subjectType)) {
    issues.push({ code: 'invalid_value', path: ['subjectType'], message: `type name "${settings.subjectType}" must be ${NAME_RULE}` });
  }
  const types = Object.entries(settings.types);
  const declared = (type: string, relation: string) => Object.hasOwn(settings.types, type) && Object.hasOwn(settings.types[type]!, relation);
  const anyTypeDeclares = (relation: string) => types.some(([, relations]) => Object.hasOwn(relations, relation));
  for (const [type, relations] of types) {
    if (!RELATION_NAME.test(type)) {
      issues.push({ code: 'invalid_value', path: ['types'], keyName: type, message: `type name "${type}" must be ${NAME_RULE}` });
      continue;
    }
    for (const [relation, rewrites] of Object.entries(relations)) {
      if (!RELATION_NAME.test(relation)) {
        issues.push({ code: 'invalid_value', path: ['types', type], keyName: relation, message: `relation name "${relation}" must be ${NAME_RULE}` });
        continue;
      }
      rewrites.forEach((entry, index) => {
        const path = ['types', type, relation, index];
        const problem = rewriteProblem(type, relation, entry, settings.types[type]!, declared, anyTypeDeclares);
        if (problem) issues.push({ ...problem, path });
      });
    }
  }
  return issues;
}

function rewriteProblem(
  type: string,
  relation: string,
  entry: string,
  relations: Readonly<Record<string, readonly string[]>>,
  declared: (type: string, relation: string) => boolean,
  anyTypeDeclares: (relation: string) => boolean,
): Pick<RelationSchemaIssue, 'code' | 'message'> | undefined {
  const arrow = entry.indexOf(ARROW);
  if (arrow < 0) {
    if (!RELATION_NAME.test(entry)) return { code: 'invalid_value', message: `"${entry}" is not RELATION or TUPLESET->RELATION` };
    if (entry === relation) return { code: 'invalid_value', message: `relation "${type}#${relation}" cannot include itself` };
    if (!declared(type, entry)) return { code: 'unknown_relation', message: `relation "${type}#${entry}" is not declared${declaredHint(type, relations)}` };
    return undefined;
  }
  const tupleset = entry.slice(0, arrow);
  const target = entry.slice(arrow + ARROW.length);
  if (!RELATION_NAME.test(tupleset) || !RELATION_NAME.test(target)) {
    return { code: 'invalid_value', message: `"${entry}" is not RELATION or TUPLESET->RELATION` };
  }
  if (!declared(type, tupleset)) {
    return { code: 'unknown_relation', message: `tupleset relation "${type}#${tupleset}" is not declared${declaredHint(type, relations)}` };
  }
  if ((relations[tupleset]?.length ?? 0) > 0) {
    return { code: 'invalid_value', message: `tupleset relation "${type}#${tupleset}" must be direct only ([]): only its tuples are followed` };
  }
  if (!anyTypeDeclares(target)) return { code: 'unknown_relation', message: `no type declares relation "${target}"` };
  return undefined;
}

function declaredHint(type: string, relations: Readonly<Record<string, readonly string[]>>): string {
  return `; ${type} has ${Object.keys(relations).join(', ')}`;
}

/** Checks the `relations` section of a settings file; throws every located problem. */
export function checkRelationSettings(source: YamlSource, settings: RelationSettings | undefined): void {
  if (!settings) return;
  const issues = relationSchemaIssues(settings).map((issue) => source.issue(issue.code, ['relations', ...issue.path], issue.message, issue.keyName));
  if (issues.length > 0) throw new ConfigError(issues);
}

/** The validated schema: which relations exist and how each is computed. */
export class RelationSchema implements RelationSchemaView {
  readonly subjectType: string;
  readonly maxDepth: number;
  readonly maxReads: number;
  private readonly types = new Map<string, ReadonlyMap<string, readonly Rewrite[]>>();

  constructor(settings: RelationSettings) {
    const issues = relationSchemaIssues(settings);
    if (issues.length > 0) {
      const described = issues.map((issue) => `${formatKeyPath([...issue.path, ...(issue.keyName === undefined ? [] : [issue.keyName])])}: ${issue.message}`);
      throw new Error(`invalid relation schema: ${described.join('; ')}`);
    }
    this.subjectType = settings.subjectType;
    this.maxDepth = settings.maxDepth;
    this.maxReads = settings.maxReads;
    for (const [type, relations] of Object.entries(settings.types)) {
      const compiled = new Map<string, readonly Rewrite[]>();
      for (const [relation, rewrites] of Object.entries(relations)) compiled.set(relation, rewrites.map(parseRewrite));
      this.types.set(type, compiled);
    }
  }

  /** Builds from settings; undefined when the settings file has no `relations` section. */
  static fromSettings(settings: RelationSettings | undefined): RelationSchema | undefined {
    return settings ? new RelationSchema(settings) : undefined;
  }

  hasRelation(objectType: string, relation: string): boolean {
    return this.types.get(objectType)?.has(relation) ?? false;
  }

  /** The declared object types. */
  typeNames(): readonly string[] {
    return [...this.types.keys()];
  }

  /** The relations declared on `objectType`; undefined when the type is not declared. */
  relationsOf(objectType: string): readonly string[] | undefined {
    const relations = this.types.get(objectType);
    return relations && [...relations.keys()];
  }

  /** How `type#relation` is computed besides its direct tuples; undefined when it is not declared. */
  rewrites(objectType: string, relation: string): readonly Rewrite[] | undefined {
    return this.types.get(objectType)?.get(relation);
  }
}

function parseRewrite(entry: string): Rewrite {
  const arrow = entry.indexOf(ARROW);
  if (arrow < 0) return { kind: 'computed', relation: entry };
  return { kind: 'tuple_to_userset', tupleset: entry.slice(0, arrow), relation: entry.slice(arrow + ARROW.length) };
}
