// `relation: "TYPE:ID#RELATION"`: asks the relation checker whether the caller has the relation
// on the object; `{param}` in the id is bound from the rule's path template.
import { describe, expect, it } from 'vitest';
import { formatConfigIssue } from '../../../src/errors.js';
import type { RelationChecker } from '../../../src/policy/conditions/types.js';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { configError } from '../../helpers/config-error.js';
import { callerContext, compileYaml, user } from '../../helpers/policy.js';

const relationSchema = { hasRelation: (type: string, relation: string) => type === 'order' && ['owner', 'viewer'].includes(relation), subjectType: 'user' };

function compile(rule: string) {
  return compileYaml(`service: s\nrules:\n  - ${rule}\n`, ['test-idp'], 'policy.yaml', { relationSchema });
}

function loadErrors(rule: string): string[] {
  return configError(() => compile(rule), 'the policy loaded without error').issues.map(formatConfigIssue);
}

describe('relation condition', () => {
  it('asks for the relation on the object bound from the path, as the caller', async () => {
    const asked: string[] = [];
    const relations: RelationChecker = {
      check: async (object, relation, subject) => {
        asked.push(`${object}#${relation}@${subject}`);
        return object === 'order:42' ? { ok: true, chain: [subject, `${object}#${relation}`] } : { ok: false, detail: 'no tuple' };
      },
    };
    const policy = compile('{ id: own, effect: allow, match: { paths: ["/orders/{id}"] }, when: [{ relation: "order:{id}#owner" }] }');
    const caller = callerContext({ identity: user('alice'), relations });
    const allowed = await evaluatePolicy(policy, { method: 'GET', segments: ['orders', '42'] }, caller);
    expect(allowed).toMatchObject({ allowed: true, rule: { id: 'own' } });
    expect(allowed.trace).toEqual([{ id: 'own', effect: 'allow', outcome: 'applied', chain: ['user:alice', 'order:42#owner'] }]);
    const denied = await evaluatePolicy(policy, { method: 'GET', segments: ['orders', '43'] }, caller);
    expect(denied.trace).toEqual([{ id: 'own', effect: 'allow', outcome: 'condition_failed', failed: 'no tuple' }]);
    expect(asked).toEqual(['order:42#owner@user:alice', 'order:43#owner@user:alice']);
  });

  it('rejects a {param} that not every path template binds', () => {
    expect(loadErrors('{ id: r, effect: allow, match: { paths: ["/orders/{id}", /orders] }, when: [{ relation: "order:{id}#viewer" }] }')).toEqual([
      'policy.yaml:3:93 [invalid_value] rules[0].when[0].relation: {id} is not bound by every path template of this rule',
    ]);
    expect(loadErrors('{ id: r, effect: allow, when: [{ relation: "order:{id}#viewer" }] }')[0]).toContain('{id} is not bound by every path template');
  });

  it('rejects an undeclared relation and a malformed one', () => {
    expect(loadErrors('{ id: r, effect: allow, when: [{ relation: "order:1#editor" }] }')[0]).toContain('[unknown_relation] rules[0].when[0].relation: relation "order#editor" is not declared');
    expect(loadErrors('{ id: r, effect: allow, when: [{ relation: "order-1-owner" }] }')[0]).toContain('is not TYPE:ID#RELATION');
    expect(loadErrors('{ id: r, effect: allow, match: { paths: ["/o/{id}"] }, when: [{ relation: "order:x{id}#owner" }] }')[0]).toContain('the object id is a literal or one whole {param}');
  });
});
