// The identity phase: find the credentials a service accepts in the request, settle which one
// counts (configured precedence, or reject two as ambiguous), verify that one. No credential is
// the anonymous caller; a credential that fails verification is a deny, never anonymous.
import { DenyError } from '../errors.js';
import type { AuthenticationConfig, CredentialProvider, CredentialProviders, CredentialRequest, CredentialSpec, PresentedCredential } from './credentials/types.js';
import { ANONYMOUS, type CredentialKind, type Identity } from './identity.js';

export class IdentityPhase {
  constructor(private readonly providers: CredentialProviders) {}

  async authenticate(request: CredentialRequest, config: AuthenticationConfig): Promise<Identity> {
    const chosen = this.choose(this.present(request, config), config);
    return chosen ? chosen.verify() : ANONYMOUS;
  }

  /** The credentials in the request, one per carrier, in configured order. */
  private present(request: CredentialRequest, config: AuthenticationConfig): PresentedCredential[] {
    const byCarrier = new Map<string, PresentedCredential>();
    for (const spec of config.credentials) {
      const found = this.provider(spec).find(request, spec as never);
      if (!found) continue;
      const earlier = byCarrier.get(found.carrier);
      // Two methods read the same place: the first that recognizes the credential's shape wins.
      if (!earlier || (earlier.claim === 'fallback' && found.claim === 'certain')) byCarrier.set(found.carrier, found);
    }
    return [...byCarrier.values()];
  }

  private choose(present: PresentedCredential[], config: AuthenticationConfig): PresentedCredential | undefined {
    const inRequest = present.filter((credential) => credential.carrier !== PEER_CARRIER);
    if (inRequest.length > 1 && config.onMultiple === 'reject') {
      throw new DenyError('ambiguous_credentials', `credentials in ${inRequest.map((credential) => credential.carrier).join(' and ')}`);
    }
    const order = (credential: PresentedCredential) => config.credentials.findIndex((spec) => spec.kind === credential.kind);
    return present.sort((a, b) => order(a) - order(b))[0];
  }

  private provider(spec: CredentialSpec): CredentialProvider {
    const provider = this.providers[spec.kind] as CredentialProvider | undefined;
    // compile.ts refuses a policy naming a kind that is not configured; this is the backstop.
    if (!provider) throw new DenyError('internal_error', `no ${spec.kind} credential provider is configured`);
    return provider;
  }
}

/** The carrier of the connection's own identity (mTLS): never part of an ambiguity. */
export const PEER_CARRIER = 'peer';

/** Kinds a policy may name given what the settings file configures (for load-time errors). */
export type AvailableCredentials = ReadonlySet<CredentialKind>;
