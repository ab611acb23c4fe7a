// The key keycard signs its internal identity tokens with: a private JWK in `signingKeyFile`,
// checked when keycard starts so that a wrong file is a startup error naming it, never a deny on
// the first request. Only asymmetric keys: services verify with the public key alone, which the
// admin port publishes (/.well-known/jwks.json). The file is read synchronously so that a cluster
// primary (which never signs) can publish the same public key before it forks its workers.
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet, JWK } from 'jose';
import { ConfigError, type ConfigErrorCode } from '../errors.js';

/** The algorithms keycard signs with, and the key type (and curve) each needs. */
export const SIGNING_ALGORITHMS = {
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
} as const satisfies Record<string, { kty: string; crv?: string }>;

export type SigningAlgorithm = keyof typeof SIGNING_ALGORITHMS;

/** The members of a public key, by key type: everything else (d, p, q, …) is private. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = { EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'], RSA: ['n', 'e'] };

const MIN_RSA_BITS = 2048;

export interface SigningKeyFile {
  readonly file: string;
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  /** The private JWK as read (for importJWK); never logged. */
  readonly privateJwk: JWK;
  /** The public half, as published: kty, the public members, kid, alg and use "sig". */
  readonly publicJwk: JWK;
}

/**
 * Reads and checks `signingKeyFile`: one private JWK with `kid` and an `alg` keycard signs with,
 * of the key type that alg needs. Throws ConfigError naming the file. Messages never quote the
 * file's content (it is a secret).
 */
export function readSigningKeyFile(file: string): SigningKeyFile {
  const fail = (message: string, code: ConfigErrorCode = 'invalid_value'): never => {
    throw new ConfigError([{ code, file, key: 'internalToken.signingKeyFile', message }]);
  };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return fail(`cannot read the internal token signing key (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'file_unreadable');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input: not repeated here.
    return fail('the internal token signing key is not valid JSON (expected one private JWK)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('the internal token signing key must be a JSON object (one private JWK)');
  if ('keys' in parsed) return fail('the internal token signing key is a JWK set; give one private JWK (`keycard keygen` writes one)');
  const jwk = parsed as JWK;
  if (jwk.kty === 'oct') return fail('the internal token signing key is a symmetric ("oct") key; keycard signs with an asymmetric key (EC, OKP or RSA) that services verify with its public half');
  const { problem, alg } = checkAsymmetricJwk(jwk);
  if (problem) return fail(`the internal token signing key ${problem}`);
  if (!hasPrivatePart(jwk)) return fail('the internal token signing key is a public key; it must be the private JWK (with "d")');
  return { file, alg: alg!, kid: jwk.kid!, privateJwk: jwk, publicJwk: publicHalf(jwk, alg!) };
}

/**
 * Reads `additionalPublicKeysFile`: a JWK set of public keys published next to the signing key
 * (the next key before a switch, the previous one after it). Private keys are refused: this file
 * is published as it is.
 */
export function readAdditionalPublicKeys(file: string, signingKid: string): JWK[] {
  const fail = (message: string, code: ConfigErrorCode = 'invalid_value'): never => {
    throw new ConfigError([{ code, file, key: 'internalToken.additionalPublicKeysFile', message }]);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ? fail(`cannot read the additional public keys (${code})`, 'file_unreadable') : fail('the additional public keys are not valid JSON (expected a JWK set)');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return fail('the additional public keys must be a JWK set: {"keys": [...]}');
  const kids = new Set([signingKid]);
  return keys.map((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null) return fail(`keys[${index}] is not a JWK`);
    const jwk = entry as JWK;
    if (jwk.kty === 'oct') return fail(`keys[${index}] is a symmetric ("oct") key`);
    const { problem, alg } = checkAsymmetricJwk(jwk);
    if (problem) return fail(`keys[${index}] ${problem}`);
    if (hasPrivatePart(jwk)) return fail(`keys[${index}] (kid "${jwk.kid}") is a private key; publish only public keys`);
    if (kids.has(jwk.kid!)) return fail(`keys[${index}]: kid "${jwk.kid}" is used twice (kids must tell the keys apart)`);
    kids.add(jwk.kid!);
    return publicHalf(jwk, alg!);
  });
}

/** The JWK set the admin port publishes: the signing key's public half first, then the additional keys. */
export function publicKeySet(settings: { readonly signingKeyFile: string; readonly additionalPublicKeysFile?: string | undefined }): JSONWebKeySet {
  const signing = readSigningKeyFile(settings.signingKeyFile);
  const additional = settings.additionalPublicKeysFile ? readAdditionalPublicKeys(settings.additionalPublicKeysFile, signing.kid) : [];
  return { keys: [signing.publicJwk, ...additional] };
}

function checkAsymmetricJwk(jwk: JWK): { problem?: string; alg?: SigningAlgorithm } {
  if (typeof jwk.kid !== 'string' || jwk.kid === '') return { problem: 'has no "kid" (services pick the verification key by it)' };
  if (typeof jwk.alg !== 'string') return { problem: `(kid "${jwk.kid}") has no "alg"` };
  if (!Object.hasOwn(SIGNING_ALGORITHMS, jwk.alg)) {
    return { problem: `(kid "${jwk.kid}") has alg "${jwk.alg}"; keycard signs with ${Object.keys(SIGNING_ALGORITHMS).join(', ')}` };
  }
  const alg = jwk.alg as SigningAlgorithm;
  const needs: { kty: string; crv?: string } = SIGNING_ALGORITHMS[alg];
  if (jwk.kty !== needs.kty || (needs.crv !== undefined && jwk.crv !== needs.crv)) {
    const has = `${String(jwk.kty)}${jwk.crv !== undefined ? ` ${String(jwk.crv)}` : ''}`;
    return { problem: `(kid "${jwk.kid}") has alg ${alg}, which needs a ${needs.kty}${needs.crv ? ` ${needs.crv}` : ''} key, not ${has}` };
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') return { problem: `(kid "${jwk.kid}") has use "${String(jwk.use)}"; a signing key has use "sig" or none` };
  if (PUBLIC_MEMBERS[needs.kty]!.some((member) => typeof (jwk as Record<string, unknown>)[member] !== 'string')) {
    return { problem: `(kid "${jwk.kid}") lacks ${PUBLIC_MEMBERS[needs.kty]!.join(', ')}` };
  }
  if (needs.kty === 'RSA' && Buffer.from(jwk.n!, 'base64url').length * 8 < MIN_RSA_BITS) {
    return { problem: `(kid "${jwk.kid}") is an RSA key shorter than ${MIN_RSA_BITS} bits` };
  }
  return { alg };
}

function hasPrivatePart(jwk: JWK): boolean {
  return typeof jwk.d === 'string' && jwk.d !== '';
}

function publicHalf(jwk: JWK, alg: SigningAlgorithm): JWK {
  const members = PUBLIC_MEMBERS[SIGNING_ALGORITHMS[alg].kty]!;
  const out: Record<string, string> = { kty: jwk.kty! };
  for (const member of members) out[member] = (jwk as Record<string, string>)[member]!;
  return { ...out, kid: jwk.kid!, alg, use: 'sig' };
}
