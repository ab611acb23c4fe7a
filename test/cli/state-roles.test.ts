// `keycard roles grant | revoke | list` against the memory store of an in-process keycard: each
// change is seen by the very next decision, and is audited.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StateCommandError } from '../../src/cli/state/context.js';
import { bindingsOutput, changeOutput } from '../../src/cli/state/render.js';
import { grantRole, listRoles, revokeRole } from '../../src/cli/state/roles.js';
import { stateFixture, type StateFixture } from './state-fixture.js';

let fixture: StateFixture;
beforeAll(async () => {
  fixture = await stateFixture();
});
afterAll(() => fixture.close());
beforeEach(() => {
  fixture.audited.length = 0;
});

describe('keycard roles grant | revoke', () => {
  it('grants a service role that the next decision uses, and revokes it again', async () => {
    const context = fixture.context();
    const token = await fixture.token('bob');
    const refund = () => fixture.decide('orders', '/orders/42/refund', token, 'POST');
    expect((await refund()).reason).toBe('no_matching_rule');

    const granted = await grantRole(context, { subject: 'bob', role: 'finance', service: 'orders' });
    expect(granted).toMatchObject({ action: 'roles.grant', changed: true, store: 'memory', actor: 'ops', message: 'granted role finance to bob for service orders' });
    expect(await refund()).toMatchObject({ allowed: true, ruleId: 'refund' });
    // Only for orders: bob has no role anywhere else.
    expect([...(await context.store.rolesFor('bob', 'tracking'))]).toEqual([]);

    const revoked = await revokeRole(context, { subject: 'bob', role: 'finance', service: 'orders' });
    expect(revoked).toMatchObject({ action: 'roles.revoke', changed: true, message: 'revoked role finance from bob for service orders' });
    expect((await refund()).reason).toBe('no_matching_rule');

    expect(fixture.audited).toEqual([
      { actor: 'ops', action: 'roles.grant', target: { subject: 'bob', role: 'finance', service: 'orders' }, store: 'memory' },
      { actor: 'ops', action: 'roles.revoke', target: { subject: 'bob', role: 'finance', service: 'orders' }, store: 'memory' },
    ]);
  });

  it('grants a global role, which applies to every service', async () => {
    const context = fixture.context({ actor: 'carla' });
    const result = await grantRole(context, { subject: 'gina', role: 'support' });
    expect(result.message).toBe('granted role support to gina globally');
    expect((await fixture.decide('tracking', '/orders/999', await fixture.token('gina'))).ruleId).toBe('support-read');
    expect(fixture.audited).toEqual([{ actor: 'carla', action: 'roles.grant', target: { subject: 'gina', role: 'support' }, store: 'memory' }]);
    await revokeRole(context, { subject: 'gina', role: 'support' });
  });

  it('says when nothing changed, and where a role that was not revoked is bound instead', async () => {
    const context = fixture.context();
    expect(await grantRole(context, { subject: 'alice', role: 'customer' })).toMatchObject({ changed: false, message: 'alice already has role customer globally' });

    // fiona holds finance for orders only: a global revoke is most likely a mistake.
    const missed = await revokeRole(context, { subject: 'fiona', role: 'finance' });
    expect(missed).toMatchObject({ changed: false, message: 'fiona has no role finance globally: nothing to revoke (it is bound for service orders)' });
    expect([...(await context.store.rolesFor('fiona', 'orders'))]).toEqual(['finance']);
    // Still written and audited: the store may have changed since it was read.
    expect(fixture.audited.map((change) => change.action)).toEqual(['roles.grant', 'roles.revoke']);
    expect(changeOutput(missed)).toEqual({
      code: 0,
      text: missed.message,
      json: { action: 'roles.revoke', target: { subject: 'fiona', role: 'finance' }, store: 'memory', actor: 'ops', changed: false },
    });
  });

  it('refuses malformed subjects, roles and services without writing or auditing', async () => {
    const context = fixture.context();
    await expect(grantRole(context, { subject: 'bob', role: 'fin ance' })).rejects.toThrow(new StateCommandError('role "fin ance" must be non-empty, without whitespace, "#" or "@"'));
    await expect(grantRole(context, { subject: '', role: 'finance' })).rejects.toThrow(StateCommandError);
    await expect(grantRole(context, { subject: 'x'.repeat(257), role: 'finance' })).rejects.toThrow(/must be 1 to 256 characters/);
    await expect(revokeRole(context, { subject: 'bob', role: 'finance', service: 'or@ders' })).rejects.toThrow('--service "or@ders" must be non-empty');
    expect(await context.store.listRoleBindings('bob')).toEqual([]);
    expect(fixture.audited).toEqual([]);
  });

  it('accepts e-mail subjects, as token subjects often are', async () => {
    const context = fixture.context();
    await grantRole(context, { subject: 'dana@example.com', role: 'customer' });
    expect([...(await context.store.rolesFor('dana@example.com', 'orders'))]).toEqual(['customer']);
    await revokeRole(context, { subject: 'dana@example.com', role: 'customer' });
  });
});

describe('keycard roles list', () => {
  it('lists every binding sorted by subject, global first, or those of one subject', async () => {
    const context = fixture.context();
    const all = await listRoles(context);
    expect(all).toEqual([
      { subject: 'alice', role: 'customer' },
      { subject: 'fiona', role: 'finance', service: 'orders' },
      { subject: 'sam', role: 'support' },
    ]);
    expect(bindingsOutput(all).text.split('\n')).toEqual(['alice  customer  (global)', 'fiona  finance   service orders', 'sam    support   (global)']);
    expect(bindingsOutput(await listRoles(context, 'fiona')).json).toEqual({ bindings: [{ subject: 'fiona', role: 'finance', service: 'orders' }] });
    expect(bindingsOutput(await listRoles(context, 'nobody'))).toEqual({ code: 0, text: 'no role bindings', json: { bindings: [] } });
    expect(fixture.audited).toEqual([]);
  });
});
