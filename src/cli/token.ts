// Mints a JWT with a private JWK, for development and tests.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importJWK, SignJWT, type JWK } from 'jose';
import { parseDuration } from '../config/duration.js';
import { UsageError } from './usage.js';

export async function token(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      key: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      sub: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      claim: { type: 'string', multiple: true, default: [] },
    },
  });
  const { key, issuer, audience, sub } = values;
  if (!key || !issuer || !audience || !sub) throw new UsageError('token needs --key, --issuer, --audience and --sub');
  const ttlMs = parseDuration(values.ttl);
  if (ttlMs === undefined) throw new UsageError(`--ttl: "${values.ttl}" is not a duration`);
  const jwk = JSON.parse(readFileSync(key, 'utf8')) as JWK;
  if (!jwk.alg || !jwk.kid) throw new UsageError(`${key}: the JWK needs "alg" and "kid"`);
  const extra = Object.fromEntries(
    values.claim.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new UsageError(`--claim: "${pair}" is not NAME=VALUE`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT(extra)
    .setProtectedHeader({ alg: jwk.alg, kid: jwk.kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.round(ttlMs / 1000))
    .setJti(crypto.randomUUID())
    .sign(await importJWK(jwk, jwk.alg));
  console.log(jwt);
}
