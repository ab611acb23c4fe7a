// Compact JWS tokens built by hand, for cases a JWT library would refuse to produce: `alg: none`,
// duplicate JSON members, `crit`, `b64: false`, nested tokens, odd header values. The header and
// payload are JSON *text*, base64url-encoded as given; the signature is a real one made with
// node:crypto, so a case proves what keycard does with a token it cannot dismiss as forged.
import { createHmac, KeyObject, sign } from 'node:crypto';
import type { TestKey } from '../helpers/keys.js';

export const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

/** How the signature part is made. */
export type Signer =
  | { readonly kind: 'key'; readonly key: TestKey }
  | { readonly kind: 'hmac'; readonly secret: string | Uint8Array; readonly hash?: 'sha256' | 'sha384' | 'sha512' }
  | { readonly kind: 'raw'; readonly signature: string };

/** JWS signature of `input` as the key's algorithm defines it (ECDSA in IEEE P1363 form). */
export function signWithKey(key: TestKey, input: string): string {
  const privateKey = KeyObject.from(key.privateKey);
  const data = Buffer.from(input);
  switch (key.alg) {
    case 'ES256':
      return b64url(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
    case 'RS256':
      return b64url(sign('sha256', data, privateKey));
    case 'PS256':
      return b64url(sign('sha256', data, { key: privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }));
    case 'EdDSA':
      return b64url(sign(null, data, privateKey));
    default:
      throw new Error(`no signer for ${key.alg}`);
  }
}

function signature(signer: Signer, input: string): string {
  switch (signer.kind) {
    case 'key':
      return signWithKey(signer.key, input);
    case 'hmac':
      return b64url(createHmac(signer.hash ?? 'sha256', signer.secret).update(input).digest());
    case 'raw':
      return signer.signature;
  }
}

/** `base64url(header).base64url(payload).signature`, the signature over exactly those bytes. */
export function compact(headerJson: string, payloadJson: string, signer: Signer): string {
  return compactRaw(b64url(headerJson), b64url(payloadJson), signer);
}

/** A compact token from already-encoded parts (for unencoded payloads and broken encodings). */
export function compactRaw(header: string, payload: string, signer: Signer): string {
  const input = `${header}.${payload}`;
  return `${input}.${signature(signer, input)}`;
}

/** Seconds since the epoch. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A JSON object as text, keeping members in order and allowing a name twice (unlike JSON.stringify). */
export function jsonMembers(members: readonly (readonly [string, unknown])[]): string {
  return `{${members.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`).join(',')}}`;
}
