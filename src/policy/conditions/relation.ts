// `relation: "order:{id}#owner"`: the caller has the relation on the object, by a tuple in the
// store, through a group (userset) or a relation rewrite in the schema. `{id}` is bound from the
// rule's path template, or for an access rule from the question's resource id.
import type { CompileContext, Condition } from './types.js';

const RELATION = /^([a-z][a-z0-9_]*):([^#\s]+)#([a-z][a-z0-9_]*)$/;
const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

export function relationCondition(text: string, context: CompileContext): Condition | undefined {
  const match = RELATION.exec(text);
  if (!match) {
    context.issue('invalid_value', [], `"${text}" is not TYPE:ID#RELATION, e.g. "order:{id}#owner"`);
    return undefined;
  }
  const [, type, id, relation] = match as unknown as [string, string, string, string];
  const param = PARAM.exec(id)?.[1];
  if (param !== undefined && !context.pathParams.has(param)) {
    context.issue('invalid_value', [], context.ruleKind === 'access' ? `{${param}}: an access rule binds only {id} (the resource id)` : `{${param}} is not bound by every path template of this rule`);
    return undefined;
  }
  if (id.includes('{') && param === undefined) {
    context.issue('invalid_value', [], `"${id}": the object id is a literal or one whole {param}`);
    return undefined;
  }
  if (!context.relationSchema.hasRelation(type, relation)) {
    context.issue('unknown_relation', [], `relation "${type}#${relation}" is not declared in the relation schema`);
    return undefined;
  }
  const subjectType = context.relationSchema.subjectType;
  return {
    kind: 'relation',
    category: 'plain',
    description: `relation ${text}`,
    needsIdentity: true,
    async evaluate({ identity, params, relations, access }) {
      if (!identity.authenticated) return { ok: false, detail: 'anonymous callers have no relations' };
      const objectId = param === undefined ? id : params[param];
      if (objectId === undefined) return { ok: false, detail: `{${param}} is not bound` };
      const object = `${type}:${objectId}`;
      // An access question names its subject's type (`user`, `service`, ...); an HTTP caller is of the schema's subject type.
      const subject = `${access?.subject.type ?? subjectType}:${identity.subject}`;
      const answer = await relations.check(object, relation, subject);
      return answer.ok
        ? { ok: true, chain: answer.chain }
        : { ok: false, detail: answer.detail ?? `${subject} is not ${relation} of ${object}` };
    },
  };
}
