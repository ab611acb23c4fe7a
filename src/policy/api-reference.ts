// Where a policy's `api: { openapi: FILE }` points: FILE is relative to the policy file's
// directory. The loader and the compiler both resolve it here, so they agree on the key.
import { dirname, resolve } from 'node:path';

export function apiDocumentPath(policyFile: string, openapi: string): string {
  return resolve(dirname(policyFile), openapi);
}

/**
 * `api.openapi` of a parsed policy file before it is validated: the loader needs it to load the
 * description before compiling, and to leave the document out of the policies when it sits in
 * the policy directory.
 */
export function declaredApiDocument(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const api = (value as { api?: unknown }).api;
  if (typeof api !== 'object' || api === null) return undefined;
  const openapi = (api as { openapi?: unknown }).openapi;
  return typeof openapi === 'string' && openapi !== '' ? openapi : undefined;
}
