// Shared CLI plumbing: usage errors and the settings file location.
export class UsageError extends Error {
  override name = 'UsageError';
}

export const DEFAULT_CONFIG = 'examples/keycard.yaml';

/** --config, else $KEYCARD_CONFIG, else the example configuration. */
export function configPath(flag: string | undefined): string {
  return flag ?? process.env.KEYCARD_CONFIG ?? DEFAULT_CONFIG;
}

export const HELP = `keycard — external authorization for Envoy

Usage:
  keycard serve  [--config FILE] [--grpc-listen HOST:PORT] [--admin-listen HOST:PORT]
  keycard check  [--config FILE | --server HOST:PORT] --path PATH [--method M] [--host H]
                 [--service S] [--token JWT] [--header "name: value"]... [--source IP]
  keycard lint   [--config FILE]
  keycard token  --key PRIVATE_JWK_FILE --issuer URL --audience AUD --sub SUBJECT [--ttl 1h]
  keycard help | version

The settings file is --config, else $KEYCARD_CONFIG, else ${DEFAULT_CONFIG}.

  serve   run the gRPC ext_authz server and the admin HTTP port (metrics, healthz, readyz)
  check   decide one request and explain the decision: in-process from --config, or by sending
          a real Check to a running keycard with --server. Exit 0 allow, 1 deny, 2 error.
  lint    validate the settings file, every policy file and the seed file; exit 1 on errors
  token   mint a signed JWT for development and tests (never use the example keys in production)
`;
