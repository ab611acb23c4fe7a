// Which AuthZEN callers may ask about a service: the policy's `authzen.callers`. A caller (the
// policy enforcement point asking, not the subject asked about) may ask when it matches one entry,
// every field of that entry: its subject, its issuer, its mTLS peer identity (exact or "/*"
// prefix), or a role it holds for the service. No `authzen.callers`: nobody may ask, so one
// service cannot read another's permissions unless that other's policy lets it.
import type { Identity } from '../authn/identity.js';
import type { CompiledPolicy } from '../policy/types.js';

export function mayAsk(policy: CompiledPolicy, caller: Identity, callerRoles: ReadonlySet<string>): boolean {
  if (!caller.authenticated) return false;
  return policy.authzenCallers.some(
    (entry) =>
      (entry.subject === undefined || entry.subject === caller.subject) &&
      (entry.issuer === undefined || entry.issuer === caller.issuer) &&
      // An mTLS identity's subject is its peer identity (the SPIFFE ID).
      (entry.principal === undefined || (caller.credential === 'mtls' && entry.principal.test(caller.subject))) &&
      (entry.role === undefined || callerRoles.has(entry.role)),
  );
}
