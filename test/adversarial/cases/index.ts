// Every case table of the adversarial suite, by the name its describe block gets.
import type { AdversarialCase } from '../case.js';
import { sizeCases, spoofingCases, twoCredentialCases } from './headers.js';
import { jwksCases } from './jwks.js';
import { hostCases, pathCases } from './paths.js';
import { algorithmCases, claimInjectionCases, issuerCases, keyFetchCases, kidCases, shapeCases, structureCases, timeCases, typeCases } from './tokens.js';

export const caseTables: Readonly<Record<string, readonly AdversarialCase[]>> = {
  'JWT algorithms and signatures': algorithmCases,
  'headers that ask keycard to fetch keys': keyFetchCases,
  'kid injection': kidCases,
  'crit, unencoded payloads, nesting, JWE, duplicate members': structureCases,
  'token size and shape': shapeCases,
  'time claims': timeCases,
  'issuer and audience': issuerCases,
  'typ (RFC 9068 at+jwt)': typeCases,
  'claims that would inject into identity headers': claimInjectionCases,
  'path tricks': pathCases,
  'host tricks': hostCases,
  'spoofed identity headers': spoofingCases,
  'header and body size bombs': sizeCases,
  'two credentials at once': twoCredentialCases,
  'misbehaving JWKS servers': jwksCases,
};
