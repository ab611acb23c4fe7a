// `keycard roles grant | revoke | list`: role bindings in the store. A binding is global, or
// limited to one service with --service.
import type { RoleBinding } from '../../state/store.js';
import { applyChange, type ChangeResult } from './change.js';
import { StateCommandError, type StateContext } from './context.js';

/** A token's `sub` is at most this long (the authenticator rejects longer ones). */
const MAX_SUBJECT_LENGTH = 256;
// eslint-disable-next-line no-control-regex
const SUBJECT = /^[^\s\x00-\x1f\x7f]+$/;
/** Role and service names, as in the seed file. */
const NAME = /^[^\s#@]+$/;

export async function grantRole(context: StateContext, binding: RoleBinding): Promise<ChangeResult> {
  const valid = checkBinding(binding);
  const held = await hasBinding(context, valid);
  return applyChange(context, {
    action: 'roles.grant',
    target: bindingTarget(valid),
    changed: !held,
    message: held ? `${valid.subject} already has role ${valid.role} ${scope(valid)}` : `granted role ${valid.role} to ${valid.subject} ${scope(valid)}`,
    write: () => context.store.grantRole(valid),
  });
}

export async function revokeRole(context: StateContext, binding: RoleBinding): Promise<ChangeResult> {
  const valid = checkBinding(binding);
  const bindings = await context.store.listRoleBindings(valid.subject);
  const held = bindings.some((candidate) => sameBinding(candidate, valid));
  // A revoke that matches nothing is usually a typo in the role or the scope: say what there is.
  const elsewhere = bindings.filter((candidate) => candidate.role === valid.role).map(scope);
  const message = held
    ? `revoked role ${valid.role} from ${valid.subject} ${scope(valid)}`
    : `${valid.subject} has no role ${valid.role} ${scope(valid)}: nothing to revoke${elsewhere.length > 0 ? ` (it is bound ${elsewhere.join(', ')})` : ''}`;
  return applyChange(context, {
    action: 'roles.revoke',
    target: bindingTarget(valid),
    changed: held,
    message,
    write: () => context.store.revokeRole(valid),
  });
}

/** Every binding (of `subject`, if given), sorted by subject, service (global first) and role. */
export async function listRoles(context: StateContext, subject?: string): Promise<RoleBinding[]> {
  const bindings = [...(await context.store.listRoleBindings(subject))];
  return bindings.sort(
    (a, b) => a.subject.localeCompare(b.subject) || (a.service ?? '').localeCompare(b.service ?? '') || a.role.localeCompare(b.role),
  );
}

function checkBinding({ subject, role, service }: RoleBinding): RoleBinding {
  if (!SUBJECT.test(subject) || subject.length > MAX_SUBJECT_LENGTH) {
    throw new StateCommandError(`subject "${subject}" must be 1 to ${MAX_SUBJECT_LENGTH} characters without whitespace or control characters`);
  }
  if (!NAME.test(role)) throw new StateCommandError(`role "${role}" must be non-empty, without whitespace, "#" or "@"`);
  if (service !== undefined && !NAME.test(service)) throw new StateCommandError(`--service "${service}" must be non-empty, without whitespace, "#" or "@"`);
  return service === undefined ? { subject, role } : { subject, role, service };
}

async function hasBinding(context: StateContext, binding: RoleBinding): Promise<boolean> {
  return (await context.store.listRoleBindings(binding.subject)).some((candidate) => sameBinding(candidate, binding));
}

function sameBinding(a: RoleBinding, b: RoleBinding): boolean {
  return a.subject === b.subject && a.role === b.role && a.service === b.service;
}

function bindingTarget({ subject, role, service }: RoleBinding): Record<string, string> {
  return service === undefined ? { subject, role } : { subject, role, service };
}

function scope(binding: Pick<RoleBinding, 'service'>): string {
  return binding.service === undefined ? 'globally' : `for service ${binding.service}`;
}
