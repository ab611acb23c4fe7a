// `keycard keygen`: a new private JWK for `internalToken.signingKeyFile`. With --out the private
// key goes to a new file readable by its owner only (never overwritten) and the public JWK is
// printed; without --out the private JWK is printed, for a secret store.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../authn/internal-token-key.js';
import { UsageError } from './usage.js';

/** What keygen offers: the common choices among the algorithms keycard signs with. */
export const KEYGEN_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const satisfies readonly SigningAlgorithm[];
type KeygenAlgorithm = (typeof KEYGEN_ALGORITHMS)[number];

const KID = /^[A-Za-z0-9._-]{1,64}$/;
const RSA_BITS = 3072;

export async function keygen(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      alg: { type: 'string', default: 'ES256' },
      kid: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const alg = values.alg as KeygenAlgorithm;
  if (!KEYGEN_ALGORITHMS.includes(alg)) throw new UsageError(`--alg: "${values.alg}" is not one of ${KEYGEN_ALGORITHMS.join(', ')}`);
  const kid = values.kid ?? defaultKid();
  if (!KID.test(kid)) throw new UsageError(`--kid: "${kid}" must be 1-64 letters, digits, ".", "_" or "-"`);

  const { privateJwk, publicJwk } = await generate(alg, kid);
  if (values.out === undefined) {
    console.log(JSON.stringify(privateJwk, null, 2));
    return 0;
  }
  try {
    // wx: an existing key is never replaced by accident; 0600: the owner alone reads it.
    writeFileSync(values.out, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(code === 'EEXIST' ? `keycard keygen: ${values.out} exists; keygen never overwrites a key` : `keycard keygen: cannot write ${values.out} (${code ?? 'error'})`);
    return 2;
  }
  console.log(JSON.stringify(publicJwk, null, 2));
  return 0;
}

async function generate(alg: KeygenAlgorithm, kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(SIGNING_ALGORITHMS[alg].kty === 'RSA' && { modulusLength: RSA_BITS }) });
  const meta = { kid, alg, use: 'sig' };
  return { privateJwk: { ...(await exportJWK(privateKey)), ...meta }, publicJwk: { ...(await exportJWK(publicKey)), ...meta } };
}

/** `keycard-2025-01-31-1a2b3c`: the date tells keys apart during a rotation. */
function defaultKid(): string {
  return `keycard-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
}
