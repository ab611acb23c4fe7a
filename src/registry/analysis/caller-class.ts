// The callers an access analysis distinguishes: anonymous, authenticated without roles, and one
// class per role the store binds for the service (global bindings and the service's own). Real
// callers may hold several roles; one role at a time keeps the table readable, and a caller with
// several roles gets at least the union of what each role gets (roles only ever add grants).
import type { RoleBinding } from '../../state/store.js';

export type CallerClass =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'role'; readonly role: string };

export const ANONYMOUS_CALLER: CallerClass = { kind: 'anonymous' };
export const AUTHENTICATED_CALLER: CallerClass = { kind: 'authenticated' };

/** `anonymous`, `authenticated` or `role:NAME`: the name used in reports and accept files. */
export function callerLabel(caller: CallerClass): string {
  return caller.kind === 'role' ? `role:${caller.role}` : caller.kind;
}

/** Roles bound for `service` (global or service bindings), sorted. */
export function rolesForService(bindings: readonly RoleBinding[], service: string): string[] {
  const roles = new Set<string>();
  for (const binding of bindings) {
    if (binding.service === undefined || binding.service === service) roles.add(binding.role);
  }
  return [...roles].sort();
}

/** The caller classes for a service whose bindings give `roles`. */
export function callerClasses(roles: readonly string[]): CallerClass[] {
  return [ANONYMOUS_CALLER, AUTHENTICATED_CALLER, ...roles.map((role): CallerClass => ({ kind: 'role', role }))];
}
