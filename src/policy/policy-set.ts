// The policies now loaded, as one immutable value. Reload builds a new PolicySet and swaps it in;
// a shadow set can sit beside the enforced one because nothing here is global.
import type { CompiledPolicy } from './types.js';

export class PolicySet {
  private readonly byService = new Map<string, CompiledPolicy>();
  private readonly byHost = new Map<string, CompiledPolicy>();
  /** Resource type of access questions → the one policy whose access rules name it. */
  private readonly byResourceType = new Map<string, CompiledPolicy>();

  constructor(
    readonly policies: readonly CompiledPolicy[],
    /** Content hash of the files the set was built from. */
    readonly version: string,
  ) {
    for (const policy of policies) {
      this.byService.set(policy.service, policy);
      for (const host of policy.hosts) this.byHost.set(host, policy);
      for (const type of policy.resourceTypes) this.byResourceType.set(type, policy);
    }
  }

  /** The policy for an explicit service name (Envoy context_extensions), else for the normalized host. */
  route(service: string | undefined, host: string): CompiledPolicy | undefined {
    if (service !== undefined && service !== '') return this.byService.get(service);
    return this.byHost.get(host);
  }

  /** The policy that answers access questions about `type` (the loader makes each type belong to one policy). */
  routeResourceType(type: string): CompiledPolicy | undefined {
    return this.byResourceType.get(type);
  }

  has(service: string): boolean {
    return this.byService.has(service);
  }
}
