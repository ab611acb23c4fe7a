// The `relations:` section of the settings file: defaults, and located errors for every mistake
// a schema cannot catch by shape alone.
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { RelationSchema } from '../../../src/policy/relations/schema.js';
import { configError } from '../../helpers/config-error.js';
import { Workspace } from '../../helpers/workspace.js';

let workspace: Workspace | undefined;
afterEach(() => workspace?.remove());

function settingsFile(text: string): string {
  workspace = new Workspace();
  return workspace.write('keycard.yaml', text);
}

function settingsErrors(text: string): string[] {
  const file = settingsFile(text);
  return configError(() => loadSettings(file), 'settings loaded without error').message.replaceAll(file, 'keycard.yaml').split('\n');
}

describe('relations settings', () => {
  it('applies defaults: callers are users, chains up to 8 usersets, 256 reads per check', () => {
    const settings = loadSettings(settingsFile('policies: { dir: p }\nrelations:\n  types:\n    group: { member: [] }\n'));
    expect(settings.relations).toEqual({ subjectType: 'user', maxDepth: 8, maxReads: 256, types: { group: { member: [] } } });
  });

  it('is optional', () => {
    expect(loadSettings(settingsFile('policies: { dir: p }\n')).relations).toBeUndefined();
  });

  it('accepts the documented example', () => {
    const settings = loadSettings(
      settingsFile(`policies: { dir: p }
relations:
  subjectType: account
  maxDepth: 4
  maxReads: 64
  types:
    group: { member: [] }
    shop: { owner: [] }
    order:
      owner: []
      shop: []
      manager: ["shop->owner"]
      viewer: [owner, manager]
`),
    );
    const schema = new RelationSchema(settings.relations!);
    expect(schema.subjectType).toBe('account');
    expect([schema.maxDepth, schema.maxReads]).toEqual([4, 64]);
    expect(schema.hasRelation('order', 'viewer')).toBe(true);
    expect(schema.hasRelation('order', 'member')).toBe(false);
    expect(schema.hasRelation('user', 'member')).toBe(false);
    expect(schema.rewrites('order', 'viewer')).toEqual([
      { kind: 'computed', relation: 'owner' },
      { kind: 'computed', relation: 'manager' },
    ]);
    expect(schema.rewrites('order', 'manager')).toEqual([{ kind: 'tuple_to_userset', tupleset: 'shop', relation: 'owner' }]);
    expect(schema.rewrites('group', 'member')).toEqual([]);
    expect(schema.rewrites('group', 'owner')).toBeUndefined();
  });

  it('locates bad names and bad references', () => {
    expect(
      settingsErrors(`policies: { dir: p }
relations:
  subjectType: User
  types:
    Group: { member: [] }
    shop: { owner: [] }
    order:
      Owner: []
      owner: []
      shop: []
      manager: ["shop->owner"]
      viewer: [owner, ownr, viewer, "shp->owner", "manager->owner", "shop->nobody", "bad entry", "->owner"]
`),
    ).toEqual([
      'keycard.yaml:3:16 [invalid_value] relations.subjectType: type name "User" must be lowercase letters, digits and "_", starting with a letter',
      'keycard.yaml:5:5 [invalid_value] relations.types.Group: type name "Group" must be lowercase letters, digits and "_", starting with a letter',
      'keycard.yaml:8:7 [invalid_value] relations.types.order.Owner: relation name "Owner" must be lowercase letters, digits and "_", starting with a letter',
      'keycard.yaml:12:23 [unknown_relation] relations.types.order.viewer[1]: relation "order#ownr" is not declared; order has Owner, owner, shop, manager, viewer',
      'keycard.yaml:12:29 [invalid_value] relations.types.order.viewer[2]: relation "order#viewer" cannot include itself',
      'keycard.yaml:12:37 [unknown_relation] relations.types.order.viewer[3]: tupleset relation "order#shp" is not declared; order has Owner, owner, shop, manager, viewer',
      'keycard.yaml:12:51 [invalid_value] relations.types.order.viewer[4]: tupleset relation "order#manager" must be direct only ([]): only its tuples are followed',
      'keycard.yaml:12:69 [unknown_relation] relations.types.order.viewer[5]: no type declares relation "nobody"',
      'keycard.yaml:12:85 [invalid_value] relations.types.order.viewer[6]: "bad entry" is not RELATION or TUPLESET->RELATION',
      'keycard.yaml:12:98 [invalid_value] relations.types.order.viewer[7]: "->owner" is not RELATION or TUPLESET->RELATION',
    ]);
  });

  it('rejects unknown keys, a missing types map and out-of-range limits', () => {
    expect(settingsErrors('policies: { dir: p }\nrelations:\n  maxdepth: 3\n  types: {}\n')).toEqual([
      'keycard.yaml:3:3 [unknown_key] relations.maxdepth: unknown key "maxdepth"',
    ]);
    expect(settingsErrors('policies: { dir: p }\nrelations: { subjectType: user }\n')).toEqual([
      'keycard.yaml:2:12 [missing_key] relations.types: required key is missing',
    ]);
    expect(settingsErrors('policies: { dir: p }\nrelations: { maxDepth: 0, types: {} }\n')).toEqual([
      'keycard.yaml:2:24 [invalid_value] relations.maxDepth: Too small: expected number to be >=1',
    ]);
    expect(settingsErrors('policies: { dir: p }\nrelations:\n  types:\n    order: { owner: owner }\n')).toEqual([
      'keycard.yaml:4:21 [invalid_value] relations.types.order.owner: Invalid input: expected array, received string',
    ]);
  });

  it('refuses to build a schema from unchecked settings', () => {
    expect(() => new RelationSchema({ subjectType: 'user', maxDepth: 8, maxReads: 256, types: { order: { viewer: ['owner'] } } })).toThrow(
      'invalid relation schema: types.order.viewer[0]: relation "order#owner" is not declared; order has viewer',
    );
  });
});
