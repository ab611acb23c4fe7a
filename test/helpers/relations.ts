// The relation fixture the relation tests share, in-process and over gRPC: orders owned by a user
// or, through their shop, managed by the members of the group that owns the shop.
import type { RelationSettings } from '../../src/policy/relations/schema.js';
import type { RelationTuple } from '../../src/state/store.js';
import { parseTuple } from '../../src/state/tuple.js';

export const ORDER_RELATION_TYPES: RelationSettings['types'] = {
  group: { member: [] },
  shop: { owner: [] },
  order: { owner: [], shop: [], manager: ['shop->owner'], viewer: ['owner', 'manager'] },
};

/** The `relations:` section of a settings file that declares ORDER_RELATION_TYPES (a YAML flow mapping). */
export const ORDER_RELATIONS_SETTINGS = `relations: ${JSON.stringify({ types: ORDER_RELATION_TYPES })}\n`;

/** alice owns order 42; order 43 is shop 9's, which the staff group owns, and olga is on the staff. */
export const ORDER_TUPLES: readonly string[] = ['order:42#owner@user:alice', 'order:43#shop@shop:9', 'shop:9#owner@group:staff#member', 'group:staff#member@user:olga'];

/** The rules of the orders policy: support reads every order, and anyone reads an order they may view. */
export const ORDER_RELATION_RULES = `rules:
  - id: support-read
    effect: allow
    match: { methods: [GET], paths: ["/orders/{id}"] }
    when: [{ role: support }]
  - id: read-own-order
    effect: allow
    match: { methods: [GET], paths: ["/orders/{id}"] }
    when: [{ relation: "order:{id}#viewer" }]
`;

/** Parses tuples written `object#relation@subject`; a malformed one fails the test. */
export function tuples(texts: readonly string[]): RelationTuple[] {
  return texts.map((text) => {
    const parsed = parseTuple(text);
    if (!parsed.ok) throw new Error(parsed.problem);
    return parsed.value;
  });
}
