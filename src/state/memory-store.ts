// The embedded default store: process memory, seeded from the seed file. Changes are live for
// this process only; use the Redis store to share state between replicas.
import type { RoleBinding, StateStore } from './store.js';

const GLOBAL = '';

export class MemoryStore implements StateStore {
  readonly kind: string = 'memory';
  /** subject → service ('' for global) → roles */
  private readonly roles = new Map<string, Map<string, Set<string>>>();

  constructor(bindings: readonly RoleBinding[] = []) {
    for (const binding of bindings) this.addBinding(binding);
  }

  async rolesFor(subject: string, service: string): Promise<ReadonlySet<string>> {
    const byService = this.roles.get(subject);
    if (!byService) return EMPTY;
    const global = byService.get(GLOBAL);
    const scoped = byService.get(service);
    if (!scoped) return global ?? EMPTY;
    if (!global) return scoped;
    return new Set([...global, ...scoped]);
  }

  async grantRole(binding: RoleBinding): Promise<void> {
    this.addBinding(binding);
  }

  async revokeRole({ subject, role, service }: RoleBinding): Promise<void> {
    this.roles.get(subject)?.get(service ?? GLOBAL)?.delete(role);
  }

  async listRoleBindings(subject?: string): Promise<readonly RoleBinding[]> {
    const out: RoleBinding[] = [];
    for (const [who, byService] of this.roles) {
      if (subject !== undefined && who !== subject) continue;
      for (const [service, roles] of byService) {
        for (const role of roles) out.push(service === GLOBAL ? { subject: who, role } : { subject: who, role, service });
      }
    }
    return out;
  }

  async close(): Promise<void> {}

  private addBinding({ subject, role, service }: RoleBinding): void {
    let byService = this.roles.get(subject);
    if (!byService) this.roles.set(subject, (byService = new Map()));
    const key = service ?? GLOBAL;
    let roles = byService.get(key);
    if (!roles) byService.set(key, (roles = new Set()));
    roles.add(role);
  }
}

const EMPTY: ReadonlySet<string> = new Set();
