// mTLS workload identity: the peer certificate's identity Envoy reports (`source.principal`: the
// URI SAN, e.g. a SPIFFE ID, or else the subject) as the subject. Behind a trusted proxy that
// terminated the client's TLS, the proxy's x-forwarded-client-cert may be believed instead, when
// the service says so; from any other peer that header is ignored (anyone can write it).
import type { BlockList } from 'node:net';
import { DenyError } from '../../errors.js';
import { inBlockList } from '../../policy/conditions/source-cidr.js';
import { PEER_CARRIER } from '../identity-phase.js';
import type { AuthenticatedIdentity } from '../identity.js';
import { principalProblem } from './peer-principal.js';
import type { CredentialProvider, CredentialRequest, CredentialSpecOf, PresentedCredential } from './types.js';
import { parseXfcc, XfccSyntaxError } from './xfcc.js';

export const XFCC_HEADER = 'x-forwarded-client-cert';

/** How long an mTLS identity is trusted: the connection is re-checked on every request anyway. */
const IDENTITY_LIFETIME_SECONDS = 60;

export interface MtlsOptions {
  /** `network.trustedProxies`: peers whose x-forwarded-client-cert may be believed. */
  readonly trustedProxies: BlockList | undefined;
  readonly now?: () => number;
}

/** Where the principal came from, for messages. */
type Source = 'source.principal' | typeof XFCC_HEADER;

export class MtlsProvider implements CredentialProvider<'mtls'> {
  readonly kind = 'mtls';
  private readonly now: () => number;

  constructor(private readonly options: MtlsOptions) {
    this.now = options.now ?? Date.now;
  }

  find(request: CredentialRequest, spec: CredentialSpecOf<'mtls'>): PresentedCredential | undefined {
    const forwarded = spec.forwardedClientCert && this.options.trustedProxies !== undefined && inBlockList(this.options.trustedProxies, request.peerAddress);
    if (!forwarded) {
      const principal = request.peerPrincipal;
      return principal === undefined ? undefined : this.present(() => principal, 'source.principal');
    }
    // The peer is a trusted proxy: its own certificate identifies the proxy, not the caller.
    // The caller's certificate is what the proxy forwarded; none forwarded is no credential.
    const header = request.header(XFCC_HEADER);
    return header === undefined ? undefined : this.present(() => forwardedPrincipal(header), XFCC_HEADER);
  }

  private present(principal: () => string, source: Source): PresentedCredential {
    return { kind: 'mtls', carrier: PEER_CARRIER, claim: 'certain', verify: async () => this.identity(principal(), source) };
  }

  private identity(principal: string, source: Source): AuthenticatedIdentity {
    const problem = principalProblem(principal);
    if (problem !== undefined) throw new DenyError('invalid_peer_identity', `${source}: ${problem}`);
    return Object.freeze({
      authenticated: true,
      subject: principal,
      issuer: 'mtls',
      credential: 'mtls',
      claims: Object.freeze({ sub: principal }),
      expiresAt: Math.floor(this.now() / 1000) + IDENTITY_LIFETIME_SECONDS,
    });
  }
}

/**
 * The client identity in an x-forwarded-client-cert value: the element appended last (by the
 * proxy nearest keycard's Envoy), its URI SAN (the SPIFFE ID), else its Subject.
 */
export function forwardedPrincipal(header: string): string {
  let elements;
  try {
    elements = parseXfcc(header);
  } catch (error) {
    if (error instanceof XfccSyntaxError) throw new DenyError('invalid_peer_identity', `${XFCC_HEADER} is malformed: ${error.message}`);
    throw error;
  }
  const last = elements[elements.length - 1]!;
  const uris = last.get('URI') ?? [];
  // A workload has one identity; a certificate with several URI SANs does not name one.
  if (uris.length > 1) throw new DenyError('invalid_peer_identity', `${XFCC_HEADER}: the certificate has ${uris.length} URI SANs`);
  const principal = uris[0] ?? single(last.get('Subject'));
  if (principal === undefined) throw new DenyError('invalid_peer_identity', `${XFCC_HEADER}: the last element has neither URI nor Subject`);
  return principal;
}

function single(values: readonly string[] | undefined): string | undefined {
  if (values && values.length > 1) throw new DenyError('invalid_peer_identity', `${XFCC_HEADER}: ${values.length} Subject values in one element`);
  return values?.[0];
}
